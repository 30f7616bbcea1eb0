using System.CommandLine;
using System.CommandLine.Help;
using XnnKleidi.Cli.Commands;

namespace XnnKleidi.Cli;

/// <summary>The `xnnkleidi` command line: `info`, `bench` and `compare`.</summary>
internal static class Program
{
    /// <summary>Exit code for bad arguments (an unknown preset, a malformed shape, ...).</summary>
    public const int BadArguments = 2;

    /// <summary>Exit code for a failed check or a run that could not complete.</summary>
    public const int Failed = 1;

    public static int Main(string[] args)
    {
        Command root = BuildRoot();
        ParseResult parse = root.Parse(args);
        if (parse.Action is not HelpAction && parse.Errors.Count > 0)
        {
            // One line, no stack trace, no help dump: what was wrong and where to read more.
            Console.Error.WriteLine($"xnnkleidi: error: {parse.Errors[0].Message} (see `xnnkleidi {CommandPath(parse)}--help`)");
            return BadArguments;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"xnnkleidi: error: {e.Message}");
            return BadArguments;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"xnnkleidi: error: {e.GetType().Name}: {e.Message}");
            return Failed;
        }
    }

    private static string CommandPath(ParseResult parse) =>
        parse.CommandResult.Command.Parents.Any() ? parse.CommandResult.Command.Name + " " : "";

    /// <summary>
    /// The command tree. The root is named `xnnkleidi` rather than after the process, so that
    /// help reads the same under `dotnet run`, the app host and its `xnnkleidi` copy.
    /// </summary>
    public static Command BuildRoot()
    {
        var root = new Command("xnnkleidi",
            "xnnkleidi: does KleidiAI activation packing pay on this CPU? Measures quantized linear layers through " +
            "XnnKleidi (XNNPACK with Arm KleidiAI kernels) with packing off, on and auto, side by side with the same " +
            "graph from C, ONNX Runtime and the CPU's measured peak.\n\n" +
            "Examples:\n" +
            "  xnnkleidi info\n" +
            "  xnnkleidi bench --preset vit-b16 --packing off,on,auto --threads 1,2 --compare native,ort,peak\n" +
            "  xnnkleidi bench --preset all --check\n" +
            "  xnnkleidi bench --model vit-b16 --packing off,on,auto --threads 1,2 --out vit.json\n" +
            "  xnnkleidi compare epyc.json graviton.json\n" +
            "  xnnkleidi inspect model.safetensors\n" +
            "  xnnkleidi tune --preset vit-b16 --threads 1,2 --cache tuning.json");
        root.Add(new HelpOption());
        root.Add(new VersionOption());
        root.Add(InfoCommand.Create());
        root.Add(BenchCommand.Create());
        root.Add(CompareCommand.Create());
        root.Add(InspectCommand.Create());
        root.Add(TuneCommand.Create());
        root.SetAction((Func<ParseResult, int>)(_ => throw new UsageException("no command given: use `xnnkleidi info`, `bench`, `compare`, `inspect` or `tune` (see `xnnkleidi --help`)")));
        return root;
    }
}

/// <summary>A mistake in the command line found after parsing (e.g. an unwritable --out); exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
