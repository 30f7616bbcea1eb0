// Orchestrates XnnKleidi's build: pinned sources -> native libraries per RID ->
// generated bindings -> managed library -> tests. Each layer's real work lives in
// its own folder (native/, bindings/, src/, tests/); this file only sequences it.
//
//   ./build.sh --target=Native [--rid=linux-x64|linux-arm64|win-x64|linux-musl-x64|linux-musl-arm64]
//   ./build.sh --target=Test            (the default: everything testable)
//   ./build.sh --target=Clean

var target = Argument("target", "Test");
var ridArgument = Argument("rid", "all");
var configuration = Argument("configuration", "Release");

var repoRoot = MakeAbsolute(Directory("."));
var artifactsDir = repoRoot.Combine("artifacts");
var buildRoot = artifactsDir.Combine("build");
var nativeOutRoot = artifactsDir.Combine("native");
var sourcesCacheFile = buildRoot.CombineWithFilePath("sources.cmake");

// CPU models the arm64 managed suite runs under (QEMU 11 user mode). They decide which
// KleidiAI kernels exist: `max` has SME2, SME, i8mm and dotprod (streaming vector length
// 256 bits by default); `cortex-a76` dotprod only; `cortex-a72` neither. The whole suite
// runs on these three, which between them reach every code path of the library.
var arm64CpuModels = new[] { "max", "cortex-a76", "cortex-a72" };
// The other models differ only in which kernels run (SME2 tiles at SVL 128 and 512; i8mm
// without SME twice), so they run the suites that depend on the kernel: selection, names,
// the cap, and the numerics of the packed and fp32 paths. Each full run costs minutes
// under QEMU; docs/testing.md gives the measured times.
var arm64KernelModels = new[]
{
    "max,sme-default-vector-length=16", "max,sme-default-vector-length=64", "max,sme=off", "neoverse-v1",
};
// The suites that carry the NUnit category KernelDependent (tests/XnnKleidi.Tests/Support/TestCategories.cs).
const string kernelSuitesFilter = "TestCategory=KernelDependent";
// The shipped libraries link against bullseye's glibc 2.31 (see the toolchain files),
// so that they load on Debian 11 / RHEL 8 and later; the artifact check holds them to it.
const string maxGlibc = "2.31";

// The platforms this machine builds, one row each; the native tasks iterate them, so a new platform is a new
// row. How each runs its programs: natively, under the pinned QEMU, or under Wine (cmake/run-under-wine.sh).
enum Runner { Native, Qemu, Wine }
sealed record NativePlatform(
    string Rid,
    string Toolchain,
    string LibraryFile,
    string ExecutableSuffix,
    Runner Runner,
    // XNNPACK's own kernel tests are built and run for this RID (TestXnnpackKernels).
    bool XnnpackKernelTests,
    // The NuGet package carries this RID's library (Pack).
    bool Packed,
    // The .NET tool (XnnKleidi.Cli) carries this RID's library, and the C harness where it is built (Pack). Not on
    // musl: ONNX Runtime, which `bench --compare ort` runs, has no musl build, and no .NET runs on musl here.
    bool InTool);
var platforms = new[]
{
    new NativePlatform("linux-x64", "cmake/x86_64-linux-gnu.toolchain.cmake", "libxnnkleidi.so", "", Runner.Native, XnnpackKernelTests: true, Packed: true, InTool: true),
    new NativePlatform("linux-arm64", "cmake/aarch64-linux-gnu.toolchain.cmake", "libxnnkleidi.so", "", Runner.Qemu, XnnpackKernelTests: true, Packed: true, InTool: true),
    // MinGW-w64 (Debian's gcc 12) and Wine 8: every x86-64 kernel runs there, KleidiAI is Arm-only.
    new NativePlatform("win-x64", "cmake/x86_64-w64-mingw32.toolchain.cmake", "libxnnkleidi.dll", ".exe", Runner.Wine, XnnpackKernelTests: true, Packed: true, InTool: true),
    // musl 1.2.3 (Alpine and other musl distributions): Debian's musl-tools natively, bookworm's musl for arm64 under
    // QEMU with that root. No .NET runtime runs on musl here: their C smoke tests and artifact checks (TestNative) and
    // the package's own checks of these files (Pack) are what stands behind them.
    new NativePlatform("linux-musl-x64", "cmake/x86_64-linux-musl.toolchain.cmake", "libxnnkleidi.so", "", Runner.Native, XnnpackKernelTests: false, Packed: true, InTool: false),
    new NativePlatform("linux-musl-arm64", "cmake/aarch64-linux-musl.toolchain.cmake", "libxnnkleidi.so", "", Runner.Qemu, XnnpackKernelTests: false, Packed: true, InTool: false),
};
var allRids = platforms.Select(platform => platform.Rid).ToArray();
var packedRids = platforms.Where(platform => platform.Packed).Select(platform => platform.Rid).ToArray();
// The package's native libraries as "rid/file" under artifacts/native/, what the library's project packs.
var packedLibraries = platforms.Where(platform => platform.Packed).Select(platform => $"{platform.Rid}/{platform.LibraryFile}").ToArray();
// The tool's native files, the same way: the library, and the C harness of `bench --compare native,peak`, which is not
// built for Windows (its peak probe reads the CPU through Linux system calls).
var toolNativeFiles = platforms.Where(platform => platform.InTool)
    .SelectMany(platform => platform.Rid.StartsWith("win-")
        ? new[] { $"{platform.Rid}/{platform.LibraryFile}" }
        : new[] { $"{platform.Rid}/{platform.LibraryFile}", $"{platform.Rid}/xnnkleidi-bench{platform.ExecutableSuffix}" })
    .ToArray();
NativePlatform[] SelectedPlatforms()
{
    if (ridArgument == "all") return platforms;
    var selected = platforms.Where(platform => platform.Rid == ridArgument).ToArray();
    if (selected.Length == 0)
        throw new ArgumentException($"--rid={ridArgument} is not supported here; use one of: all, {string.Join(", ", allRids)}");
    return selected;
}
string[] SelectedRids() => SelectedPlatforms().Select(platform => platform.Rid).ToArray();

DirectoryPath NativeBuildDir(string rid) => buildRoot.Combine(rid);

// The value a line `set(NAME "value" ...)` of the file fetch-sources.sh writes gives.
string SourcesValue(string name)
{
    var text = System.IO.File.ReadAllText(sourcesCacheFile.FullPath);
    var match = System.Text.RegularExpressions.Regex.Match(text, $"set\\({name} \"([^\"]+)\"");
    if (!match.Success)
        throw new CakeException($"{sourcesCacheFile} does not set {name}; run the Sources target");
    return match.Groups[1].Value;
}

