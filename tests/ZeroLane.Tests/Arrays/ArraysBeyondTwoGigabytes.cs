using ZeroLane.Arrays;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Arrays;

public sealed class ArraysBeyondTwoGigabytes : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void ASparseArrayOfThreeBillionBytesIsWrittenAtItsFarEndAndReadBack()
    {
        string path = Path.Combine(_directory.Path, "huge.npy");
        const long count = 3_000_000_000;
        using (var array = MappedArray<byte>.Create(path, [3, 1_000_000_000]))
        {
            Assert.Equal(count, array.Length);
            array.At(2, 999_999_999) = 0xAB;
            array.Set([2, 999_999_998], 0xCD);
            array.GetWritableSpan(count - 100, 10)[0] = 0xEF;
            array.Flush();
        }
        using (var array = MappedArray<byte>.Open(path, MappedAccess.ReadOnly))
        {
            Assert.Equal(count, array.Length);
            Assert.Equal(0xAB, array.Get(2, 999_999_999));
            Assert.Equal(0xCD, array.GetAt(count - 2));
            Assert.Equal(0xEF, array.GetSpan(count - 100, 1)[0]);
            Assert.Equal(0, array.Get(0, 0));
        }
    }

    [Fact]
    public void ChunksCoverAnArrayLargerThanOneSpanExactly()
    {
        string path = Path.Combine(_directory.Path, "floats.npy");
        const long count = 600_000_000; // 2.4 GB of float32
        using (var array = MappedArray<float>.Create(path, [count], ArrayOrder.Fortran))
        {
            array.SetAt(count - 1, 1.5f);
            array.SetAt(0, -1f);
        }
        using (var array = MappedArray<float>.Open(path, MappedAccess.CopyOnWrite))
        {
            Assert.True(array.ByteLength > int.MaxValue);
            var chunks = array.GetChunks(250_000_000).ToList();
            Assert.Equal([250_000_000, 250_000_000, 100_000_000], chunks.Select(c => c.Length));
            Assert.Equal(-1f, chunks[0].Span[0]);
            Assert.Equal(1.5f, chunks[2].Span[^1]);
            var whole = array.GetChunks().ToList();
            Assert.Equal(count, whole.Sum(c => (long)c.Length));
            Assert.Equal(1.5f, whole[^1].Span[^1]);
        }
    }
}
