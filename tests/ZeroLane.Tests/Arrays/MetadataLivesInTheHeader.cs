using System.Text;
using System.Text.Json.Nodes;
using ZeroLane.Arrays;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Arrays;

public sealed class MetadataLivesInTheHeader : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly string _path;

    public MetadataLivesInTheHeader() => _path = Path.Combine(_directory.Path, "meta.npy");

    public void Dispose() => _directory.Dispose();

    private static JsonObject Sample() => new()
    {
        ["sensor"] = "accelerometer",
        ["rate"] = 400.5,
        ["channels"] = new JsonArray("x", "y", "z"),
        ["note"] = "naïve café \u65e5\u672c \"quoted\"\nsecond line #not-a-comment",
    };

    [Fact]
    public void MetadataRoundTripsThroughSaveAndOpen()
    {
        MappedArray<float>.Save(_path, [1, 2, 3, 4, 5, 6], [2, 3], metadata: Sample());
        Assert.True(JsonNode.DeepEquals(Sample(), MappedArray.ReadMetadata(_path)));
        using var array = MappedArray<float>.Open(_path);
        Assert.True(JsonNode.DeepEquals(Sample(), array.Header.GetMetadata()));
        Assert.Equal(6f, array.Get(1, 2));
    }

    [Fact]
    public void MetadataIsOneAsciiLineInAPythonCommentAfterTheDict()
    {
        MappedArray<float>.Save(_path, [1, 2], [2], metadata: Sample());
        NpyHeader header = MappedArray.ReadHeader(_path);
        byte[] bytes = File.ReadAllBytes(_path);
        string text = Encoding.Latin1.GetString(bytes, 10, (int)header.DataOffset - 10);
        Assert.All(text, c => Assert.True(c < 0x80, $"non-ASCII character U+{(int)c:X4} in the header"));
        Assert.Equal(1, text.Count(c => c == '\n'));
        Assert.EndsWith("\n", text);
        Assert.StartsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } #zerolane-metadata:{", text);
        Assert.Equal(0, header.DataOffset % 64);
        Assert.True(header.MetadataCapacity >= NpyHeader.MetadataReserve + header.MetadataJson!.Length);
    }

    [Fact]
    public void AnArrayWithoutMetadataReportsNone()
    {
        MappedArray<byte>.Save(_path, [1, 2, 3], [3]);
        Assert.Null(MappedArray.ReadMetadata(_path));
    }

    [Fact]
    public void MetadataIsReadFromTheHeaderAloneEvenWhenTheDataIsHuge()
    {
        // 4 GiB of sparse data: reading the header alone is the only way this stays instant and allocation-free.
        using (var array = MappedArray<byte>.Create(_path, [4L << 30], metadata: Sample()))
        {
        }
        Assert.True(JsonNode.DeepEquals(Sample(), MappedArray.ReadMetadata(_path)));
    }

    [Fact]
    public void MetadataIsUpdatedInPlaceWithoutMovingTheData()
    {
        MappedArray<int>.Save(_path, [1, 2, 3, 4], [2, 2], metadata: new JsonObject { ["v"] = 1 });
        long offset = MappedArray.ReadHeader(_path).DataOffset;
        long length = new FileInfo(_path).Length;
        using var open = MappedArray<int>.Open(_path, MappedAccess.ReadWrite);

        MappedArray.UpdateMetadata(_path, Sample());

        NpyHeader header = MappedArray.ReadHeader(_path);
        Assert.Equal(offset, header.DataOffset);
        Assert.Equal(length, new FileInfo(_path).Length);
        Assert.True(JsonNode.DeepEquals(Sample(), header.GetMetadata()));
        open.At(1, 1) = 40;
        open.Flush();
        using var reopened = MappedArray<int>.Open(_path);
        Assert.Equal([1, 2, 3, 40], reopened.GetSpan(0, 4).ToArray());
    }

    [Fact]
    public void MetadataCanBeRemovedAndAddedAgainInPlace()
    {
        MappedArray<int>.Save(_path, [1, 2], [2], metadata: Sample());
        MappedArray.UpdateMetadata(_path, null);
        Assert.Null(MappedArray.ReadMetadata(_path));
        MappedArray.UpdateMetadata(_path, Sample());
        Assert.True(JsonNode.DeepEquals(Sample(), MappedArray.ReadMetadata(_path)));
    }

    [Fact]
    public void MetadataTooLargeForTheHeaderIsRefusedAndTheFileIsUnchanged()
    {
        MappedArray<short>.Save(_path, [1, 2, 3], [3], metadata: new JsonObject { ["v"] = 1 });
        byte[] before = File.ReadAllBytes(_path);
        var big = new JsonObject { ["blob"] = new string('x', 5000) };

        var error = Assert.Throws<MetadataTooLargeException>(() => MappedArray.UpdateMetadata(_path, big));

        Assert.Contains("RewriteWithMetadata", error.Message);
        Assert.Equal(MappedArray.ReadHeader(_path).MetadataCapacity, error.Capacity);
        Assert.Equal(before, File.ReadAllBytes(_path));
    }

    [Fact]
    public void RewritingWithALargerHeaderKeepsTheDataAndAlignment()
    {
        MappedArray<short>.Save(_path, [1, 2, 3, 4, 5, 6], [3, 2], ArrayOrder.Fortran);
        var big = new JsonObject { ["blob"] = new string('x', 9_000) };

        MappedArray.RewriteWithMetadata(_path, big);

        NpyHeader header = MappedArray.ReadHeader(_path);
        Assert.Equal(1, header.MajorVersion);
        Assert.Equal(0, header.DataOffset % 64);
        Assert.True(JsonNode.DeepEquals(big, header.GetMetadata()));
        using var array = MappedArray<short>.Open(_path);
        Assert.Equal(ArrayOrder.Fortran, array.Order);
        Assert.Equal([1, 2, 3, 4, 5, 6], array.GetSpan(0, 6).ToArray());
        Assert.Single(Directory.GetFiles(_directory.Path));
    }

    [Fact]
    public void ReadersNeverSeeAHalfWrittenHeaderWhileTheMetadataIsUpdated()
    {
        var first = new JsonObject { ["first"] = new string('a', 700) };
        var second = new JsonObject { ["second"] = new string('b', 90), ["n"] = 2 };
        MappedArray<short>.Save(_path, [1, 2, 3], [3], metadata: first);
        using var stop = new CancellationTokenSource();
        Exception? updateFailure = null;
        var updates = new Thread(() =>
        {
            try
            {
                for (int i = 0; !stop.IsCancellationRequested; i++)
                {
                    MappedArray.UpdateMetadata(_path, i % 2 == 0 ? second : first);
                }
            }
            catch (Exception e)
            {
                updateFailure = e;
            }
        });
        updates.Start();
        try
        {
            for (int i = 0; i < 1000 && updates.IsAlive; i++)
            {
                JsonNode? read = MappedArray.ReadMetadata(_path);
                Assert.True(JsonNode.DeepEquals(read, first) || JsonNode.DeepEquals(read, second), read?.ToJsonString());
                using var array = MappedArray<short>.Open(_path);
                JsonNode? mapped = array.Header.GetMetadata();
                Assert.True(JsonNode.DeepEquals(mapped, first) || JsonNode.DeepEquals(mapped, second), mapped?.ToJsonString());
            }
        }
        finally
        {
            stop.Cancel();
            updates.Join();
        }
        Assert.Null(updateFailure);
    }

    [Fact]
    public void RewritingBeyondNumPysHeaderLimitIsRefusedAndTheFileIsUnchanged()
    {
        MappedArray<short>.Save(_path, [1, 2, 3], [3]);
        byte[] before = File.ReadAllBytes(_path);

        var error = Assert.Throws<MetadataTooLargeException>(() => MappedArray.RewriteWithMetadata(_path, new JsonObject { ["blob"] = new string('x', 100_000) }));

        Assert.Contains("beside the array", error.Message);
        Assert.Equal(before, File.ReadAllBytes(_path));
        Assert.Single(Directory.GetFiles(_directory.Path));
    }

    [Fact]
    public void MetadataCanBeAddedInPlaceToAFileWithSpareHeaderRoom()
    {
        // NumPy-style header: the dict padded to 128 bytes and no metadata.
        File.WriteAllBytes(_path, HandWrittenNpy.Build(HandWrittenNpy.Dict("'<i2'", "(4,)"), 8, dataOffset: 128));
        MappedArray.UpdateMetadata(_path, new JsonObject { ["k"] = "v" });
        Assert.Equal("v", (string?)MappedArray.ReadMetadata(_path)!["k"]);
        Assert.Equal(128, MappedArray.ReadHeader(_path).DataOffset);
    }

    [Fact]
    public void OtherCommentsInTheHeaderAreIgnored()
    {
        File.WriteAllBytes(_path, HandWrittenNpy.Build(HandWrittenNpy.Dict("'<i2'", "(4,)") + " # written by hand", 8));
        Assert.Null(MappedArray.ReadMetadata(_path));
        using var array = MappedArray<short>.Open(_path);
        Assert.Equal(4, array.Length);
    }
}