// The root a RID's library is linked against, and arm64 tests run on: glibc 2.31, or musl for linux-musl-arm64.
string Sysroot(string rid) => SourcesValue("XNNKLEIDI_SYSROOT_" + rid.ToUpperInvariant().Replace('-', '_'));
// The pinned QEMU user-mode emulators (cmake/sources.lock): every emulated run uses them,
// never the machine's qemu-user-static (Debian 12's 7.2 raises SIGILL on SME2 code).
string QemuAarch64() => SourcesValue("XNNKLEIDI_QEMU_AARCH64");
string QemuX86_64() => SourcesValue("XNNKLEIDI_QEMU_X86_64");

// Runs a program and fails the build on a non-zero exit, naming the command.
#nullable enable
void Run(string program, string arguments, DirectoryPath? workingDirectory = null, IDictionary<string, string>? environment = null)
{
    Information($"> {program} {arguments}");
    var settings = new ProcessSettings
    {
        Arguments = arguments,
        WorkingDirectory = workingDirectory ?? repoRoot,
        EnvironmentVariables = environment,
    };
    var exitCode = StartProcess(program, settings);
    if (exitCode != 0)
        throw new CakeException($"'{program} {arguments}' failed with exit code {exitCode}");
}

// Runs a program and returns its standard output lines, failing on a non-zero exit.
List<string> Capture(string program, string arguments)
{
    var settings = new ProcessSettings { Arguments = arguments, WorkingDirectory = repoRoot, RedirectStandardOutput = true };
    var exitCode = StartProcess(program, settings, out var lines);
    if (exitCode != 0)
        throw new CakeException($"'{program} {arguments}' failed with exit code {exitCode}");
    return lines.ToList();
}

// Runs a program and writes its standard output to a file, failing on a non-zero exit.
void RunToFile(string program, string arguments, IDictionary<string, string> environment, FilePath file)
{
    Information($"> {program} {arguments} > {file}");
    var settings = new ProcessSettings { Arguments = arguments, WorkingDirectory = repoRoot, EnvironmentVariables = environment, RedirectStandardOutput = true };
    var exitCode = StartProcess(program, settings, out var lines);
    if (exitCode != 0)
        throw new CakeException($"'{program} {arguments}' failed with exit code {exitCode}");
    System.IO.File.WriteAllLines(file.FullPath, lines);
}

// Replaces a file by renaming a finished copy over it: a process that has the old
// library mapped (a test or benchmark still running) keeps its pages, where an
// in-place overwrite would kill it with SIGBUS.
void ReplaceFile(FilePath source, FilePath destination)
{
    var temporary = destination.FullPath + ".tmp";
    System.IO.File.Copy(source.FullPath, temporary, overwrite: true);
    System.IO.File.Move(temporary, destination.FullPath, overwrite: true);
}

void ConfigureNative(NativePlatform platform, DirectoryPath buildDir, string extraOptions)
{
    var toolchain = $" -DCMAKE_TOOLCHAIN_FILE=\"{repoRoot.CombineWithFilePath(platform.Toolchain)}\"";
    Run("cmake", $"-S native -B \"{buildDir}\" -G Ninja -C \"{sourcesCacheFile}\" -DCMAKE_BUILD_TYPE={configuration}{toolchain} {extraOptions}");
}

// The program and arguments that run one of a platform's native programs on this machine: natively, under the
// pinned QEMU with a CPU model, or under Wine, which finds the library in dllDirectory.
(string Program, string Arguments) NativeCommand(NativePlatform platform, FilePath program, DirectoryPath dllDirectory, string cpu = "max") =>
    platform.Runner switch
    {
        Runner.Qemu => (QemuAarch64(), $"-L {Sysroot(platform.Rid)} -cpu {cpu} \"{program}\""),
        Runner.Wine => ("bash", $"cmake/run-under-wine.sh --dll-dir \"{dllDirectory}\" \"{program}\""),
        _ => (program.FullPath, ""),
    };

Task("Clean")
    .Description("Deletes artifacts/ (downloads and ccache live outside the work tree and stay).")
    .Does(() =>
{
    if (DirectoryExists(artifactsDir))
        DeleteDirectory(artifactsDir, new DeleteDirectorySettings { Recursive = true, Force = true });
    foreach (var dir in GetDirectories("./**/bin").Concat(GetDirectories("./**/obj")))
        DeleteDirectory(dir, new DeleteDirectorySettings { Recursive = true, Force = true });
});

Task("Sources")
    .Description("Fetches, verifies and unpacks the pinned native sources (cmake/sources.lock).")
    .Does(() =>
{
    EnsureDirectoryExists(buildRoot);
    Run("bash", $"cmake/fetch-sources.sh \"{sourcesCacheFile}\"");
});

Task("Native")
    .Description("Builds the library per RID (libxnnkleidi.so, libxnnkleidi.dll) into artifacts/native/<rid>/ and checks it.")
    .IsDependentOn("Sources")
    .Does(() =>
{
    var includeOut = nativeOutRoot.Combine("include");
    EnsureDirectoryExists(includeOut);
    foreach (var platform in SelectedPlatforms())
    {
        var rid = platform.Rid;
        var buildDir = NativeBuildDir(rid);
        // XNNPACK's kernel tests are defined in this tree too (TestXnnpackKernels builds
        // them), so that they reuse the library's microkernel objects; `all` leaves them out.
        ConfigureNative(platform, buildDir, $"-DXNNKLEIDI_BUILD_TESTS=ON -DXNNKLEIDI_BUILD_XNNPACK_TESTS={(platform.XnnpackKernelTests ? "ON" : "OFF")}");
        Run("cmake", $"--build \"{buildDir}\" --parallel");

        var ridOut = nativeOutRoot.Combine(rid);
        EnsureDirectoryExists(ridOut);
        var library = buildDir.CombineWithFilePath(platform.LibraryFile);
        ReplaceFile(library, ridOut.CombineWithFilePath(platform.LibraryFile));
        Run("bash", $"cmake/check-native-library.sh \"{library}\" {rid} {maxGlibc} bindings/Generated/xnnkleidi.exports");
        // The C harness of `xnnkleidi bench --compare native,peak` goes beside the library: the
        // CLI looks there, and the tool package takes it from there (its RPATH is $ORIGIN).
        var harness = buildDir.CombineWithFilePath($"bench/xnnkleidi-bench{platform.ExecutableSuffix}");
        if (FileExists(harness))
            ReplaceFile(harness, ridOut.CombineWithFilePath($"xnnkleidi-bench{platform.ExecutableSuffix}"));

        // What the C compiler says about struct layouts, for the managed layout test.
        var probe = buildDir.CombineWithFilePath($"tests/xnnkleidi-struct-layout-probe{platform.ExecutableSuffix}");
        if (FileExists(probe))
        {
            var (program, arguments) = NativeCommand(platform, probe, buildDir);
            var layout = Capture(program, arguments);
            System.IO.File.WriteAllLines(ridOut.CombineWithFilePath("struct-layout.txt").FullPath, layout);
        }
    }

    // The public headers a consumer (and the bindings generator) compiles against.
    CopyFile($"{SourcesValue("XNNKLEIDI_XNNPACK_DIR")}/include/xnnpack.h", includeOut.CombineWithFilePath("xnnpack.h"));
    CopyFile($"{SourcesValue("XNNKLEIDI_PTHREADPOOL_DIR")}/include/pthreadpool.h", includeOut.CombineWithFilePath("pthreadpool.h"));
    CopyFile("native/include/xnnkleidi.h", includeOut.CombineWithFilePath("xnnkleidi.h"));
});

