using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using Xunit;

namespace ZeroLane.Tests.CrossProcess;

/// <summary>A writer process that disposes its writer: the reader reads every frame, then sees a graceful disconnect.</summary>
public sealed class WriterDisconnectTests : PeerTest
{
    private static readonly ReaderOptions s_options = new() { MetadataSize = 0, PayloadSize = 1 << 20 };

    [Fact]
    public void ReaderReadsEveryFrameThenReportsWriterDisconnected()
    {
        string name = NewName("wdisc");
        using var reader = new RingReader(name, s_options);
        PeerProcess writer = StartConnectedWriter(name, "--size", "1000", "--count", "50");
        writer.WaitForLine(PeerOutput.Bye);
        Assert.True(writer.WaitForExit(HangGuard), writer.Describe());
        Assert.Equal(ExitCodes.Success, writer.ExitCode);

        for (ulong sequence = 1; sequence <= 50; sequence++)
        {
            ReadPatternedFrame(reader, sequence, 1000);
        }
        Assert.Equal(ReadStatus.WriterDisconnected, reader.TryRead(out _, HangGuard));
        Assert.False(reader.IsWriterConnected);
    }

    [Fact]
    public void ReaderKeepsUpWithAWriterThatOutrunsTheBufferAndThenSeesItDisconnect()
    {
        // 2,000 frames of 1..64 KiB through 256 KiB: the writer blocks on space many times.
        string name = NewName("wdiscflow");
        using var reader = new RingReader(name, s_options with { PayloadSize = 256 << 10 });
        PeerProcess writer = StartConnectedWriter(name, "--max-size", "65536", "--count", "2000");

        for (ulong sequence = 1; sequence <= 2000; sequence++)
        {
            ReadPatternedFrame(reader, sequence, FramePattern.VariedLength(sequence, 65536));
        }

        Assert.Equal(ReadStatus.WriterDisconnected, reader.TryRead(out _, HangGuard));
        writer.WaitForLine(PeerOutput.Bye);
    }

    [Fact]
    public async Task ReadAllAsyncEndsWithoutErrorWhenTheWriterDisconnects()
    {
        string name = NewName("wdiscasync");
        using var reader = new RingReader(name, s_options);
        PeerProcess writer = StartConnectedWriter(name, "--size", "3000", "--count", "30");
        writer.WaitForLine(PeerOutput.Bye);

        var sequences = new List<ulong>();
        using var guard = new CancellationTokenSource(HangGuard);
        await foreach (Frame frame in reader.ReadAllAsync(guard.Token))
        {
            Assert.Null(FramePattern.Verify(frame.Span, frame.Sequence));
            sequences.Add(frame.Sequence);
        }

        Assert.Equal(Enumerable.Range(1, 30).Select(i => (ulong)i), sequences);
    }
}
