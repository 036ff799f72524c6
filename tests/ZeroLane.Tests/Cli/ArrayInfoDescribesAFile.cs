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

        ToolProcess.AssertOneLineError(result, "No file");
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