Task("TestNative")
    .Description("C smoke tests and artifact checks per RID (arm64 under QEMU with each CPU model, win-x64 under Wine).")
    .IsDependentOn("Native")
    .Does(() =>
{
    foreach (var rid in SelectedRids())
        Run("ctest", $"--test-dir \"{NativeBuildDir(rid)}\" -L smoke --output-on-failure --no-tests=error");
});

Task("TestXnnpackKernels")
    .Description("XNNPACK's own unit tests for the QD8/QP8 GEMMs and x8-packq, linked against the library's microkernel objects (arm64 under QEMU -cpu max).")
    .IsDependentOn("Native")
    .Does(() =>
{
    foreach (var rid in SelectedPlatforms().Where(platform => platform.XnnpackKernelTests).Select(platform => platform.Rid))
    {
        // The library's own build tree: only the tests, googletest and a few kernels that
        // are not in the library are compiled here.
        var buildDir = NativeBuildDir(rid);
        Run("cmake", $"--build \"{buildDir}\" --parallel --target xnnkleidi-kernel-tests");
        RunKernelTests(rid, buildDir);
    }
});

// Runs the kernel test programs through ctest, which fails on any failed test, and adds
// up googletest's own summaries ("[  PASSED  ] N tests."): every program must report
// one with N > 0, so a program that ran nothing cannot pass, and CI shows the counts.
void RunKernelTests(string rid, DirectoryPath buildDir)
{
    var arguments = $"--test-dir \"{buildDir}\" -L xnnpack-kernels --verbose --no-tests=error";
    Information($"> ctest {arguments}");
    var settings = new ProcessSettings
    {
        Arguments = arguments,
        WorkingDirectory = repoRoot,
        RedirectStandardOutput = true,
        RedirectedStandardOutputHandler = line => { if (line != null) Console.WriteLine(line); return line; },
    };
    var exitCode = StartProcess("ctest", settings, out var redirectedLines);
    if (exitCode != 0)
        throw new CakeException($"{rid}: XNNPACK kernel tests failed (ctest exit code {exitCode})");
    // The redirected output can be enumerated only once.
    var lines = redirectedLines.Where(line => line != null).ToList();
    // ctest --verbose prefixes each line of a test's output with the test's number.
    List<int> Counts(string pattern) =>
        lines.Select(line => System.Text.RegularExpressions.Regex.Match(line, pattern))
             .Where(match => match.Success).Select(match => int.Parse(match.Groups[1].Value)).ToList();
    var passed = Counts(@"^\d+: \[  PASSED  \] (\d+) tests?\.");
    var skipped = Counts(@"^\d+: \[  SKIPPED \] (\d+) tests?,").Sum();
    var programCount = lines.Count(line => System.Text.RegularExpressions.Regex.IsMatch(line, @"^\s*\d+/\d+ Test\s+#\d+: "));
    Console.WriteLine($"{rid} XNNPACK kernel tests: {programCount} programs, {passed.Sum()} passed, {skipped} skipped");
    if (programCount == 0 || passed.Count != programCount || passed.Any(count => count == 0))
        throw new CakeException($"{rid}: {passed.Count(count => count > 0)} of {programCount} kernel test programs reported passed tests");
}

// ---- Bindings ----------------------------------------------------------------------
// The raw C# layer is generated from the pinned headers by our clang-based generator
// and committed; see bindings/bindings.json for its settings.
const string generatorProject = "bindings/XnnKleidi.Bindings.Generator";

Task("Bindings")
    .Description("Regenerates bindings/Generated from the pinned headers.")
    .IsDependentOn("Sources")
    .Does(() =>
{
    Run("dotnet", $"run --project {generatorProject} -c {configuration} -- generate --sources \"{sourcesCacheFile}\"");
});

Task("VerifyBindings")
    .Description("Regenerates into a temporary folder and fails with a diff if bindings/Generated is stale.")
    .IsDependentOn("Native")
    .Does(() =>
{
    Run("dotnet", $"run --project {generatorProject} -c {configuration} -- verify --sources \"{sourcesCacheFile}\"");
});

// ---- .NET test runs ------------------------------------------------------------

// Runs a test executable (NUnit on Microsoft.Testing.Platform) and insists on its
// counts, N passed > 0 and 0 failed, so that a run that executed nothing cannot pass.
// The counts come from the suite's own closing line "<rid>/<cpu>: N passed, N failed"
// or, for suites without one, from the platform's "succeeded:"/"failed:" summary.
void RunTestExecutable(string label, string program, string arguments, IDictionary<string, string> environment)
{
    Information($"> [{label}] {program} {arguments}");
    var settings = new ProcessSettings
    {
        Arguments = arguments,
        WorkingDirectory = repoRoot,
        EnvironmentVariables = environment,
        RedirectStandardOutput = true,
        RedirectedStandardOutputHandler = line => { if (line != null) Console.WriteLine(line); return line; },
    };
    var exitCode = StartProcess(program, settings, out var lines);
    // The runners colour their summaries even when redirected; compare plain text.
    var output = lines.Where(line => line != null)
                      .Select(line => System.Text.RegularExpressions.Regex.Replace(line, @"\x1B\[[0-9;]*[A-Za-z]", ""))
                      .ToList();
    // 124: the run's time limit ended it (cmake/run-under-wine.sh --timeout). The test platform's progress line
    // names the test that was running.
    if (exitCode == 124)
    {
        var active = output.Select(line => System.Text.RegularExpressions.Regex.Match(line, @"\| active: (.+)$"))
                           .LastOrDefault(match => match.Success);
        throw new CakeException($"{label}: the run hung and was ended by its time limit" +
            (active != null ? $"; the test running then: {active.Groups[1].Value.Trim()}" : ""));
    }
    int? LastCount(string pattern)
    {
        var match = output.Select(line => System.Text.RegularExpressions.Regex.Match(line, pattern)).LastOrDefault(m => m.Success);
        return match == null ? null : int.Parse(match.Groups[1].Value);
    }
    var summary = output.Select(line => System.Text.RegularExpressions.Regex.Match(line, @"^\S+/\S+: (\d+) passed, (\d+) failed"))
                        .LastOrDefault(match => match.Success);
    int? passedCount = summary != null ? int.Parse(summary.Groups[1].Value) : LastCount(@"^\s*succeeded: (\d+)\s*$");
    int? failedCount = summary != null ? int.Parse(summary.Groups[2].Value) : LastCount(@"^\s*failed: (\d+)\s*$");
    if (passedCount == null || failedCount == null)
        throw new CakeException($"{label}: the test run printed no pass/fail counts (exit code {exitCode})");
    var passed = passedCount.Value;
    var failed = failedCount.Value;
    // Plain, uncoloured: CI reads this closing line.
    Console.WriteLine($"{label}: {passed} passed, {failed} failed");
    if (exitCode != 0 || failed > 0 || passed == 0)
        throw new CakeException($"{label}: {passed} passed, {failed} failed, exit code {exitCode}");
}

