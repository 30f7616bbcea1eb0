using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace XnnKleidi.Cli.Commands;

/// <summary>Options whose value is a comma-separated list, which may also be repeated.</summary>
internal static class OptionParsing
{
    /// <summary>
    /// An option taking "a,b,c" (and repeatable: --x a --x b,c). Each item goes through
    /// <paramref name="parseItem"/>, which returns an error message or null; duplicates are dropped.
    /// Absent, its value is null: the caller applies the default (which the description names),
    /// because the help would otherwise print the list's type rather than "off,on,auto".
    /// </summary>
    public static Option<List<T>> ListOption<T>(
        string name, string description, string helpName, Func<string, (T Value, string? Error)> parseItem)
    {
        return new Option<List<T>>(name)
        {
            Description = description,
            HelpName = helpName,
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
            CustomParser = result =>
            {
                var values = new List<T>();
                foreach (Token token in result.Tokens)
                {
                    foreach (string item in token.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        (T? value, string? error) = parseItem(item);
                        if (error != null)
                        {
                            result.AddError($"{name}: {error}");
                            return [];
                        }
                        if (!values.Contains(value))
                        {
                            values.Add(value);
                        }
                    }
                }
                if (values.Count == 0)
                {
                    result.AddError($"{name}: no value given");
                }
                return values;
            },
        };
    }

    /// <summary>Parses one of a fixed set of lower-case names into an enum value.</summary>
    /// <summary>
    /// One of <paramref name="accepted"/> by its name, case-insensitively; the error lists them in lower case, in the
    /// order given (the order the help text documents, not the enum's).
    /// </summary>
    public static (TEnum Value, string? Error) EnumItem<TEnum>(string item, string what, params TEnum[] accepted) where TEnum : struct, Enum
    {
        foreach (TEnum value in accepted)
        {
            if (string.Equals(value.ToString(), item, StringComparison.OrdinalIgnoreCase))
            {
                return (value, null);
            }
        }

        string names = string.Join(", ", accepted.Select(value => value.ToString().ToLowerInvariant()));
        return (default, $"unknown {what} '{item}' (expected {names})");
    }

    public static (int Value, string? Error) PositiveInt(string item, string what)
    {
        if (int.TryParse(item, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value > 0)
        {
            return (value, null);
        }

        return (0, $"{what} must be positive integers, got '{item}'");
    }

    /// <summary>Adds a validator that the option's value is at least <paramref name="minimum"/>.</summary>
    public static Option<int> AtLeast(this Option<int> option, int minimum)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < minimum)
            {
                result.AddError($"{option.Name} must be at least {minimum.ToString(CultureInfo.InvariantCulture)}");
            }
        });
        return option;
    }

    /// <summary>A `--plot FILE.png|FILE.svg` option: the chart's format follows the file's extension, so no other is accepted.</summary>
    public static Option<string?> ChartPathOption(string description)
    {
        var option = new Option<string?>("--plot")
        {
            Description = description,
            HelpName = "FILE.png|FILE.svg",
        };
        option.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string?>();
            if (value != null && !value.EndsWith(".png", StringComparison.OrdinalIgnoreCase) && !value.EndsWith(".svg", StringComparison.OrdinalIgnoreCase))
            {
                result.AddError($"--plot: '{value}' must end in .png or .svg");
            }
        });
        return option;
    }
}
