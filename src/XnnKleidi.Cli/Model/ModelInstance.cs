namespace XnnKleidi.Cli.Model;

/// <summary>
/// One model built for one packing mode and thread count: a <see cref="Linear"/> per layer with that layer's own
/// weights, all created with profiling on. What the layers share is what one XNNPACK runtime of the whole model would
/// share: the thread pool, the workspace (XNNPACK plans one arena for a runtime's internal tensors, here the quantized
/// activations) and the activation buffers, used in turn (layer i reads what layer i − 1 wrote). Nothing else: no
/// weights cache (no two layers have the same weights), no input of its own per layer.
/// </summary>
internal sealed class ModelInstance : IDisposable
{
    private readonly Linear[] linears;
    private readonly PaddedInputBuffer modelInput;
    private readonly PaddedInputBuffer[] activations;
    private readonly XnnWorkspace workspace;
    private bool disposed;

    private ModelInstance(ModelWeights model, ActivationPacking packing, int threads, Linear[] linears,
        PaddedInputBuffer modelInput, PaddedInputBuffer[] activations, XnnWorkspace workspace)
    {
        Model = model;
        Packing = packing;
        Threads = threads;
        this.linears = linears;
        this.modelInput = modelInput;
        this.activations = activations;
        this.workspace = workspace;
    }

    public ModelWeights Model { get; }

    public ActivationPacking Packing { get; }

    public int Threads { get; }

    public IReadOnlyList<Linear> Linears => linears;

    /// <summary>Builds every layer. <paramref name="threadPool"/> is null for one thread (XNNPACK then runs on the caller).</summary>
    public static ModelInstance Create(ModelWeights model, ActivationPacking packing, int threads, XnnThreadPool? threadPool)
    {
        ArgumentNullException.ThrowIfNull(model);
        IReadOnlyList<ModelLayer> layers = model.Layers;
        int inputLength = layers[0].M * layers[0].K;
        int activationLength = layers.Max(layer => layer.M * Math.Max(layer.K, layer.N));
        var linears = new List<Linear>(layers.Count);
        var buffers = new List<IDisposable>();
        var workspace = new XnnWorkspace();
        try
        {
            var modelInput = new PaddedInputBuffer(inputLength);
            buffers.Add(modelInput);
            ModelWeights.FillUniform(modelInput.Span, model.ModelInputSeed);
            var activations = new PaddedInputBuffer[2];
            for (int i = 0; i < activations.Length; i++)
            {
                activations[i] = new PaddedInputBuffer(activationLength);
                buffers.Add(activations[i]);
                // A layer may read more of a buffer than the layer before wrote (K above that N); the rest is finite.
                ModelWeights.FillUniform(activations[i].Span, model.ModelInputSeed + 1 + i);
            }

            for (int index = 0; index < layers.Count; index++)
            {
                ModelLayer layer = layers[index];
                var options = new LinearOptions
                {
                    ActivationPacking = packing,
                    ThreadPool = threadPool,
                    Workspace = workspace,
                    EnableProfiling = true,
                    // Auto decides at the layer's own token count, not at its default of one row.
                    AutoTuningBatch = layer.M,
                };
                linears.Add(Linear.Create(layer.K, layer.N, model.Weights[index], model.Biases[index], options: options));
            }

            return new ModelInstance(model, packing, threads, [.. linears], modelInput, activations, workspace);
        }
        catch
        {
            foreach (Linear linear in linears)
            {
                linear.Dispose();
            }

            foreach (IDisposable buffer in buffers)
            {
                buffer.Dispose();
            }

            workspace.Dispose();
            throw;
        }
    }

    /// <summary>The buffer layer <paramref name="index"/> reads: the model input for the first, else the one the layer before wrote.</summary>
    public PaddedInputBuffer InputOf(int index) => index == 0 ? modelInput : activations[(index - 1) % 2];

    /// <summary>Where layer <paramref name="index"/> writes: exactly M × N floats of the buffer the next layer reads.</summary>
    public Span<float> OutputOf(int index)
    {
        ModelLayer layer = Model.Layers[index];
        return activations[index % 2].Span[..(layer.M * layer.N)];
    }

    /// <summary>One call of layer <paramref name="index"/> on its place in the forward pass.</summary>
    public void Run(int index) => linears[index].Run(InputOf(index), OutputOf(index), Model.Layers[index].M);

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        foreach (Linear linear in linears)
        {
            linear.Dispose();
        }

        modelInput.Dispose();
        foreach (PaddedInputBuffer buffer in activations)
        {
            buffer.Dispose();
        }

        workspace.Dispose();
    }
}