// Environment for .NET under the pinned qemu-aarch64: invariant globalization (no ICU in the
// sysroot), and no W^X double mapping, whose stale translations break the JIT there.
Dictionary<string, string> EmulatedDotnetEnvironment(string cpu) => new()
{
    ["XNNKLEIDI_EXPECTED_CPU"] = cpu,
    // How a test starts a child process of itself: qemu-user has no binfmt_misc here.
    ["XNNKLEIDI_TEST_LAUNCHER"] = $"{QemuAarch64()} -L /usr/aarch64-linux-gnu -cpu {cpu}",
    ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1",
    ["DOTNET_EnableWriteXorExecute"] = "0",
    // The suites expect this CPU uncapped; a cap in the caller's environment must not leak in.
    ["XNNKLEIDI_MAX_ARM_ISA"] = "",
};

DirectoryPath PublishForArm64(string project, string name)
{
    var output = artifactsDir.Combine("test/linux-arm64").Combine(name);
    Run("dotnet", $"publish {project} -c {configuration} -r linux-arm64 --self-contained -o \"{output}\"");
    // The NuGet layout, which the library's resolver looks at first.
    var nativeDir = output.Combine("runtimes/linux-arm64/native");
    EnsureDirectoryExists(nativeDir);
    ReplaceFile(nativeOutRoot.CombineWithFilePath("linux-arm64/libxnnkleidi.so"), nativeDir.CombineWithFilePath("libxnnkleidi.so"));
    return output;
}

// The Windows suite: published self-contained for win-x64 and run under Wine 8, with the test-support DLL that
// keeps Wine's TEB exception list free of the frames .NET's catches leave behind (native/tests/wine-exception-frames.c;
// without it the suite hangs). Four categories hold on Linux only (tests/XnnKleidi.Tests/Support/TestCategories.cs says
// why for each).
const string windowsSuiteFilter = "TestCategory!=UnixPaths&TestCategory!=LinuxLibraries&TestCategory!=ElfSymbols&TestCategory!=GlibcHeap";
// The run itself takes under a minute on this machine kind (docs/testing.md); the limit leaves room for a loaded
// machine and turns a hang into a failed build that names the test that was running.
const int windowsSuiteTimeoutSeconds = 900;

DirectoryPath PublishForWindows(string project, string name)
{
    var output = artifactsDir.Combine("test/win-x64").Combine(name);
    Run("dotnet", $"publish {project} -c {configuration} -r win-x64 --self-contained -o \"{output}\"");
    // The NuGet layout, which the library's resolver looks at first.
    var nativeDir = output.Combine("runtimes/win-x64/native");
    EnsureDirectoryExists(nativeDir);
    var library = platforms.Single(platform => platform.Rid == "win-x64").LibraryFile;
    ReplaceFile(nativeOutRoot.Combine("win-x64").CombineWithFilePath(library), nativeDir.CombineWithFilePath(library));
    // Beside the executable, where the suite looks for it when it runs under Wine.
    ReplaceFile(NativeBuildDir("win-x64").CombineWithFilePath("tests/xnnkleidi-wine-frames.dll"), output.CombineWithFilePath("xnnkleidi-wine-frames.dll"));
    return output;
}

Task("TestManaged")
    .Description("NUnit integration tests: linux-x64 natively, linux-arm64 under QEMU per CPU model, win-x64 under Wine.")
    .IsDependentOn("Native")
    .Does(() =>
{
    const string project = "tests/XnnKleidi.Tests/XnnKleidi.Tests.csproj";
    if (SelectedRids().Contains("linux-x64"))
    {
        Run("dotnet", $"build {project} -c {configuration}");
        // The README's example (ReadmeExampleTests holds the README to it): built and run, so that it cannot rot.
        Run("dotnet", $"build samples/QuickStart -c {configuration}");
        Run($"samples/QuickStart/bin/{configuration}/net10.0/QuickStart", "");
        RunTestExecutable("linux-x64/x64", $"tests/XnnKleidi.Tests/bin/{configuration}/net10.0/XnnKleidi.Tests", "",
            new Dictionary<string, string> { ["XNNKLEIDI_EXPECTED_CPU"] = "x64" });
    }
    if (SelectedRids().Contains("linux-arm64"))
    {
        var published = PublishForArm64(project, "XnnKleidi.Tests");
        foreach (var cpu in arm64CpuModels)
            RunTestExecutable($"linux-arm64/{cpu}", QemuAarch64(),
                $"-L /usr/aarch64-linux-gnu -cpu {cpu} \"{published.CombineWithFilePath("XnnKleidi.Tests")}\"",
                EmulatedDotnetEnvironment(cpu));
        foreach (var cpu in arm64KernelModels)
            RunTestExecutable($"linux-arm64/{cpu}", QemuAarch64(),
                $"-L /usr/aarch64-linux-gnu -cpu {cpu} \"{published.CombineWithFilePath("XnnKleidi.Tests")}\" --filter \"{kernelSuitesFilter}\"",
                EmulatedDotnetEnvironment(cpu));
    }
    if (SelectedRids().Contains("win-x64"))
    {
        var published = PublishForWindows(project, "XnnKleidi.Tests");
        RunTestExecutable("win-x64/x64", "bash",
            $"cmake/run-under-wine.sh --timeout {windowsSuiteTimeoutSeconds} \"{published.CombineWithFilePath("XnnKleidi.Tests.exe")}\" --filter \"{windowsSuiteFilter}\"",
            new Dictionary<string, string>
            {
                ["XNNKLEIDI_EXPECTED_CPU"] = "x64",
                // The runtime's W^X double mapping is off as under QEMU: with it, the run under Wine dies with
                // "Internal CLR error" in the finalizer that frees a dynamic method (docs/platforms.md).
                ["DOTNET_EnableWriteXorExecute"] = "0",
            });
    }
});

// ---- Package ----------------------------------------------------------------------
var packagesDir = artifactsDir.Combine("packages");

FilePath PackedPackage()
{
    var packages = GetFiles($"{packagesDir}/XnnKleidi.*.nupkg")
        .Where(file => System.Text.RegularExpressions.Regex.IsMatch(file.GetFilename().FullPath, @"^XnnKleidi\.\d+\.\d+\.\d+.*\.nupkg$"))
        .ToList();
    if (packages.Count != 1)
        throw new CakeException($"expected one XnnKleidi package in {packagesDir}, found {packages.Count}");
    return packages[0];
}

