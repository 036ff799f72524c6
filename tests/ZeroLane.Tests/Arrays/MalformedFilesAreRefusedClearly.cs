using System.Buffers.Binary;
using ZeroLane.Arrays;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Arrays;

public sealed class MalformedFilesAreRefusedClearly : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string Write(byte[] bytes, string name = "bad.npy")
    {
        string path = Path.Combine(_directory.Path, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static MappedArrayFormatException RefusedEverywhere<T>(string path) where T : unmanaged
    {
        Assert.Throws<MappedArrayFormatException>(() => MappedArray.ReadHeader(path));
        Assert.Throws<MappedArrayFormatException>(() => MappedArray<T>.Open(path, MappedAccess.ReadWrite).Dispose());
        return Assert.Throws<MappedArrayFormatException>(() => MappedArray<T>.Open(path).Dispose());
    }

    [Fact]
    public void FilesTruncatedAnywhereBeforeTheirLastByteAreRefused()
    {
        string whole = Path.Combine(_directory.Path, "whole.npy");
        MappedArray<double>.Save(whole, [1, 2, 3, 4], [2, 2], metadata: new System.Text.Json.Nodes.JsonObject { ["a"] = 1 });
        byte[] bytes = File.ReadAllBytes(whole);
        foreach (int length in new[] { 1, 5, 6, 7, 8, 9, 10, 11, 40, (int)MappedArray.ReadHeader(whole).DataOffset - 1,
                     (int)MappedArray.ReadHeader(whole).DataOffset, bytes.Length - 8, bytes.Length - 1 })
        {
            string path = Write(bytes[..length], $"truncated-{length}.npy");
            RefusedEverywhere<double>(path);
        }
    }

    [Fact]
    public void AnEmptyFileIsRefused() =>
        Assert.Throws<MappedArrayFormatException>(() => MappedArray<byte>.Open(Write([])));

    [Fact]
    public void AFileWithoutTheMagicStringIsRefused()
    {
        byte[] bytes = HandWrittenNpy.Build(HandWrittenNpy.Dict("'<f4'", "(2,)"), 8);
        bytes[1] = (byte)'X';
        Assert.Contains("magic", RefusedEverywhere<float>(Write(bytes)).Message);
    }

    [Theory]
    [InlineData(4, 0)]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(2, 5)]
    [InlineData(255, 255)]
    public void UnsupportedVersionsAreRefusedNamingTheVersion(int major, int minor)
    {
        byte[] bytes = HandWrittenNpy.Build(HandWrittenNpy.Dict("'<f4'", "(2,)"), 8, major == 1 ? 1 : 2, 0);
        bytes[6] = (byte)major;
        bytes[7] = (byte)minor;
        Assert.Contains($"{major}.{minor}", RefusedEverywhere<float>(Write(bytes)).Message);
    }

    [Theory]
    [InlineData(0xFFFFFFF0u)]
    [InlineData(0x7FFFFFFFu)]
    [InlineData(0x01000001u)]
    [InlineData(0u)]
    public void AbsurdHeaderLengthsAreRefused(uint headerLength)
    {
        byte[] bytes = HandWrittenNpy.Build(HandWrittenNpy.Dict("'<f4'", "(2,)"), 8, major: 2);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), headerLength);
        RefusedEverywhere<float>(Write(bytes));
    }

    [Fact]
    public void AHeaderLengthPastTheEndOfTheFileIsRefused()
    {
        byte[] bytes = HandWrittenNpy.Build(HandWrittenNpy.Dict("'<f4'", "(2,)"), 8);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), 60000);
        Assert.Contains("truncated", RefusedEverywhere<float>(Write(bytes)).Message);
    }

    [Theory]
    [InlineData("'>f4'", "big-endian")]
    [InlineData("'>i8'", "big-endian")]
    [InlineData("'|O'", "'|O'")]
    [InlineData("'<U5'", "'<U5'")]
    [InlineData("'<M8[ns]'", "'<M8[ns]'")]
    [InlineData("'|V8'", "'|V8'")]
    [InlineData("'<f3'", "'<f3'")]
    [InlineData("[('x', '<f4'), ('y', '<f4')]", "[('x', '<f4'), ('y', '<f4')]")]
    public void UnsupportedDtypesAreRefusedNamingTheDtype(string descr, string expected)
    {
        string path = Write(HandWrittenNpy.Build(HandWrittenNpy.Dict(descr, "(2,)"), 64));
        Assert.Contains(expected, RefusedEverywhere<float>(path).Message);
    }

    [Theory]
    [InlineData("(3, 4)")]
    [InlineData("(1000000000000,)")]
    public void AShapeNeedingMoreBytesThanTheFileHasIsRefused(string shape)
    {
        string path = Write(HandWrittenNpy.Build(HandWrittenNpy.Dict("'<f4'", shape), 47));
        Assert.Contains("truncated", RefusedEverywhere<float>(path).Message);
    }

    [Theory]
    [InlineData("(4294967296, 4294967296)")]
    [InlineData("(3037000500, 3037000500)")]
    [InlineData("(99999999999999999999,)")]
    [InlineData("(-1,)")]
    public void AShapeWhoseSizeOverflowsIsRefused(string shape) =>
        RefusedEverywhere<float>(Write(HandWrittenNpy.Build(HandWrittenNpy.Dict("'<f4'", shape), 8)));

    [Theory]
    [InlineData("{'descr': '<f4', 'shape': (2,), }")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1, }")]
    [InlineData("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,) ")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk")]
    [InlineData("__import__('os').system('true')")]
    [InlineData("")]
    public void HeadersThatAreNotTheNumPyDictAreRefused(string dict) =>
        RefusedEverywhere<float>(Write(HandWrittenNpy.Build(dict, 8)));

    [Fact]
    public void AHeaderNotEndingInANewlineIsRefused()
    {
        byte[] bytes = HandWrittenNpy.Build(HandWrittenNpy.Dict("'<f4'", "(2,)"), 8);
        bytes[63] = (byte)' ';
        RefusedEverywhere<float>(Write(bytes));
    }

    [Fact]
    public void AVersionThreeHeaderThatIsNotUtf8IsRefused()
    {
        byte[] bytes = HandWrittenNpy.Build(HandWrittenNpy.Dict("'<f4'", "(2,)") + " #caf\u00e9", 8, major: 3);
        int at = Array.IndexOf(bytes, (byte)'#');
        bytes[at + 4] = 0xFF;
        RefusedEverywhere<float>(Write(bytes));
    }

    /// <summary>
    /// Found by fuzzing (target npy-header, fuzz/corpus/npy-header/regression-metadata-not-json): a metadata comment that
    /// is not JSON threw System.Text.Json's JsonReaderException from ReadMetadata, an exception the API does not document.
    /// </summary>
    [Theory]
    [InlineData("")]
    [InlineData("{\"a\": ")]
    [InlineData("not json")]
    [InlineData("{} {}")]
    public void MetadataThatIsNotJsonIsRefusedAsAFormatErrorWhileTheHeaderStillReads(string metadata)
    {
        string path = Write(HandWrittenNpy.Build(HandWrittenNpy.Dict("'<f4'", "(2,)") + " #zerolane-metadata:" + metadata, 8));

        Assert.Equal(metadata.TrimEnd(), MappedArray.ReadHeader(path).MetadataJson);
        var refused = Assert.Throws<MappedArrayFormatException>(() => MappedArray.ReadMetadata(path));
        Assert.Contains("not valid JSON", refused.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<System.Text.Json.JsonException>(refused.InnerException);
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", "Maybe", "expected True or False")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }", "3), }", "expected ',' or ')' in the shape")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk", "junk", "unexpected 'j' after the dict")]
    [InlineData("{descr: '<f4', 'fortran_order': False, 'shape': (2,), }", "descr:", "expected a string")]
    public void AHeaderErrorNamesTheCharacterCountedFromOneAndTheTextThere(string dict, string found, string problem)
    {
        int character = dict.IndexOf(found, StringComparison.Ordinal) + 1;

        string message = RefusedEverywhere<float>(Write(HandWrittenNpy.Build(dict, 8))).Message;

        Assert.Contains($"{problem} at character {character} of the header text (counting from 1), which reads \"{found}", message);
    }

    [Fact]
    public void AHeaderThatStopsShortSaysItReachedTheEndOfTheHeaderText()
    {
        string message = RefusedEverywhere<float>(Write(HandWrittenNpy.Build("{'descr': '<f4', 'fortran_order': False, 'shape': (2,", 8))).Message;

        Assert.Contains("at the end of the header text", message);
    }
}
