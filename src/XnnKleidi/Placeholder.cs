namespace XnnKleidi; internal static class Placeholder { }