Task("Pack")
    .Description("Packs artifacts/packages/XnnKleidi.<version>.nupkg (+ .snupkg) with the native library of every RID marked Packed, and validates it.")
    .IsDependentOn("Native")
    .Does(() =>
{
    if (packedRids.Any(rid => !SelectedRids().Contains(rid)))
        throw new CakeException($"Pack needs the native library of {string.Join(", ", packedRids)}; run it without --rid");
    var noticesFile = artifactsDir.CombineWithFilePath("packaging/THIRD-PARTY-NOTICES.txt");
    EnsureDirectoryExists(noticesFile.GetDirectory());
    Run("bash", $"cmake/third-party-notices.sh \"{sourcesCacheFile}\" \"{noticesFile}\"");
    if (DirectoryExists(packagesDir))
        DeleteDirectory(packagesDir, new DeleteDirectorySettings { Recursive = true, Force = true });
    // MSBuild splits -p values at ';' and ','; an escaped ';' reaches the project whole, which unescapes it.
    var packProperties = $"-p:XnnKleidiPack=true -p:XnnKleidiNoticesFile=\"{noticesFile}\" " +
                         $"-p:XnnKleidiPackedLibraries=\"{string.Join("%3B", packedLibraries)}\"";
    Run("dotnet", $"pack src/XnnKleidi/XnnKleidi.csproj -c {configuration} -o \"{packagesDir}\" {packProperties}");
    Run("bash", $"tests/PackageValidation/validate-package.sh \"{PackedPackage()}\" \"{QemuAarch64()}\" {maxGlibc} {string.Join(" ", packedLibraries)}");

    // Determinism: rebuild from scratch and pack again; only NuGet's timestamps may differ.
    var repackDir = artifactsDir.Combine("packages-rebuild");
    Run("dotnet", $"build src/XnnKleidi/XnnKleidi.csproj -c {configuration} --no-incremental -p:XnnKleidiPack=true");
    Run("dotnet", $"pack src/XnnKleidi/XnnKleidi.csproj -c {configuration} --no-build -o \"{repackDir}\" {packProperties}");
    Run("bash", $"tests/PackageValidation/compare-packages.sh \"{PackedPackage()}\" \"{repackDir.CombineWithFilePath(PackedPackage().GetFilename())}\"");
    DeleteDirectory(repackDir, new DeleteDirectorySettings { Recursive = true, Force = true });

    // The model-file readers, a package of their own that depends on this version of XnnKleidi.
    Run("dotnet", $"pack src/XnnKleidi.Formats/XnnKleidi.Formats.csproj -c {configuration} -o \"{packagesDir}\"");

    // The CLI as a .NET tool with the same native libraries; installed into a throw-away
    // folder from artifacts/packages and run, so the tool is proved to load them.
    Run("dotnet", $"pack src/XnnKleidi.Cli/XnnKleidi.Cli.csproj -c {configuration} -o \"{packagesDir}\" -p:XnnKleidiPackTool=true");
    var toolPackage = GetFiles($"{packagesDir}/XnnKleidi.Cli.*.nupkg").Single(file => !file.FullPath.EndsWith(".snupkg"));
    Run("bash", $"tests/PackageValidation/validate-tool-package.sh \"{toolPackage}\" {string.Join(" ", toolNativeFiles)}");
});

// The consumer test: a console app that references only the package, built outside the
// work tree into a throw-away NuGet folder, run on x64, on arm64 under QEMU (max must pack,
// cortex-a72 must not, with its reason), both again on bullseye's glibc 2.31, and on win-x64
// under Wine. The musl libraries are not run from .NET: no .NET runtime runs on musl here.
Task("TestPackage")
    .Description("Builds tests/PackageConsumer against the packed package only and runs it per RID, CPU model and glibc, and win-x64 under Wine; the tool package's CLI on win-x64 under Wine (info, bench --check, --compare ort, and --compare native,peak refused).")
    .IsDependentOn("Pack")
    .Does(() =>
{
    var version = System.Text.RegularExpressions.Regex.Match(PackedPackage().GetFilename().FullPath, @"^XnnKleidi\.(.+)\.nupkg$").Groups[1].Value;
    var work = new DirectoryPath(System.IO.Path.Combine(System.IO.Path.GetTempPath(), "xnnkleidi-package-consumer"));
    if (DirectoryExists(work))
        DeleteDirectory(work, new DeleteDirectorySettings { Recursive = true, Force = true });
    var project = work.Combine("src");
    EnsureDirectoryExists(project);
    CopyFiles("tests/PackageConsumer/*", project);
    // Only XnnKleidi comes from artifacts/packages, into an empty package folder; the
    // machine's own NuGet folder serves the .NET runtime packs read-only, as a fallback.
    var nugetPackages = work.Combine("nuget-packages");
    var fallback = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
    var restoreProperties = $"-p:XnnKleidiVersion={version} -p:RestoreAdditionalProjectSources=\"{packagesDir}\" " +
                            $"-p:RestorePackagesPath=\"{nugetPackages}\" -p:RestoreFallbackFolders=\"{fallback}\"";
    var consumer = project.CombineWithFilePath("PackageConsumer.csproj");

    var x64Out = work.Combine("linux-x64");
    Run("dotnet", $"publish \"{consumer}\" -c {configuration} -r linux-x64 --self-contained -o \"{x64Out}\" {restoreProperties}", work);
    var arm64Out = work.Combine("linux-arm64");
    Run("dotnet", $"publish \"{consumer}\" -c {configuration} -r linux-arm64 --self-contained -o \"{arm64Out}\" {restoreProperties}", work);
    if (GetFiles($"{nugetPackages}/xnnkleidi/{version}/*.nupkg").Count != 1)
        throw new CakeException($"XnnKleidi {version} was not restored into the throw-away folder {nugetPackages}");

    var x64App = x64Out.CombineWithFilePath("PackageConsumer").FullPath;
    var arm64App = arm64Out.CombineWithFilePath("PackageConsumer").FullPath;
    RunTestExecutable("package-consumer linux-x64/x64", x64App, "",
        new Dictionary<string, string> { ["XNNKLEIDI_EXPECTED_CPU"] = "x64" });
    foreach (var cpu in new[] { "max", "cortex-a72" })
        RunTestExecutable($"package-consumer linux-arm64/{cpu}", QemuAarch64(),
            $"-L /usr/aarch64-linux-gnu -cpu {cpu} \"{arm64App}\"", EmulatedDotnetEnvironment(cpu));

    // Debian 11's C and C++ runtime (glibc 2.31): QEMU user mode runs the app with that
    // root as its only library root, for x64 as well, which binfmt-less chroot cannot.
    var x64Root = SourcesValue("XNNKLEIDI_RUNTIME_LINUX_X64");
    var arm64Root = SourcesValue("XNNKLEIDI_RUNTIME_LINUX_ARM64");
    var x64BullseyeEnvironment = EmulatedDotnetEnvironment("x64");
    x64BullseyeEnvironment.Remove("XNNKLEIDI_TEST_LAUNCHER");
    RunTestExecutable("package-consumer linux-x64/x64 on glibc 2.31", QemuX86_64(),
        $"-L \"{x64Root}\" \"{x64App}\"", x64BullseyeEnvironment);
    foreach (var cpu in new[] { "max", "cortex-a72" })
        RunTestExecutable($"package-consumer linux-arm64/{cpu} on glibc 2.31", QemuAarch64(),
            $"-L \"{arm64Root}\" -cpu {cpu} \"{arm64App}\"", EmulatedDotnetEnvironment(cpu));

    // Windows x64 under Wine, on the package's library: published self-contained, because Wine has no dotnet.exe.
    var winOut = work.Combine("win-x64");
    Run("dotnet", $"publish \"{consumer}\" -c {configuration} -r win-x64 --self-contained -o \"{winOut}\" {restoreProperties}", work);
    RunTestExecutable("package-consumer win-x64/x64 under Wine", "bash",
        $"cmake/run-under-wine.sh \"{winOut.CombineWithFilePath("PackageConsumer.exe")}\"", WineDotnetEnvironment());

    TestCliOnWindows();
});

