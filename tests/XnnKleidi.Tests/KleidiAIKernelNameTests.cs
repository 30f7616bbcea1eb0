using NUnit.Framework;
using XnnKleidi.Interop;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests;

/// <summary>
/// The KleidiAI kernel name the library reports is the function its selected QP8 microkernel really calls. The
/// oracle is the loaded library file itself, not the C code that reports the name: the microkernel's address (from
/// xnnkleidi_qp8_ukernel_address) is named through the file's ELF <c>.symtab</c>, its AArch64 code is decoded up to
/// its first B or BL, and the branch target is named through <c>.symtab</c> again. Where QP8 cannot run (x86-64,
/// QEMU cortex-a72) there must be neither a microkernel nor a name. On the SME2 models the microkernels are the
/// SME2 and SME adapters, and the names their KleidiAI kernels.
/// </summary>
[TestFixture]
[Category(TestCategories.KernelDependent)]
public sealed unsafe class KleidiAIKernelNameTests
{
    private const int K = 64;
    private const int N = 24;


    [TestCaseSource(typeof(KernelTestCases), nameof(KernelTestCases.SchemesAndBatches))]
    public void SelectedUkernel_IsAQp8WrapperOfTheScheme(WeightScheme scheme, int batch)
    {
        TestEnvironment.RequireKnownCpu();
        IntPtr ukernel = SelectedUkernel(scheme, batch);
        if (!TestEnvironment.HasQp8)
        {
            Assert.That(ukernel, Is.EqualTo(IntPtr.Zero), $"{TestEnvironment.ExpectedCpu} runs no QP8 microkernel");
            return;
        }

        Assert.That(ukernel, Is.Not.EqualTo(IntPtr.Zero));
        IReadOnlyList<string> symbols = SymbolsAt(ukernel);
        Assert.That(symbols.Any(symbol => WrapperPrefixes(scheme).Any(prefix => symbol.StartsWith(prefix, StringComparison.Ordinal))), Is.True,
            $"{string.Join(" / ", symbols)} is no {string.Join(" or ", WrapperPrefixes(scheme))}* microkernel");
    }

    [TestCaseSource(typeof(KernelTestCases), nameof(KernelTestCases.SchemesAndBatches))]
    public void ReportedName_IsTheKleidiAIKernelTheSelectedUkernelCalls(WeightScheme scheme, int batch)
    {
        TestEnvironment.RequireKnownCpu();
        AssertNamesTheKernelTheSelectedUkernelCalls(scheme, batch, ActivationPackingSupport.GetKleidiAIKernelName(scheme, batch));
    }

    [TestCaseSource(typeof(KernelTestCases), nameof(KernelTestCases.SchemesAndBatches))]
    public void LinearReportedName_IsTheKleidiAIKernelTheSelectedUkernelCalls(WeightScheme scheme, int batch)
    {
        TestEnvironment.RequireKnownCpu();
        using Linear linear = Linear.Create(
            K, N, TestData.Uniform(N * K, -1f, 1f, seed: 3), scheme, options: new LinearOptions { ActivationPacking = ActivationPacking.On });

        AssertNamesTheKernelTheSelectedUkernelCalls(scheme, batch, linear.GetKleidiAIKernelName(batch));
    }

    [TestCaseSource(typeof(KernelTestCases), nameof(KernelTestCases.SchemesAndBatches))]
    public void ReportedName_IsAKleidiAIRunFunctionOfTheLibrary(WeightScheme scheme, int batch)
    {
        if (ReportedNameWhereQp8Runs(scheme, batch) is not { } name)
        {
            return;
        }

        Assert.That(LoadedLibraryImage.Current.Symbols.Function(RunFunctionOf(name)), Is.Not.Null,
            $"{LoadedLibraryImage.Current.Path} has no function {RunFunctionOf(name)} in its .symtab");
    }

    [TestCaseSource(typeof(KernelTestCases), nameof(KernelTestCases.SchemesAndBatches))]
    public void ReportedName_IsAKernelForTheSchemesWeights(WeightScheme scheme, int batch)
    {
        if (ReportedNameWhereQp8Runs(scheme, batch) is not { } name)
        {
            return;
        }

        // KleidiAI names the packed weights in the kernel: qsi8cxp int8 per channel, qsi4cxp 4-bit per channel,
        // qsi4c32p 4-bit in blocks of 32 with their own scales; the activations are always qai8dxp.
        string weights = scheme switch
        {
            WeightScheme.Qc8w => "_qsi8cxp",
            WeightScheme.Qc4w => "_qsi4cxp",
            _ => "_qsi4c32p",
        };
        Assert.That(name, Does.StartWith("kai_matmul_clamp_f32_qai8dxp").And.Contains(weights));
    }

