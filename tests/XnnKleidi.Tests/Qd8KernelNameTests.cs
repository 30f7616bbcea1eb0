using NUnit.Framework;
using XnnKleidi.Interop;
using XnnKleidi.Tests.Support;

namespace XnnKleidi.Tests;

/// <summary>
/// The XNNPACK QD8 microkernel the library names is the function its QD8 configuration selects. The oracle is the
/// loaded library file: the address the library reports (xnnkleidi_qd8_ukernel_address) is named through the file's
/// ELF <c>.symtab</c>, and that symbol must be the reported name. On every CPU model and on x86-64 an unpacked
/// quantized layer runs a QD8 kernel, so every scheme and batch size must have one, of its own scheme, with the
/// 1-row kernel for one row where the configuration has it.
/// </summary>
[TestFixture]
[Category(TestCategories.KernelDependent)]
public sealed class Qd8KernelNameTests
{

    [Category(TestCategories.ElfSymbols)]
    [TestCaseSource(typeof(KernelTestCases), nameof(KernelTestCases.SchemesAndBatches))]
    public void ReportedName_IsTheSymbolAtTheSelectedAddress(WeightScheme scheme, int batch)
    {
        string? name = ActivationPackingSupport.GetQd8KernelName(scheme, batch);
        IntPtr address = SelectedUkernel(scheme, batch);

        Assert.That(address, Is.Not.EqualTo(IntPtr.Zero), $"no {scheme} QD8 microkernel selected for M = {batch}");
        IReadOnlyList<string> symbols = LoadedLibraryImage.Current.Symbols
            .FunctionsStartingAt(LoadedLibraryImage.Current.ToFileAddress(address)).Select(function => function.Name).ToList();
        Assert.That(symbols, Does.Contain(name), $"the {scheme} microkernel for M = {batch} is {string.Join(" / ", symbols)}");
    }

    [TestCaseSource(typeof(KernelTestCases), nameof(KernelTestCases.SchemesAndBatches))]
    public void ReportedName_IsAQd8GemmOfTheSchemesWeights(WeightScheme scheme, int batch)
    {
        string? name = ActivationPackingSupport.GetQd8KernelName(scheme, batch);

        Assert.That(name, Does.StartWith($"xnn_qd8_f32_{scheme.ToString().ToLowerInvariant()}_gemm_minmax_ukernel_"));
    }

    [TestCaseSource(typeof(KernelTestCases), nameof(KernelTestCases.QuantizedSchemes))]
    public void OneRow_TakesTheSingleRowKernel_AndMoreRowsATallerOne(WeightScheme scheme)
    {
        string one = ActivationPackingSupport.GetQd8KernelName(scheme, 1)!;
        string many = ActivationPackingSupport.GetQd8KernelName(scheme, 197)!;

        // XNNPACK names a kernel by its tile, "<mr>x<nr>…": every QD8 configuration here has a 1-row kernel.
        Assert.That(TileRows(one), Is.EqualTo(1), one);
        Assert.That(TileRows(many), Is.GreaterThan(1), many);
    }

    [TestCaseSource(typeof(KernelTestCases), nameof(KernelTestCases.SchemesAndBatches))]
    public void Linear_ReportsTheQd8KernelUnpacked_AndNoneWhenPacked(WeightScheme scheme, int batch)
    {
        float[] weights = TestData.Uniform(24 * 64, -1f, 1f, seed: 5);
        using Linear off = Linear.Create(64, 24, weights, scheme, options: new LinearOptions { ActivationPacking = ActivationPacking.Off });
        using Linear on = Linear.Create(64, 24, weights, scheme, options: new LinearOptions { ActivationPacking = ActivationPacking.On });

        Assert.That(off.GetExecutionInfo(batch).Qd8KernelName, Is.EqualTo(ActivationPackingSupport.GetQd8KernelName(scheme, batch)));
        LinearExecutionInfo packed = on.GetExecutionInfo(batch);
        Assert.That(packed.Qd8KernelName, packed.IsActivationPackingActive ? Is.Null : Is.EqualTo(ActivationPackingSupport.GetQd8KernelName(scheme, batch)));
    }

    [Test]
    public void Fp32_HasNoQd8Kernel() =>
        Assert.That(ActivationPackingSupport.GetQd8KernelName(WeightScheme.F32, 1), Is.Null);

    private static int TileRows(string name)
    {
        string tile = name[(name.LastIndexOf("_ukernel_", StringComparison.Ordinal) + "_ukernel_".Length)..];
        return int.Parse(tile[..tile.IndexOf('x', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static IntPtr SelectedUkernel(WeightScheme scheme, int batch)
    {
        NativeLibraryLoader.EnsureLoaded();
        unsafe
        {
            return (IntPtr)NativeMethods.xnnkleidi_qd8_ukernel_address(ActivationPackingSupport.Datatype(scheme), (nuint)batch);
        }
    }
}