// .NET under Wine: no W^X double mapping, with which a run of the managed suite there once stopped inside the runtime
// (docs/platforms.md).
Dictionary<string, string> WineDotnetEnvironment() => new()
{
    ["XNNKLEIDI_EXPECTED_CPU"] = "x64",
    ["DOTNET_EnableWriteXorExecute"] = "0",
};

// Runs a Windows program under Wine and returns its exit code and what it wrote to either stream.
(int ExitCode, List<string> Output) RunUnderWine(FilePath program, string arguments, IDictionary<string, string> environment)
{
    Information($"> [Wine] {program} {arguments}");
    var settings = new ProcessSettings
    {
        Arguments = $"cmake/run-under-wine.sh \"{program}\" {arguments}",
        WorkingDirectory = repoRoot,
        EnvironmentVariables = environment,
        RedirectStandardOutput = true,
        RedirectStandardError = true,
    };
    var exitCode = StartProcess("bash", settings, out var standardOutput, out var standardError);
    // Windows programs end their lines with CR LF.
    var output = standardOutput.Concat(standardError).Where(line => line != null).Select(line => line.TrimEnd('\r')).ToList();
    output.ForEach(line => Console.WriteLine(line));
    return (exitCode, output);
}

// `xnnkleidi info --json` under Wine must name the RID and report no load error.
void CheckInfoUnderWine(string label, FilePath cli, IDictionary<string, string> environment, string rid)
{
    var (exitCode, output) = RunUnderWine(cli, "info --json", environment);
    // The JSON object is the lines from "{" to the "}" that closes it, the only one at the start of a line.
    var json = System.Text.Json.Nodes.JsonNode.Parse(string.Join("\n",
        output.SkipWhile(line => line != "{").TakeWhile(line => line != "}").Append("}")));
    if (exitCode != 0 || (string?)json?["rid"] != rid || json?["error"] != null)
        throw new CakeException($"{label}: failed (exit code {exitCode}, rid {json?["rid"]}, error {json?["error"]})");
    Console.WriteLine($"{label}: passed ({json?["buildInfo"]})");
}

