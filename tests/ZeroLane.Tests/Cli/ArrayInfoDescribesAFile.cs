using System.Text.Json.Nodes;
using ZeroLane.Arrays;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Cli;

/// <summary><c>zerolane array info FILE</c> prints what the header says, and one-line errors for bad files.</summary>
public sealed class ArrayInfoDescribesAFile : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("zltest-array-info-").FullName;

    [Fact]
    public async Task InfoPrintsDtypeShapeOrderSizeAndMetadata()
    {
        string path = Path.Combine(_directory, "a.npy");
        MappedArray<double>.Save(path, new double[6], [2, 3], ArrayOrder.Fortran, new JsonObject { ["unit"] = "m/s", ["rate"] = 30 });

        ToolResult result = await ToolProcess.RunAsync("array", "info", path);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("<f8 (Double, 8 bytes)", result.Output);
        Assert.Contains("(2, 3)", result.Output);
        Assert.Contains("Fortran (column-major)", result.Output);
        Assert.Contains("48 B at offset", result.Output);
        Assert.Contains("(64-byte aligned)", result.Output);
        Assert.Contains("\"unit\": \"m/s\"", result.Output);
        Assert.Contains("\"rate\": 30", result.Output);
    }

    [Fact]
    public async Task AFileWithoutMetadataSaysNone()
    {
        string path = Path.Combine(_directory, "b.npy");
        MappedArray<byte>.Save(path, new byte[5], [5]);

        ToolResult result = await ToolProcess.RunAsync("array", "info", path);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("(5,)", result.Output);
        Assert.Matches(@"metadata\s+none", result.Output);
    }

    [Fact]
    public async Task AMissingFileIsAOneLineError()
    {
        ToolResult result = await ToolProcess.RunAsync("array", "info", Path.Combine(_directory, "missing.npy"));

        ToolProcess.AssertOneLineError(result, "no file '" + Path.Combine(_directory, "missing.npy") + "': check the path.");
    }

    [Fact]
    public async Task ADirectoryIsAOneLineErrorSayingItIsADirectory()
    {
        ToolResult result = await ToolProcess.RunAsync("array", "info", _directory);

        ToolProcess.AssertOneLineError(result, $"'{_directory}' is a directory, not an .npy file.");
    }

    [Theory]
    [InlineData("np.array(['abc', 'de'], dtype='<U10')", "<U10 (40 bytes)", "80 B at offset", "'<U10' is not supported")]
    [InlineData("np.array([1, 'x'], dtype=object)", "|O", "size unknown at offset", "'|O' is not supported")]
    [InlineData("np.zeros(2, dtype=[('x', '<f4'), ('y', '<i2')])", "[('x', '<f4'), ('y', '<i2')]", "size unknown at offset", "structured dtype")]
    [InlineData("np.arange(2, dtype='>f8')", ">f8 (8 bytes)", "16 B at offset", "big-endian")]
    public async Task InfoDescribesADtypeItCannotMapAndSaysWhyItCannotBeOpened(string array, string dtype, string data, string reason)
    {
        string path = Path.Combine(_directory, "u.npy");
        ZeroLane.Tests.Arrays.NumPy.Run($"np.save(sys.argv[1], {array})", path);

        ToolResult result = await ToolProcess.RunAsync("array", "info", path);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches($@"dtype\s+{System.Text.RegularExpressions.Regex.Escape(dtype)}\n", result.Output);
        Assert.Contains("(2,)", result.Output);
        Assert.Contains("C (row-major)", result.Output);
        Assert.Contains(data, result.Output);
        Assert.Matches(@"metadata\s+none", result.Output);
        string mapping = Assert.Single(result.Output.Split('\n'), line => line.StartsWith("mapping", StringComparison.Ordinal));
        Assert.Contains("cannot be opened as a mapped array: ", mapping);
        Assert.Contains(reason, mapping);
        Assert.Empty(result.Error);
    }

    [Fact]
    public async Task AMappableFileSaysWhichMappedArrayOpensIt()
    {
        string path = Path.Combine(_directory, "d.npy");
        MappedArray<double>.Save(path, new double[2], [2]);

        ToolResult result = await ToolProcess.RunAsync("array", "info", path);

        Assert.Matches(@"mapping\s+can be opened as MappedArray<Double>", result.Output);
    }

    [Fact]
    public async Task AHeaderErrorIsOneLineThatNamesTheCharacterCountedFromOne()
    {
        string path = Path.Combine(_directory, "e.npy");
        string dict = "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }";
        File.WriteAllBytes(path, ZeroLane.Tests.Arrays.HandWrittenNpy.Build(dict, 8));

        ToolResult result = await ToolProcess.RunAsync("array", "info", path);

        ToolProcess.AssertOneLineError(result, $"expected True or False at character {dict.IndexOf("Maybe", StringComparison.Ordinal) + 1} of the header text (counting from 1), which reads \"Maybe, 'shape': ...\"");
    }

    [Fact]
    public async Task AFileThatIsNotNpyIsAOneLineError()
    {
        string path = Path.Combine(_directory, "c.npy");
        File.WriteAllText(path, "not an array");

        ToolResult result = await ToolProcess.RunAsync("array", "info", path);

        ToolProcess.AssertOneLineError(result, "is not a .npy file");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
