using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Wire;

/// <summary>
/// Defect 8: a peer is identified by its PID and, when the ZeroLane extension records it, its start time, so
/// that a PID since reused by another process is not mistaken for the peer. Peers without the extension
/// (start time 0) are judged by PID alone.
/// </summary>
public sealed class ProcessIdentityInTheOieb : BufferTest
{
    private const ulong WrongStartTime = 12345;

    [Fact]
    public void AReaderPidWhoseStartTimeDoesNotMatchIsAReusedPidAndTheReaderIsGone()
    {
        using HandMadeBuffer buffer = HandMadeBuffer.Create(NewName(), 0, 1024, s => s.SetU64(SpecLayout.ReaderStartTime, WrongStartTime));

        Assert.Throws<ReaderGoneException>(() => new RingWriter(buffer.Name));
    }

    [Fact]
    public void AReaderPidWithoutAStartTimeIsJudgedByPidAlone()
    {
        using HandMadeBuffer buffer = HandMadeBuffer.Create(NewName(), 0, 1024);

        using var writer = new RingWriter(buffer.Name);

        Assert.True(writer.IsReaderConnected);
    }

    [Fact]
    public void AWriterClaimWhoseStartTimeDoesNotMatchIsStaleAndANewWriterTakesOver()
    {
        using HandMadeBuffer buffer = HandMadeBuffer.Create(NewName(), 0, 1024, s =>
        {
            s.SetU64(SpecLayout.WriterPid, (ulong)Environment.ProcessId);
            s.SetU64(SpecLayout.WriterStartTime, WrongStartTime);
        });

        using var writer = new RingWriter(buffer.Name);

        Assert.Equal((ulong)Environment.ProcessId, buffer.Segment.U64(SpecLayout.WriterPid));
        Assert.NotEqual(WrongStartTime, buffer.Segment.U64(SpecLayout.WriterStartTime));
    }

    [Fact]
    public void AWriterClaimOfADeadProcessIsStaleAndANewWriterTakesOver()
    {
        using HandMadeBuffer buffer = HandMadeBuffer.Create(NewName(), 0, 1024, s => s.SetU64(SpecLayout.WriterPid, int.MaxValue - 1));

        using var writer = new RingWriter(buffer.Name);

        Assert.Equal((ulong)Environment.ProcessId, buffer.Segment.U64(SpecLayout.WriterPid));
    }

    [Fact]
    public void AWriterClaimOfALiveProcessWithoutAStartTimeIsRespected()
    {
        // A reference peer writer records only its PID.
        using HandMadeBuffer buffer = HandMadeBuffer.Create(NewName(), 0, 1024, s => s.SetU64(SpecLayout.WriterPid, 1));

        Assert.Throws<WriterAlreadyConnectedException>(() => new RingWriter(buffer.Name));
        Assert.Equal(1UL, buffer.Segment.U64(SpecLayout.WriterPid));
    }

    [Fact]
    public void AReaderReportsAWriterWhoseProcessIsGoneAsDiedAfterItsLastFrame()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 1024, PeerCheckInterval = TimeSpan.FromMilliseconds(20) });
        using var peer = new PeerWriter(name);
        peer.Connect();
        peer.WriteFrame(new byte[] { 1 }, sequence: 1);
        peer.Segment.SetU64(SpecLayout.WriterPid, int.MaxValue - 1); // as if the writer process had died

        using (Frame last = reader.Read(Safety.Timeout))
        {
            Assert.Equal(1, last.Span[0]);
        }
        Assert.Equal(ReadStatus.WriterDied, reader.TryRead(out _, Safety.Timeout));
        Assert.Equal(0UL, peer.Segment.U64(SpecLayout.WriterPid));
    }

    [Fact]
    public async Task ReadAllAsyncEndsWithACrashedWriterGoneWhenTheWriterProcessIsGone()
    {
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 1024, PeerCheckInterval = TimeSpan.FromMilliseconds(20) });
        using var peer = new PeerWriter(name);
        peer.Connect();
        peer.WriteFrame(new byte[] { 1 }, sequence: 1);
        peer.WriteFrame(new byte[] { 2 }, sequence: 2);
        peer.Segment.SetU64(SpecLayout.WriterPid, int.MaxValue - 1);
        var received = new List<byte>();
        using var cancellation = new CancellationTokenSource(Safety.Timeout);

        var gone = await Assert.ThrowsAsync<WriterGoneException>(async () =>
        {
            await foreach (Frame frame in reader.ReadAllAsync(cancellation.Token))
            {
                received.Add(frame.Span[0]);
            }
        });

        Assert.True(gone.Crashed);
        Assert.Equal([1, 2], received);
    }
}
