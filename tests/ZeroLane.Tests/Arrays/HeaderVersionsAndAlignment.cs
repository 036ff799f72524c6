using System.Text.Json.Nodes;
using ZeroLane.Arrays;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Arrays;

public sealed class HeaderVersionsAndAlignment : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string Write(byte[] bytes, string name)
    {
        string path = Path.Combine(_directory.Path, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void EveryHeaderVersionOpens(int major)
    {
        string path = Write(HandWrittenNpy.Build(HandWrittenNpy.Dict("'<u2'", "(2, 2)", fortran: true) + " #zerolane-metadata:{\"v\":\"\\u00e9\"}", 8, major), $"v{major}.npy");
        using var array = MappedArray<ushort>.Open(path);
        Assert.Equal(major, array.Header.MajorVersion);
        Assert.Equal(ArrayOrder.Fortran, array.Order);
        Assert.Equal((ushort)0x0101, array.Get(1, 1));
        Assert.Equal("\u00e9", (string?)array.Header.GetMetadata()!["v"]);
    }

    [Fact]
    public void AVersionThreeHeaderMayCarryUtf8()
    {
        string path = Write(HandWrittenNpy.Build(HandWrittenNpy.Dict("'<u2'", "(2,)") + " #zerolane-metadata:{\"v\":\"\u65e5\u672c\"}", 4, 3), "utf8.npy");
        Assert.Equal("\u65e5\u672c", (string?)MappedArray.ReadMetadata(path)!["v"]);
        MappedArray.UpdateMetadata(path, new JsonObject { ["w"] = "\u00e9" });
        Assert.Equal("\u00e9", (string?)MappedArray.ReadMetadata(path)!["w"]);
        Assert.Equal(3, MappedArray.ReadHeader(path).MajorVersion);
    }

    [Fact]
    public void UnalignedDataStillReadsAndWritesEveryElement()
    {
        // Data at offset 75: not aligned for double. Old NumPy versions wrote such files.
        byte[] bytes = HandWrittenNpy.Build(HandWrittenNpy.Dict("'<f8'", "(3,)"), 24, dataOffset: 75);
        for (int i = 0; i < 3; i++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(75 + i * 8), i + 0.25);
        }
        string path = Write(bytes, "unaligned.npy");
        using var array = MappedArray<double>.Open(path, MappedAccess.ReadWrite);
        Assert.False(array.IsAligned);
        Assert.Equal([0.25, 1.25, 2.25], [array.Get(0), array.Get(1), array.Get(2)]);
        var copy = new double[3];
        array.CopyTo(0, copy);
        Assert.Equal([0.25, 1.25, 2.25], copy);
        array.Set([2], 9.5);
        Assert.Equal(9.5, array.GetAt(2));
        Assert.Throws<InvalidOperationException>(() => array.GetSpan(0, 3));
        Assert.Throws<InvalidOperationException>(() => array.At(0));
        Assert.Contains("not aligned", Assert.Throws<InvalidOperationException>(() => array.GetChunks()).Message);
    }

    [Fact]
    public void RewritingAnUnalignedFileAlignsIt()
    {
        byte[] bytes = HandWrittenNpy.Build(HandWrittenNpy.Dict("'<f8'", "(3,)"), 24, dataOffset: 75);
        string path = Write(bytes, "realign.npy");
        MappedArray.RewriteWithMetadata(path, null);
        using var array = MappedArray<double>.Open(path);
        Assert.True(array.IsAligned);
        Assert.Equal(BitConverter.Int64BitsToDouble(0x0101010101010101), array.GetSpan(0, 3)[2]);
    }

    [Fact]
    public void HeadersWeWriteEndOnA64ByteBoundaryWithSpareRoomWithinNumPysLimit()
    {
        foreach (int size in new[] { 0, 10, 100, 1000, 8000, 9500 })
        {
            string path = Path.Combine(_directory.Path, $"pad-{size}.npy");
            MappedArray<byte>.Save(path, [7], [1], metadata: new JsonObject { ["s"] = new string('a', size) });
            NpyHeader header = MappedArray.ReadHeader(path);
            Assert.Equal(0, header.DataOffset % 64);
            Assert.Equal(1, header.MajorVersion);
            Assert.InRange(header.DataOffset - 10, 0, NpyHeader.NumPyMaxHeaderLength);
            // The full reserve where it fits under NumPy's limit, otherwise all the room up to it.
            long spare = header.MetadataCapacity - header.MetadataJson!.Length;
            Assert.True(spare >= NpyHeader.MetadataReserve || header.DataOffset + 64 > 10 + NpyHeader.NumPyMaxHeaderLength, $"size {size}: {spare} spare");
        }
    }

    [Fact]
    public void MetadataThatWouldTakeTheHeaderBeyondNumPysLimitIsRefusedAndNothingIsWritten()
    {
        string path = Path.Combine(_directory.Path, "too-big.npy");
        var big = new JsonObject { ["s"] = new string('a', 10_000) };

        var error = Assert.Throws<MetadataTooLargeException>(() => MappedArray<byte>.Save(path, [7], [1], metadata: big));

        Assert.Contains("NumPy refuses .npy headers longer than 10000 bytes", error.Message);
        Assert.InRange(error.Capacity, 9800, 9950);
        Assert.False(File.Exists(path));
        Assert.Throws<MetadataTooLargeException>(() => MappedArray<byte>.Create(path, [1], metadata: big).Dispose());
        Assert.False(File.Exists(path));

        // Exactly the capacity the error named fits.
        var largest = new JsonObject { ["s"] = new string('a', error.Capacity - """{"s":""}""".Length) };
        MappedArray<byte>.Save(path, [7], [1], metadata: largest);
        Assert.True(JsonNode.DeepEquals(largest, MappedArray.ReadMetadata(path)));
    }

    [Fact]
    public void ZeroDimensionalAndEmptyArraysWork()
    {
        string scalar = Path.Combine(_directory.Path, "scalar.npy");
        using (var array = MappedArray<long>.Create(scalar, []))
        {
            Assert.Equal(1, array.Length);
            array.At() = 42;
        }
        using (var array = MappedArray<long>.Open(scalar))
        {
            Assert.Equal(42, array.Get());
        }
        string empty = Path.Combine(_directory.Path, "empty.npy");
        using (var array = MappedArray<long>.Create(empty, [3, 0]))
        {
            Assert.Equal(0, array.Length);
            Assert.Empty(array.GetChunks());
        }
    }
}
