using System.Text;

namespace XnnKleidi.Bindings.Generator;

/// <summary>
/// Command line: <c>generate</c> writes bindings/Generated/, <c>verify</c> regenerates into memory and fails with a
/// diff when the committed files differ.
/// </summary>
public static class Program
{
    private const string Usage = """
        Usage:
          XnnKleidi.Bindings.Generator generate --sources FILE [options]
          XnnKleidi.Bindings.Generator verify   --sources FILE [options]

        generate  writes the raw P/Invoke layer into the output folder.
        verify    regenerates it in memory and exits with 1 and a diff if the output folder differs.

        Options:
          --sources FILE       CMake file from cmake/fetch-sources.sh that names the pinned source folders (required)
          --settings FILE      generator settings (default: bindings/bindings.json in the repository)
          --output DIR         generated folder (default: bindings/Generated in the repository)
          --header NAME=PATH   parse PATH in place of the header NAME (xnnpack.h, ...); repeatable
          --library FILE       check that FILE exports every generated function; repeatable
                               (default: every artifacts/native/<rid>/libxnnkleidi.so that exists)
          --clang PROGRAM      clang to run (default: clang-14)
        """;

    public static int Main(string[] args)
    {
        try
        {
            return Run(args, Console.Out);
        }
        catch (GeneratorException exception)
        {
            Console.Error.WriteLine("error: " + exception.Message);
            return 2;
        }
    }

    public static int Run(string[] args, TextWriter output)
    {
        if (args.Length == 0 || args[0] is not ("generate" or "verify"))
        {
            output.WriteLine(Usage);
            return args.Length == 1 && args[0] is "--help" or "-h" ? 0 : 2;
        }

        var command = args[0];
        string? sources = null, settings = null, outputDirectory = null, clang = null;
        var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
        var libraries = new List<string>();
        for (var i = 1; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new GeneratorException($"{args[i]} needs a value.\n{Usage}");
            switch (args[i])
            {
                case "--sources": sources = value; break;
                case "--settings": settings = value; break;
                case "--output": outputDirectory = value; break;
                case "--clang": clang = value; break;
                case "--library": libraries.Add(value); break;
                case "--header":
                    var parts = value.Split('=', 2);
                    if (parts.Length != 2)
                    {
                        throw new GeneratorException($"--header takes NAME=PATH, not '{value}'.");
                    }

                    overrides[parts[0]] = parts[1];
                    break;
                default: throw new GeneratorException($"Unknown option {args[i]}.\n{Usage}");
            }

            i++;
        }

        if (sources is null)
        {
            throw new GeneratorException("--sources is required: the file that `cmake/fetch-sources.sh FILE` writes.");
        }

        var root = settings is null ? FindRepositoryRoot() : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(settings))!, ".."));
        settings ??= Path.Combine(root, "bindings", "bindings.json");
        outputDirectory = Path.GetFullPath(outputDirectory ?? Path.Combine(root, "bindings", "Generated"));
        var request = new GenerationRequest(root, Path.GetFullPath(settings), Path.GetFullPath(sources), overrides, clang ?? "clang-14");
        var result = BindingsGenerator.Generate(request);
        foreach (var line in result.Report)
        {
            output.WriteLine(line);
        }

        var exportsOk = true;
        var librarySettings = GeneratorSettings.Load(request.SettingsPath);
        foreach (var library in libraries.Count > 0 ? libraries : ExportCheck.FindBuiltLibraries(root, librarySettings.LibraryName))
        {
            exportsOk &= ExportCheck.Check(Path.GetFullPath(library), result, root, output);
        }

        var display = Path.GetRelativePath(root, outputDirectory).Replace('\\', '/');
        if (command == "generate")
        {
            Write(result.Files, outputDirectory);
            output.WriteLine($"Wrote {result.Files.Count} files to {display}.");
            return exportsOk ? 0 : 1;
        }

        var difference = OutputComparer.Compare(result.Files, outputDirectory, display);
        if (difference.Length > 0)
        {
            output.Write(difference);
            output.WriteLine($"The committed bindings in {display} differ from what the headers and settings generate.");
            output.WriteLine("Regenerate them with ./build.sh --target=Bindings and commit the result.");
            return 1;
        }

        output.WriteLine($"{display} is up to date.");
        return exportsOk ? 0 : 1;
    }

    /// <summary>Writes the files with LF endings and no BOM, and removes files the generator no longer writes.</summary>
    public static void Write(IReadOnlyDictionary<string, string> files, string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var stale in Directory.GetFiles(directory).Where(path => !files.ContainsKey(Path.GetFileName(path))))
        {
            File.Delete(stale);
        }

        foreach (var (name, text) in files)
        {
            File.WriteAllText(Path.Combine(directory, name), text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(Directory.GetCurrentDirectory()); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "bindings", "bindings.json")))
            {
                return directory.FullName;
            }
        }

        throw new GeneratorException("Run from inside the repository, or pass --settings bindings/bindings.json.");
    }
}