    [Category(TestCategories.ElfSymbols)]
    [Test]
    public void LoadedLibrary_HoldsKleidiAIKernelsExactlyOnArm64()
    {
        ElfSymbolTable symbols = LoadedLibraryImage.Current.Symbols;
        bool arm64 = TestEnvironment.RuntimeIdentifier.EndsWith("-arm64", StringComparison.Ordinal);

        Assert.Multiple(() =>
        {
            Assert.That(symbols.Machine, Is.EqualTo(arm64 ? ElfSymbolTable.MachineAArch64 : ElfSymbolTable.MachineX86_64));
            Assert.That(symbols.Functions.Any(function => function.Name.StartsWith("kai_run_matmul_", StringComparison.Ordinal)), Is.EqualTo(arm64),
                arm64 ? "the arm64 library links KleidiAI" : "KleidiAI is Arm-only; the x64 library must not contain it");
        });
    }

    /// <summary>
    /// The name ActivationPackingSupport reports, checked to be a KleidiAI kernel name, where QP8 runs; elsewhere
    /// null, after checking that no name is reported there.
    /// </summary>
    private static string? ReportedNameWhereQp8Runs(WeightScheme scheme, int batch)
    {
        TestEnvironment.RequireKnownCpu();
        string? name = ActivationPackingSupport.GetKleidiAIKernelName(scheme, batch);
        if (!TestEnvironment.HasQp8)
        {
            Assert.That(name, Is.Null, $"{TestEnvironment.ExpectedCpu} runs no KleidiAI kernel");
            return null;
        }

        Assert.That(name, Does.StartWith("kai_"));
        return name;
    }

    private static void AssertNamesTheKernelTheSelectedUkernelCalls(WeightScheme scheme, int batch, string? reportedName)
    {
        if (!TestEnvironment.HasQp8)
        {
            Assert.That(reportedName, Is.Null, $"{TestEnvironment.ExpectedCpu} runs no KleidiAI kernel");
            return;
        }

        IReadOnlyList<string> callees = FunctionsCalledBySelectedUkernel(scheme, batch);
        Assert.That(reportedName, Does.StartWith("kai_"));
        Assert.That(callees, Does.Contain(RunFunctionOf(reportedName!)),
            $"the {scheme} microkernel selected for M = {batch} calls {string.Join(" / ", callees)}, but the library reports {reportedName}");
    }

    /// <summary>The names of the function the selected microkernel's first B or BL goes to, read from the file.</summary>
    private static IReadOnlyList<string> FunctionsCalledBySelectedUkernel(WeightScheme scheme, int batch)
    {
        LoadedLibraryImage library = LoadedLibraryImage.Current;
        Assert.That(library.Symbols.Machine, Is.EqualTo(ElfSymbolTable.MachineAArch64), "QP8 runs only on arm64");
        IntPtr ukernel = SelectedUkernel(scheme, batch);
        Assert.That(ukernel, Is.Not.EqualTo(IntPtr.Zero), $"no {scheme} microkernel selected for M = {batch}");

        ulong address = library.ToFileAddress(ukernel);
        ElfSymbolTable.FunctionSymbol wrapper = library.Symbols.FunctionsStartingAt(address)
            .FirstOrDefault(function => WrapperPrefixes(scheme).Any(prefix => function.Name.StartsWith(prefix, StringComparison.Ordinal)))
            ?? throw new AssertionException($"no {string.Join(" or ", WrapperPrefixes(scheme))}* function starts at 0x{address:x} in {library.Path}");
        ulong target = Arm64DirectBranch.FirstTarget(library.Symbols.Code(wrapper), wrapper.Address);
        return library.Symbols.FunctionsStartingAt(target).Select(function => function.Name).ToList();
    }

    private static IntPtr SelectedUkernel(WeightScheme scheme, int batch)
    {
        NativeLibraryLoader.EnsureLoaded();
        return (IntPtr)NativeMethods.xnnkleidi_qp8_ukernel_address(ActivationPackingSupport.Datatype(scheme), (nuint)batch);
    }

    private static IReadOnlyList<string> SymbolsAt(IntPtr address) =>
        LoadedLibraryImage.Current.Symbols.FunctionsStartingAt(LoadedLibraryImage.Current.ToFileAddress(address))
            .Select(function => function.Name).ToList();

    /// <summary>
    /// The symbol prefixes of the microkernels a scheme's QP8 configuration holds. XNNPACK names its 4-bit NEON
    /// wrappers xnn_qp8_f32_{qc4w,qb4w}_gemm_minmax_ukernel_*; the qc8w ones (patch 0003) and the SME2 and SME ones of
    /// every scheme (patch 0005) are adapters in gemm-config.c, static functions named kai_{qc8w,qc4w,qb4w}_*.
    /// </summary>
    private static string[] WrapperPrefixes(WeightScheme scheme) => scheme switch
    {
        WeightScheme.Qc8w => ["kai_qc8w_"],
        WeightScheme.Qc4w => ["xnn_qp8_f32_qc4w_gemm_minmax_ukernel_", "kai_qc4w_"],
        _ => ["xnn_qp8_f32_qb4w_gemm_minmax_ukernel_", "kai_qb4w_"],
    };

    /// <summary>KleidiAI's run function of a kernel: kai_&lt;kernel&gt; is run by kai_run_&lt;kernel&gt;.</summary>
    private static string RunFunctionOf(string kernelName) => "kai_run_" + kernelName["kai_".Length..];
}
