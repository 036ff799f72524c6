using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>A buffer has one reader: a second reader of the same name is rejected and the first keeps working.</summary>
public sealed class OneReaderPerBuffer : BufferTest
{
    [Fact]
    public void ASecondReaderOfTheSameNameIsRejectedAndTheFirstKeepsWorking()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 });
        using var writer = new RingWriter(name);
        writer.Write(new byte[] { 1 }, Safety.Timeout);

        var rejected = Assert.Throws<ReaderAlreadyConnectedException>(() => new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 }));

        Assert.Contains(name, rejected.Message, StringComparison.Ordinal);
        writer.Write(new byte[] { 2 }, Safety.Timeout);
        using (Frame first = reader.Read(Safety.Timeout))
        {
            Assert.Equal(1, first.Span[0]);
        }
        using Frame second = reader.Read(Safety.Timeout);
        Assert.Equal(2, second.Span[0]);
    }

    [Fact]
    public void TwoReadersRacingForOneNameEndWithExactlyOneOwner()
    {
        string name = NewName();
        using var start = new Barrier(4);
        Task<RingReader?>[] attempts = [.. Enumerable.Range(0, 4).Select(_ => Safety.OnThread(() =>
        {
            start.SignalAndWait(Safety.Timeout);
            try
            {
                return new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 });
            }
            catch (ReaderAlreadyConnectedException)
            {
                return null;
            }
        }))];

        RingReader?[] readers = [.. attempts.Select(a => Safety.Join(a, "a reader attempt"))];
        try
        {
            Assert.Single(readers, r => r is not null);
        }
        finally
        {
            foreach (RingReader? reader in readers)
            {
                reader?.Dispose();
            }
        }
    }

    [Fact]
    public void AfterTheReaderIsDisposedANewReaderCanCreateTheBufferAgain()
    {
        string name = NewName();
        new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 }).Dispose();

        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 });
        using var writer = new RingWriter(name);
        writer.Write(new byte[] { 1 }, Safety.Timeout);
        using Frame frame = reader.Read(Safety.Timeout);
        Assert.Equal(1UL, frame.Sequence);
    }
}
