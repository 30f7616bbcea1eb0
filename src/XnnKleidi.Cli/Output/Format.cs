using System.Globalization;

namespace XnnKleidi.Cli.Output;

/// <summary>Number formatting shared by the table, CSV and JSON writers (invariant culture).</summary>
internal static class Format
{
    public static string Microseconds(double nanoseconds) => (nanoseconds / 1000.0) switch
    {
        < 10 => (nanoseconds / 1000.0).ToString("0.000", CultureInfo.InvariantCulture),
        < 100 => (nanoseconds / 1000.0).ToString("0.00", CultureInfo.InvariantCulture),
        < 1000 => (nanoseconds / 1000.0).ToString("0.0", CultureInfo.InvariantCulture),
        var us => us.ToString("0", CultureInfo.InvariantCulture),
    };

    public static string Ratio(double? value) => value is double v ? v.ToString("0.00", CultureInfo.InvariantCulture) : "";

    public static string Number(double? value, string format = "0.0") =>
        value is double v ? v.ToString(format, CultureInfo.InvariantCulture) : "";

    public static string Invariant(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
