namespace XnnKleidi.Internal;

/// <summary>
/// Every check <see cref="Linear"/> makes on its arguments before anything native is built or run. The parameter
/// names are those of the public methods, so each exception's ParamName names the caller's argument.
/// </summary>
internal static class LinearArguments
{
    /// <summary>The checks of <see cref="Linear.Create(int, int, LinearWeights, ReadOnlySpan{float}, float, float, LinearOptions?)"/>.</summary>
    public static void ValidateCreate(
        int inputChannels,
        int outputChannels,
        LinearWeights weights,
        ReadOnlySpan<float> bias,
        float outputMin,
        float outputMax,
        LinearOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputChannels, 1);
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.InputChannels != inputChannels || weights.OutputChannels != outputChannels)
        {
            throw new ArgumentException(
                $"The weights are [{weights.OutputChannels}, {weights.InputChannels}]; the layer is [{outputChannels}, {inputChannels}] ([outputChannels, inputChannels]).",
                nameof(weights));
        }

        int maxInputChannels = Linear.GetMaxInputChannels(weights.Scheme);
        if (inputChannels > maxInputChannels)
        {
            throw new ArgumentOutOfRangeException(
                nameof(inputChannels),
                inputChannels,
                $"A {ActivationPackingSupport.Name(weights.Scheme)} layer takes at most {maxInputChannels} input channels: XNNPACK and KleidiAI sum the " +
                $"int8 products of a row in int32, and with {inputChannels} channels some inputs overflow it and give wrong results without any error. " +
                "Split the layer along K into several layers and add their outputs.");
        }

        ValidateBias(bias, outputChannels);
        ValidateClamp(outputMin, outputMax);
        ValidateOptions(options, inputChannels, outputChannels);
    }

    /// <summary>The length checks of both Run overloads; the span overload needs an exact input, the padded one at least enough.</summary>
#pragma warning disable CA2208 // "input" and "output" are the names of the Run parameters these lengths belong to.
    public static void ValidateRun(int inputLength, bool exactInput, int outputLength, int batch, int inputChannels, int outputChannels)
    {
        const string InputName = "input", OutputName = "output";
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        long inputNeeded = (long)batch * inputChannels;
        long outputNeeded = (long)batch * outputChannels;
        if (exactInput ? inputLength != inputNeeded : inputLength < inputNeeded)
        {
            throw new ArgumentException(
                $"The input has {inputLength} floats; batch {batch} × {inputChannels} input channels needs {(exactInput ? "exactly " : "at least ")}{inputNeeded}.",
                InputName);
        }

        if (outputLength != outputNeeded)
        {
            throw new ArgumentException(
                $"The output has {outputLength} floats; batch {batch} × {outputChannels} output channels needs exactly {outputNeeded}.",
                OutputName);
        }
    }
#pragma warning restore CA2208

    private static void ValidateBias(ReadOnlySpan<float> bias, int outputChannels)
    {
        if (bias.IsEmpty)
        {
            return;
        }

        if (bias.Length != outputChannels)
        {
            throw new ArgumentException($"Expected {outputChannels} bias values (one per output channel) or none, got {bias.Length}.", nameof(bias));
        }

        for (int i = 0; i < bias.Length; i++)
        {
            if (!float.IsFinite(bias[i]))
            {
                throw new ArgumentException($"Bias {i} is {bias[i]}; the bias must be finite.", nameof(bias));
            }
        }
    }

    private static void ValidateClamp(float outputMin, float outputMax)
    {
        if (float.IsNaN(outputMin))
        {
            throw new ArgumentException("The lower output clamp is NaN.", nameof(outputMin));
        }

        if (float.IsNaN(outputMax))
        {
            throw new ArgumentException("The upper output clamp is NaN.", nameof(outputMax));
        }

        if (!(outputMin < outputMax))
        {
            throw new ArgumentException($"The output clamp [{outputMin}, {outputMax}] is empty; outputMin must be less than outputMax.", nameof(outputMin));
        }
    }

    private static void ValidateOptions(LinearOptions options, int inputChannels, int outputChannels)
    {
        if (!Enum.IsDefined(options.ActivationPacking))
        {
            throw new ArgumentException($"Unknown activation packing mode {(int)options.ActivationPacking}.", nameof(options));
        }

        int largestBatch = options.AutoTuningBatches[^1];
        if (options.ActivationPacking == ActivationPacking.Auto && (long)largestBatch * Math.Max(inputChannels, outputChannels) > Array.MaxLength)
        {
            throw new ArgumentException(
                $"Auto would time a batch of {largestBatch} rows of {Math.Max(inputChannels, outputChannels)} floats, more than one buffer holds; lower AutoTuningBatches.",
                nameof(options));
        }

        // Touch every shared object now, so a disposed one fails before anything native is built.
        _ = options.ThreadPool?.Handle;
        _ = options.WeightsCache?.Handle;
        _ = options.Workspace?.Handle;
        if (options.WeightsCache is { IsFinalized: true })
        {
            throw FinalizedCache();
        }
    }

    /// <summary>Why a finalized weights cache cannot take another layer's weights.</summary>
    public static InvalidOperationException FinalizedCache() => new(
        "The shared weights cache was finalized when a layer using it first ran, and XNNPACK cannot add weights to a finalized cache. " +
        "Create every layer that shares a weights cache before running any of them, or use another cache.");
}
