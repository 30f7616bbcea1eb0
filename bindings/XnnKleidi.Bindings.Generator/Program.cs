namespace XnnKleidi.Bindings.Generator;
internal static class Program { private static int Main() => 0; }
