using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using Xunit;

namespace ZeroLane.Tests.CrossProcess;

/// <summary>A buffer takes one writer at a time: a second writer process is refused, until the first one is gone.</summary>
public sealed class SingleWriterTests : PeerTest
{
    // 82 frames of 1008 + 16 bytes fill 82% of a 100 KiB payload block.
    private const int PayloadSize = 100 << 10;
    private const int FrameLength = 1008;
    private const int FramesFor82Percent = 82;

    private static readonly ReaderOptions s_options = new() { MetadataSize = 0, PayloadSize = PayloadSize };

    [Fact]
    public void SecondWriterProcessIsRejectedWhileAnotherWriterProcessIsConnected()
    {
        string name = NewName("2wproc");
        using var reader = new RingReader(name, s_options);
        PeerProcess first = StartConnectedWriter(name, "--count", "0", "--hold");

        string refusal = StartPeer("writer", name, "--count", "1").WaitForAnyLine(PeerOutput.Connected, PeerOutput.Error);

        Assert.StartsWith($"{PeerOutput.Error} {nameof(WriterAlreadyConnectedException)}:", refusal);
        Assert.Contains($"pid {first.Id}", refusal);
        Assert.Equal(first.Id, reader.GetStats().WriterPid);
    }

    [Fact]
    public void SecondWriterProcessIsRejectedWhileTheTestProcessWriterHasFilledTheBufferTo80Percent()
    {
        string name = NewName("2w80");
        using var reader = new RingReader(name, s_options);
        using var writer = new RingWriter(name);
        for (ulong sequence = 1; sequence <= FramesFor82Percent; sequence++)
        {
            writer.Write(PatternedFrame(sequence, FrameLength), HangGuard);
        }
        Assert.Equal(BufferHealth.Degraded, reader.GetStats().Health);

        string refusal = StartPeer("writer", name, "--count", "1").WaitForAnyLine(PeerOutput.Connected, PeerOutput.Error);

        Assert.StartsWith($"{PeerOutput.Error} {nameof(WriterAlreadyConnectedException)}:", refusal);
        Assert.Equal(Environment.ProcessId, reader.GetStats().WriterPid);
        // The refused writer did not disturb the frames in the buffer.
        for (ulong sequence = 1; sequence <= FramesFor82Percent; sequence++)
        {
            ReadPatternedFrame(reader, sequence, FrameLength);
        }
    }

    [Fact]
    public void SecondWriterIsRejectedWhileAWriterProcessHasFilledTheBufferTo80PercentAndAcceptedOnceThatWriterIsKilled()
    {
        string name = NewName("2wkill");
        using var reader = new RingReader(name, s_options);
        PeerProcess first = StartConnectedWriter(name, "--size", FrameLength.ToString(), "--count", FramesFor82Percent.ToString(), "--hold");
        first.WaitForLine(PeerOutput.Written);
        Assert.Equal(BufferHealth.Degraded, reader.GetStats().Health);

        string refusal = StartPeer("writer", name, "--count", "1").WaitForAnyLine(PeerOutput.Connected, PeerOutput.Error);
        Assert.StartsWith($"{PeerOutput.Error} {nameof(WriterAlreadyConnectedException)}:", refusal);
        Assert.Throws<WriterAlreadyConnectedException>(() => new RingWriter(name));

        first.Kill();

        // The dead writer's pid is still recorded; connecting clears it.
        PeerProcess second = StartPeer("writer", name, "--size", FrameLength.ToString(), "--count", "10", "--hold");
        Assert.True(PeerOutput.Is(second.WaitForAnyLine(PeerOutput.Connected, PeerOutput.Error), PeerOutput.Connected), second.Describe());
        Assert.Equal(second.Id, reader.GetStats().WriterPid);
        for (ulong sequence = 1; sequence <= FramesFor82Percent; sequence++)
        {
            ReadPatternedFrame(reader, sequence, FrameLength);
        }
        for (ulong sequence = 1; sequence <= 10; sequence++)
        {
            ReadPatternedFrame(reader, sequence, FrameLength);
        }
        second.WaitForLine(PeerOutput.Written);
        second.Send(PeerOutput.ExitCommand);
        Assert.Equal(ReadStatus.WriterDisconnected, reader.TryRead(out _, HangGuard));
    }
}
