using System.Text.RegularExpressions;

namespace XnnKleidi.Cli.Model;

/// <summary>`--layers REGEX`: which of a model's layers run, by name.</summary>
internal static class LayerFilter
{
    /// <summary>A pattern given on the command line must not stall the run on a pathological input.</summary>
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(1);

    /// <summary>The compiled pattern, or null with <paramref name="error"/> saying why it is not a regular expression.</summary>
    public static Regex? TryCreate(string pattern, out string? error)
    {
        try
        {
            error = null;
            return new Regex(pattern, RegexOptions.CultureInvariant, MatchTimeout);
        }
        catch (ArgumentException e)
        {
            error = $"'{pattern}' is not a regular expression: {e.Message}";
            return null;
        }
    }
}
