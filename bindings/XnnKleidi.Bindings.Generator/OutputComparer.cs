using System.Text;

namespace XnnKleidi.Bindings.Generator;

/// <summary>Compares freshly generated files with the committed ones and describes the difference as a unified diff.</summary>
public static class OutputComparer
{
    private const int Context = 3;

    /// <summary>The differences, or an empty string when the folder holds exactly the expected files.</summary>
    public static string Compare(IReadOnlyDictionary<string, string> generated, string committedDirectory, string displayDirectory)
    {
        var builder = new StringBuilder();
        var committed = Directory.Exists(committedDirectory)
            ? Directory.GetFiles(committedDirectory).Select(Path.GetFileName).OfType<string>().ToHashSet(StringComparer.Ordinal)
            : [];
        foreach (var name in generated.Keys.Union(committed).Order(StringComparer.Ordinal))
        {
            var path = Path.Combine(committedDirectory, name);
            var oldText = committed.Contains(name) ? File.ReadAllText(path) : null;
            var newText = generated.TryGetValue(name, out var text) ? text : null;
            if (oldText == newText)
            {
                continue;
            }

            var display = $"{displayDirectory}/{name}";
            builder.Append("--- ").Append(oldText is null ? "/dev/null" : display + " (committed)").Append('\n');
            builder.Append("+++ ").Append(newText is null ? "/dev/null" : display + " (generated)").Append('\n');
            AppendHunks(builder, Lines(oldText), Lines(newText));
        }

        return builder.ToString();
    }

    private static string[] Lines(string? text) =>
        text is null || text.Length == 0 ? [] : text.TrimEnd('\n').Split('\n');

    private static void AppendHunks(StringBuilder builder, string[] oldLines, string[] newLines)
    {
        var edits = Edits(oldLines, newLines);
        var index = 0;
        while (index < edits.Count)
        {
            if (edits[index].Kind == ' ')
            {
                index++;
                continue;
            }

            // A hunk runs from a change until more than 2 * Context unchanged lines follow it.
            var start = Math.Max(0, index - Context);
            var end = index;
            var lastChange = index;
            while (end < edits.Count && end - lastChange <= 2 * Context)
            {
                if (edits[end].Kind != ' ')
                {
                    lastChange = end;
                }

                end++;
            }

            end = Math.Min(edits.Count, lastChange + Context + 1);
            var oldCount = edits.Skip(start).Take(end - start).Count(edit => edit.Kind != '+');
            var newCount = edits.Skip(start).Take(end - start).Count(edit => edit.Kind != '-');

            // As in diff -u, an empty side starts at the line before the hunk (0 for an empty file).
            var oldStart = edits[start].OldIndex + (oldCount == 0 ? 0 : 1);
            var newStart = edits[start].NewIndex + (newCount == 0 ? 0 : 1);
            builder.Append($"@@ -{oldStart},{oldCount} +{newStart},{newCount} @@\n");
            for (var i = start; i < end; i++)
            {
                builder.Append(edits[i].Kind).Append(edits[i].Text).Append('\n');
            }

            index = end;
        }
    }

    private readonly record struct Edit(char Kind, string Text, int OldIndex, int NewIndex);

    /// <summary>A line diff: common prefix and suffix, then a longest common subsequence of the middle.</summary>
    private static List<Edit> Edits(string[] oldLines, string[] newLines)
    {
        var prefix = 0;
        while (prefix < oldLines.Length && prefix < newLines.Length && oldLines[prefix] == newLines[prefix])
        {
            prefix++;
        }

        var suffix = 0;
        while (suffix < oldLines.Length - prefix && suffix < newLines.Length - prefix
            && oldLines[^(suffix + 1)] == newLines[^(suffix + 1)])
        {
            suffix++;
        }

        var edits = new List<Edit>();
        for (var i = 0; i < prefix; i++)
        {
            edits.Add(new Edit(' ', oldLines[i], i, i));
        }

        var oldMiddle = oldLines.Length - prefix - suffix;
        var newMiddle = newLines.Length - prefix - suffix;
        if ((long)oldMiddle * newMiddle > 25_000_000)
        {
            // Too large to align line by line; show the middle as replaced.
            for (var i = 0; i < oldMiddle; i++)
            {
                edits.Add(new Edit('-', oldLines[prefix + i], prefix + i, prefix));
            }

            for (var j = 0; j < newMiddle; j++)
            {
                edits.Add(new Edit('+', newLines[prefix + j], prefix + oldMiddle, prefix + j));
            }
        }
        else
        {
            var lengths = new int[oldMiddle + 1, newMiddle + 1];
            for (var i = oldMiddle - 1; i >= 0; i--)
            {
                for (var j = newMiddle - 1; j >= 0; j--)
                {
                    lengths[i, j] = oldLines[prefix + i] == newLines[prefix + j]
                        ? lengths[i + 1, j + 1] + 1
                        : Math.Max(lengths[i + 1, j], lengths[i, j + 1]);
                }
            }

            int oi = 0, ni = 0;
            while (oi < oldMiddle || ni < newMiddle)
            {
                if (oi < oldMiddle && ni < newMiddle && oldLines[prefix + oi] == newLines[prefix + ni])
                {
                    edits.Add(new Edit(' ', oldLines[prefix + oi], prefix + oi, prefix + ni));
                    oi++;
                    ni++;
                }
                else if (oi < oldMiddle && (ni == newMiddle || lengths[oi + 1, ni] >= lengths[oi, ni + 1]))
                {
                    // Removed lines before added ones, as diff -u prints a changed line.
                    edits.Add(new Edit('-', oldLines[prefix + oi], prefix + oi, prefix + ni));
                    oi++;
                }
                else
                {
                    edits.Add(new Edit('+', newLines[prefix + ni], prefix + oi, prefix + ni));
                    ni++;
                }
            }
        }

        for (var k = suffix; k > 0; k--)
        {
            edits.Add(new Edit(' ', oldLines[^k], oldLines.Length - k, newLines.Length - k));
        }

        return edits;
    }
}