// The CLI on Windows, under Wine. The tool package carries win-x64's library, ONNX Runtime and SkiaSharp; on Windows
// `dotnet tool install` lays out its tools/<tfm>/any/ folder and writes a shim, the .NET app host, that starts the
// assembly beside it on the installed .NET. Wine has no dotnet.exe here, so the build lays out the same: the tool's
// own files, the app host of the same project published self-contained for win-x64, and a .NET install made from the
// runtime pack that publish restored, named by DOTNET_ROOT. On those it runs info, a small bench --check, a small
// bench --compare ort, and bench --compare native,peak, which must be refused. The self-contained folder, the CLI for
// a Windows machine without the .NET SDK, runs info too, with the tool's library byte for byte.
void TestCliOnWindows()
{
    const string rid = "win-x64";
    var libraryFile = platforms.Single(platform => platform.Rid == rid).LibraryFile;
    var toolPackage = GetFiles($"{packagesDir}/XnnKleidi.Cli.*.nupkg").Single(file => !file.FullPath.EndsWith(".snupkg"));
    var windowsDir = artifactsDir.Combine($"test/{rid}");
    var published = windowsDir.Combine("xnnkleidi-self-contained");
    var tool = windowsDir.Combine("xnnkleidi-tool");
    var dotnetRoot = windowsDir.Combine("dotnet");
    foreach (var dir in new[] { published, tool, dotnetRoot })
        if (DirectoryExists(dir))
            DeleteDirectory(dir, new DeleteDirectorySettings { Recursive = true, Force = true });
    Run("dotnet", $"publish {cliProject} -c {configuration} -r {rid} --self-contained -p:XnnKleidiShippedCli=true -o \"{published}\"");

    System.IO.Compression.ZipFile.ExtractToDirectory(toolPackage.FullPath, tool.FullPath);
    var toolApp = GetDirectories($"{tool}/tools/*/any").Single();
    foreach (var name in new[] { libraryFile, "onnxruntime.dll", "libSkiaSharp.dll" })
    {
        if (!FileExists(toolApp.CombineWithFilePath($"runtimes/{rid}/native/{name}")))
            throw new CakeException($"{toolPackage.GetFilename()} lacks runtimes/{rid}/native/{name}, which the tool needs on Windows");
    }
    var toolLibrary = toolApp.CombineWithFilePath($"runtimes/{rid}/native/{libraryFile}");
    var publishedLibrary = published.CombineWithFilePath($"runtimes/{rid}/native/{libraryFile}");
    if (!System.IO.File.ReadAllBytes(toolLibrary.FullPath).SequenceEqual(System.IO.File.ReadAllBytes(publishedLibrary.FullPath)))
        throw new CakeException($"{publishedLibrary} differs from the tool package's runtimes/{rid}/native/{libraryFile}");
    Console.WriteLine($"xnnkleidi {rid}: the tool package carries {libraryFile} (the self-contained CLI's, byte for byte), onnxruntime.dll and libSkiaSharp.dll");

    // The app host finds the runtime itself when no hostfxr.dll stands beside it, as in the tool's folder.
    CopyFile(published.CombineWithFilePath("xnnkleidi.exe"), toolApp.CombineWithFilePath("xnnkleidi.exe"));
    // The .NET install: host/fxr/<version>/hostfxr.dll and shared/Microsoft.NETCore.App/<version>/, from the runtime
    // pack of the version the self-contained publish names (the SDK picks it).
    var runtimeConfig = System.Text.Json.Nodes.JsonNode.Parse(System.IO.File.ReadAllText(published.CombineWithFilePath("XnnKleidi.Cli.runtimeconfig.json").FullPath));
    var runtimeVersion = (string?)runtimeConfig?["runtimeOptions"]?["includedFrameworks"]?[0]?["version"]
        ?? throw new CakeException($"{published}/XnnKleidi.Cli.runtimeconfig.json names no included framework version");
    var nugetRoot = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
        ?? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
    var runtimePack = new DirectoryPath(System.IO.Path.Combine(nugetRoot, $"microsoft.netcore.app.runtime.{rid}", runtimeVersion, "runtimes", rid));
    var fxr = dotnetRoot.Combine($"host/fxr/{runtimeVersion}");
    var framework = dotnetRoot.Combine($"shared/Microsoft.NETCore.App/{runtimeVersion}");
    EnsureDirectoryExists(fxr);
    EnsureDirectoryExists(framework);
    CopyFiles(GetFiles($"{runtimePack}/lib/*/*"), framework);
    CopyFiles(GetFiles($"{runtimePack}/native/*").Where(file => file.GetFilename().FullPath != "hostfxr.dll"), framework);
    CopyFile(runtimePack.CombineWithFilePath("native/hostfxr.dll"), fxr.CombineWithFilePath("hostfxr.dll"));
    var toolEnvironment = WineDotnetEnvironment();
    // Wine shows the Unix root as drive Z:.
    toolEnvironment["DOTNET_ROOT"] = "Z:" + dotnetRoot.FullPath.Replace('/', '\\');

    var cli = toolApp.CombineWithFilePath("xnnkleidi.exe");
    CheckInfoUnderWine($"xnnkleidi info {rid}/x64 under Wine (tool)", cli, toolEnvironment, rid);
    RunTestExecutable($"xnnkleidi bench --check {rid}/x64 under Wine (tool)", "bash",
        $"cmake/run-under-wine.sh \"{cli}\" bench --shape 5x64x24 --shape 16x256x256 --scheme qc8w,qc4w,qb4w,f32 " +
        "--packing off,on,auto --threads 1,2 --check --quiet", toolEnvironment);

    var (ortExit, ort) = RunUnderWine(cli, "bench --shape 16x256x256 --compare ort --iterations 20 --quiet", toolEnvironment);
    if (ortExit != 0 || !ort.Any(line => line.Contains(" 0 could not run", StringComparison.Ordinal)))
        throw new CakeException($"xnnkleidi bench --compare ort {rid}/x64 under Wine (tool): failed (exit code {ortExit}; ONNX Runtime did not run every case)");
    Console.WriteLine($"xnnkleidi bench --compare ort {rid}/x64 under Wine (tool): passed");

    var (refusedExit, refused) = RunUnderWine(cli, "bench --shape 16x256x256 --compare native,peak --iterations 20 --quiet", toolEnvironment);
    if (refusedExit != 2 || !refused.Any(line => line.Contains("--compare native,peak is not available on Windows", StringComparison.Ordinal)))
        throw new CakeException($"xnnkleidi bench --compare native,peak {rid}/x64 under Wine (tool): not refused as it must be (exit code {refusedExit})");
    Console.WriteLine($"xnnkleidi bench --compare native,peak {rid}/x64 under Wine (tool): refused, as it must be (exit code 2)");

    CheckInfoUnderWine($"xnnkleidi info {rid}/x64 under Wine (self-contained)", published.CombineWithFilePath("xnnkleidi.exe"), WineDotnetEnvironment(), rid);
}

Task("TestManagedAgainstPackage")
    .Description("The NUnit suite once more, referencing the packed package instead of the project (x64).")
    .IsDependentOn("Pack")
    .Does(() =>
{
    var version = System.Text.RegularExpressions.Regex.Match(PackedPackage().GetFilename().FullPath, @"^XnnKleidi\.(.+)\.nupkg$").Groups[1].Value;
    var nugetPackages = new DirectoryPath(System.IO.Path.Combine(System.IO.Path.GetTempPath(), "xnnkleidi-package-tests-nuget"));
    if (DirectoryExists(nugetPackages))
        DeleteDirectory(nugetPackages, new DeleteDirectorySettings { Recursive = true, Force = true });
    var fallback = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
    // Separate obj/ and bin/ so the package build never mixes with the project-reference build.
    var packageBuild = artifactsDir.Combine("package-tests");
    Run("dotnet", $"build tests/XnnKleidi.Tests/XnnKleidi.Tests.csproj -c {configuration} -p:UsePrebuiltNativePackage=true " +
                  $"-p:XnnKleidiVersion={version} -p:RestoreAdditionalProjectSources=\"{packagesDir}\" " +
                  $"-p:RestorePackagesPath=\"{nugetPackages}\" -p:RestoreFallbackFolders=\"{fallback}\" " +
                  $"-p:BaseIntermediateOutputPath=\"{packageBuild}/obj/\" -p:OutputPath=\"{packageBuild}/bin/\"");
    RunTestExecutable("package linux-x64/x64", $"{packageBuild}/bin/XnnKleidi.Tests", "",
        new Dictionary<string, string> { ["XNNKLEIDI_EXPECTED_CPU"] = "x64" });
});

// ---- The benchmark CLI (src/XnnKleidi.Cli, the `xnnkleidi` command) ---------------
const string cliProject = "src/XnnKleidi.Cli/XnnKleidi.Cli.csproj";
var benchArguments = Argument("bench-args", "--preset vit-b16 --packing off,on,auto --threads 1,2 --compare native,ort,peak");

Task("Bench")
    .Description("The main job: on this CPU, does KleidiAI activation packing pay? (xnnkleidi info, then bench; --bench-args=... to change what is measured)")
    .IsDependentOn("Native")
    .Does(() =>
{
    // The C harness and the peak probe (native/bench) are built by the Native target.
    Run("dotnet", $"build {cliProject} -c {configuration}");
    var cli = $"src/XnnKleidi.Cli/bin/{configuration}/net10.0/xnnkleidi";
    var benchDirectory = artifactsDir.Combine("bench");
    EnsureDirectoryExists(benchDirectory);
    Run(cli, "info");
    // The table goes to the console; the same results go to JSON, CSV and a PNG chart.
    Run(cli, $"bench {benchArguments} --out \"{benchDirectory}/bench.json\" --out \"{benchDirectory}/bench.csv\" " +
             $"--plot \"{benchDirectory}/bench.png\"");
    Information($"Bench: results in {benchDirectory}/bench.json, bench.csv, bench.png (ratios to packing off) and bench-p50.png");
});

