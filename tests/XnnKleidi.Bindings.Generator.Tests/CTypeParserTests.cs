using NUnit.Framework;

namespace XnnKleidi.Bindings.Generator.Tests;

/// <summary>The type strings of clang's AST parse into the C types they name, whatever the declarator nesting.</summary>
[TestFixture]
public sealed class CTypeParserTests
{
    [TestCase("uint32_t", "uint32_t")]
    [TestCase("const struct xnn_allocator *", "struct xnn_allocator const*")]
    [TestCase("xnn_subgraph_t *", "xnn_subgraph_t*")]
    [TestCase("long unsigned int", "unsigned long")]
    [TestCase("void *(*)(void *, size_t)", "void*(void*, size_t)*")]
    [TestCase("enum xnn_status (*)(void *)", "enum xnn_status(void*)*")]
    [TestCase("float *const *", "float* const*")]
    [TestCase("int *[3]", "int*[3]")]
    [TestCase("int (*)[3]", "int[3]*")]
    [TestCase("void (*(*)(int))(void)", "void()*(int)*")]
    public void Parse_ClangTypeString_GivesCType(string clangType, string expected) =>
        Assert.That(CTypeParser.Describe(CTypeParser.Parse(clangType)), Is.EqualTo(expected));

    [Test]
    public void Parse_FunctionType_KeepsParameterOrder()
    {
        var function = (FunctionType)CTypeParser.Parse("enum xnn_status (uint32_t, const float *, xnn_subgraph_t *)");
        Assert.That(function.Parameters.Select(CTypeParser.Describe), Is.EqualTo(new[] { "uint32_t", "float const*", "xnn_subgraph_t*" }));
    }
}
