using ZeroLane.Arrays;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Arrays;

/// <summary>
/// A mapped file that another process truncates gives a clear exception when spans, chunks, copies, message parts
/// or a flush are made, instead of touching pages the file no longer has.
/// </summary>
public sealed class FilesThatShrinkWhileOpen : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), TestBuffers.UniqueName("shrink") + ".npy");

    [Theory]
    [InlineData(MappedAccess.ReadOnly)]
    [InlineData(MappedAccess.ReadWrite)]
    [InlineData(MappedAccess.CopyOnWrite)]
    public void EverySpanCopyChunkAndFlushFailsClearlyAfterTheFileShrank(MappedAccess access)
    {
        MappedArray<int>.Save(_path, new int[4096], [4096]);
        using MappedArray<int> array = MappedArray<int>.Open(_path, access);
        Assert.Equal(4096, array.GetSpan(0, 4096).Length);

        // What another process might do to the file while we have it mapped.
        using (var stream = new FileStream(_path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            stream.SetLength(array.Header.DataOffset + 100);
        }

        var error = Assert.Throws<MappedArrayFormatException>(() => array.GetSpan(0, 10).Length);
        Assert.Contains("changed size while it was open", error.Message);
        Assert.Throws<MappedArrayFormatException>(() => array.CopyTo(0, new int[10]));
        Assert.Throws<MappedArrayFormatException>(() => array.GetChunks().First());
        Assert.Throws<MappedArrayFormatException>(() => array.AddTo(ZeroLane.Messages.Message.CreateBuilder()));
        Assert.Throws<MappedArrayFormatException>(() => array.Flush());
        if (access != MappedAccess.ReadOnly)
        {
            Assert.Throws<MappedArrayFormatException>(() => array.GetWritableSpan(0, 10).Length);
        }
    }

    [Fact]
    public void AFileThatGrewIsStillServed()
    {
        MappedArray<int>.Save(_path, Enumerable.Range(0, 100).ToArray(), [100]);
        using MappedArray<int> array = MappedArray<int>.Open(_path);
        using (var stream = new FileStream(_path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            stream.SetLength(stream.Length + 4096);
        }

        Assert.Equal(99, array.GetSpan(0, 100)[99]);
    }

    public void Dispose() => File.Delete(_path);
}