Task("TestCli")
    .Description("The CLI's checks: every preset validated against the reference on x64; under QEMU max, ViT-B/16 qc8w with packing off/on/auto per shape and as a whole model, every quantized scheme under the sme2 and i8mm caps (--kernel-family, each cap required to take effect), and info; the CLI's tests judge what the emulated runs wrote (QP8 and SME2 for every scheme, each cap in effect).")
    .IsDependentOn("Native")
    .Does(() =>
{
    if (SelectedRids().Contains("linux-x64"))
    {
        Run("dotnet", $"build {cliProject} -c {configuration}");
        RunTestExecutable("xnnkleidi bench --check linux-x64/x64", $"src/XnnKleidi.Cli/bin/{configuration}/net10.0/xnnkleidi",
            "bench --preset all --scheme qc8w,qc4w,qb4w,f32 --packing off,on,auto --check --quiet",
            new Dictionary<string, string> { ["XNNKLEIDI_EXPECTED_CPU"] = "x64" });
        const string cliTests = "tests/XnnKleidi.Cli.Tests";
        Run("dotnet", $"build {cliTests} -c {configuration}");
        // The checks of the emulated runs' files run after those runs, below.
        RunTestExecutable("cli tests linux-x64/x64", $"{cliTests}/bin/{configuration}/net10.0/XnnKleidi.Cli.Tests",
            "--filter \"TestCategory!=EmulatedCliOutput\"",
            new Dictionary<string, string> { ["XNNKLEIDI_EXPECTED_CPU"] = "x64" });
    }
    if (SelectedRids().Contains("linux-arm64"))
    {
        var published = PublishForArm64(cliProject, "XnnKleidi.Cli");
        var app = published.CombineWithFilePath("XnnKleidi.Cli");
        RunTestExecutable("xnnkleidi bench --check linux-arm64/max", QemuAarch64(),
            $"-L /usr/aarch64-linux-gnu -cpu max \"{app}\" bench --preset vit-b16 --scheme qc8w --packing off,on,auto --check --quiet",
            EmulatedDotnetEnvironment("max"));
        // Kernel families side by side: every ViT-B/16 layer, every quantized scheme, packing off and on, under the caps
        // sme2 and i8mm, each in child processes of the CLI (started through the emulator again), every output checked.
        var outputFolder = artifactsDir.Combine("test/cli-linux-arm64-max");
        EnsureDirectoryExists(outputFolder);
        var familyEnvironment = EmulatedDotnetEnvironment("max");
        familyEnvironment["XNNKLEIDI_EMULATOR"] = $"{QemuAarch64()} -L /usr/aarch64-linux-gnu -cpu max";
        RunTestExecutable("xnnkleidi bench --kernel-family sme2,i8mm --check linux-arm64/max", QemuAarch64(),
            $"-L /usr/aarch64-linux-gnu -cpu max \"{app}\" bench --preset vit-b16 --scheme qc8w,qc4w,qb4w --packing off,on " +
            $"--kernel-family sme2,i8mm --check --quiet --out \"{outputFolder.CombineWithFilePath("kernel-family-max.json")}\"",
            familyEnvironment);
        // The whole ViT-B/16 forward pass with packing on (QP8, the path only Arm runs; off and auto are checked per
        // shape above), every layer with its own weights, each layer's output checked. Eight rows of each output (the
        // first, the last, evenly between; every column) keep the float64 reference, the slow part under emulation, to
        // a fraction of the 197 rows.
        RunTestExecutable("xnnkleidi bench --model vit-b16 --check linux-arm64/max", QemuAarch64(),
            $"-L /usr/aarch64-linux-gnu -cpu max \"{app}\" bench --model vit-b16 --scheme qc8w --packing on --check --check-rows 8 --quiet",
            EmulatedDotnetEnvironment("max"));
        // A language model's first block, prefill of 16 tokens and decode, 4-bit blockwise weights (KleidiAI's qsi4c32
        // kernels, the LLM path), packed and auto, each layer's output checked. One block of seven linears, not the
        // model: every one of its shapes, at a fraction of the emulated cost of all 24 blocks and the head.
        RunTestExecutable("xnnkleidi bench --model qwen2.5-0.5b --check linux-arm64/max", QemuAarch64(),
            $"-L /usr/aarch64-linux-gnu -cpu max \"{app}\" bench --model qwen2.5-0.5b --layers \"^model\\.layers\\.0\\.\" " +
            "--phase prefill,decode --prompt-tokens 16 --scheme qb4w --packing on,auto --check --check-rows 8 --quiet",
            EmulatedDotnetEnvironment("max"));
        RunToFile(QemuAarch64(), $"-L /usr/aarch64-linux-gnu -cpu max \"{app}\" info --json",
            EmulatedDotnetEnvironment("max"), outputFolder.CombineWithFilePath("info-max.json"));
        // What those runs wrote is judged by the CLI's tests (EmulatedRunOutputTests), natively.
        const string cliTests = "tests/XnnKleidi.Cli.Tests";
        Run("dotnet", $"build {cliTests} -c {configuration}");
        RunTestExecutable("cli output checks linux-arm64/max", $"{cliTests}/bin/{configuration}/net10.0/XnnKleidi.Cli.Tests",
            "--filter \"TestCategory=EmulatedCliOutput\"",
            new Dictionary<string, string> { ["XNNKLEIDI_EXPECTED_CPU"] = "x64", ["XNNKLEIDI_CLI_OUTPUT_DIR"] = outputFolder.FullPath });
    }
});

Task("TestBindingsGenerator")
    .Description("The generator's own tests: verify catches a header change, type parsing, diff format.")
    .IsDependentOn("Sources")
    .Does(() =>
{
    const string project = "tests/XnnKleidi.Bindings.Generator.Tests";
    Run("dotnet", $"build {project} -c {configuration}");
    RunTestExecutable("generator", $"{project}/bin/{configuration}/net10.0/XnnKleidi.Bindings.Generator.Tests", "",
        new Dictionary<string, string> { ["XNNKLEIDI_SOURCES_CMAKE"] = sourcesCacheFile.FullPath });
});

Task("TestFormats")
    .Description("The model-file readers' tests (safetensors and GGUF, written byte by byte by the tests): managed only, on the build machine's own CPU.")
    .Does(() =>
{
    const string project = "tests/XnnKleidi.Formats.Tests";
    Run("dotnet", $"build {project} -c {configuration}");
    RunTestExecutable("formats", $"{project}/bin/{configuration}/net10.0/XnnKleidi.Formats.Tests", "", new Dictionary<string, string>());
});

Task("Test")
    .Description("Everything testable: native smoke tests, XNNPACK's kernel tests, artifact checks, bindings, managed tests, the package.")
    .IsDependentOn("TestNative")
    .IsDependentOn("TestXnnpackKernels")
    .IsDependentOn("VerifyBindings")
    .IsDependentOn("TestBindingsGenerator")
    .IsDependentOn("TestFormats")
    .IsDependentOn("TestManaged")
    .IsDependentOn("TestCli")
    .IsDependentOn("TestPackage")
    .IsDependentOn("TestManagedAgainstPackage");

RunTarget(target);
