using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>A buffer takes one writer at a time; when it disconnects, a new one may connect and starts at sequence 1.</summary>
public sealed class OneWriterAtATime : BufferTest
{
    [Fact]
    public void ASecondWriterIsRejectedWhileOneIsConnected()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 });
        using var writer = new RingWriter(name);

        Assert.Throws<WriterAlreadyConnectedException>(() => new RingWriter(name));
        writer.Write(new byte[] { 1 }, Safety.Timeout);
        using Frame frame = reader.Read(Safety.Timeout);
        Assert.Equal(1UL, frame.Sequence);
    }

    [Fact]
    public void ASecondWriterIsRejectedWhenTheBufferIsEightyPercentFull()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 10240 });
        using var writer = new RingWriter(name);
        for (int i = 0; i < 8; i++)
        {
            writer.Write(new byte[1024 - 16], Safety.Timeout);
        }
        Assert.Equal(0.8, reader.GetStats().Utilization, precision: 3);

        Assert.Throws<WriterAlreadyConnectedException>(() => new RingWriter(name));

        for (int i = 1; i <= 8; i++)
        {
            using Frame frame = reader.Read(Safety.Timeout);
            Assert.Equal((ulong)i, frame.Sequence);
        }
    }

    [Fact]
    public void AfterTheWriterDisconnectsANewWriterConnectsAndItsFramesStartAtSequenceOne()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 });
        // The new writer's first write may wait until the previous writer's frames are consumed, so the reader runs alongside.
        // The reader may see the gap between the two writers (WriterDisconnected, as documented); it keeps waiting through it.
        Task<(ulong Sequence, byte[] Bytes)[]> reading = Safety.OnThread(() => Enumerable.Range(0, 3).Select(_ =>
        {
            Frame frame;
            ReadStatus status;
            while ((status = reader.TryRead(out frame, Safety.Timeout)) == ReadStatus.WriterDisconnected)
            {
            }
            Assert.Equal(ReadStatus.Success, status);
            using (frame)
            {
                return (frame.Sequence, frame.Span.ToArray());
            }
        }).ToArray());
        using (var first = new RingWriter(name))
        {
            first.Write(Patterns.Create(10, seed: 1), Safety.Timeout);
            first.Write(Patterns.Create(10, seed: 2), Safety.Timeout);
        }
        using var second = new RingWriter(name);
        second.Write(Patterns.Create(10, seed: 3), Safety.Timeout);

        (ulong Sequence, byte[] Bytes)[] frames = Safety.Join(reading, "the reader");
        Assert.Equal([1UL, 2UL, 1UL], frames.Select(f => f.Sequence));
        for (int i = 0; i < 3; i++)
        {
            Patterns.AssertMatches(frames[i].Bytes, 10, seed: (ulong)i + 1);
        }
    }

    /// <summary>
    /// The reader holds the last frame of a writer that has since disconnected; a new writer finds most of the
    /// block free. Its first write must not wait for that frame's release (there is room), nor for ever.
    /// </summary>
    [Fact]
    public void ANewWriterCanWriteWhileTheReaderStillHoldsAFrameOfThePreviousWriter()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 });
        using (var first = new RingWriter(name))
        {
            first.Write(Patterns.Create(10, seed: 1), Safety.Timeout);
        }
        using Frame held = reader.Read(Safety.Timeout);
        using var second = new RingWriter(name);

        WriteStatus status = second.TryWrite(Patterns.Create(10, seed: 2), TimeSpan.FromSeconds(5));

        Assert.Equal(WriteStatus.Success, status);
        Patterns.AssertMatches(held.Span, 10, seed: 1);
    }

    [Fact]
    public void TheReaderReportsTheDisconnectOnlyAfterEveryFrameOfTheWriterWasRead()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 });
        using (var writer = new RingWriter(name))
        {
            Assert.True(reader.IsWriterConnected);
            writer.Write(new byte[] { 1 }, Safety.Timeout);
            writer.Write(new byte[] { 2 }, Safety.Timeout);
        }

        Assert.False(reader.IsWriterConnected);
        reader.Read(Safety.Timeout).Dispose();
        reader.Read(Safety.Timeout).Dispose();
        var gone = Assert.Throws<WriterGoneException>(() => reader.Read(Safety.Timeout));
        Assert.False(gone.Crashed);
    }

    [Fact]
    public void AReaderBlockedWaitingForFramesLearnsOfTheDisconnect()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096 });
        var writer = new RingWriter(name);
        writer.Write(new byte[] { 1 }, Safety.Timeout);
        reader.Read(Safety.Timeout).Dispose();
        Task<ReadStatus> waiting = Safety.OnThread(() => reader.TryRead(out _, Safety.Timeout));

        writer.Dispose();

        Assert.Equal(ReadStatus.WriterDisconnected, Safety.Join(waiting, "the waiting reader"));
    }
}
