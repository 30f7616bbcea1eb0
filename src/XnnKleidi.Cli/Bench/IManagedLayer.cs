namespace XnnKleidi.Cli.Bench;

/// <summary>A layer built through XnnKleidi's managed API, with what the API reports about it.</summary>
internal interface IManagedLayer : ILayerRunner
{
    /// <summary>Whether the activations are packed for KleidiAI (QP8) in this layer.</summary>
    bool PackingActive { get; }

    /// <summary>Why packing is not active although it was asked for, or null.</summary>
    string? FallbackReason { get; }

    /// <summary>The KleidiAI kernel when packing runs, else the GEMM operator's name.</summary>
    string? Kernel { get; }

    /// <summary>The Arm kernel family the layer runs at its batch (<see cref="Linear.GetKernelFamily"/>); null off Arm.</summary>
    ArmKernelFamily? KernelFamily { get; }

    /// <summary>The XNNPACK runtime flags the layer was created with, for the C harness to match.</summary>
    uint RuntimeFlags { get; }

    /// <summary>Anything else worth a line in the report (e.g. Auto's timings), or null.</summary>
    string? Note { get; }
}
