using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using Xunit;

namespace ZeroLane.Tests.CrossProcess;

/// <summary>
/// A reader process killed with SIGKILL: the writer reports it gone, and the next reader of the name removes
/// the stale buffer and creates a fresh one that writers can use.
/// </summary>
public sealed class ReaderDeathTests : PeerTest
{
    private const int FrameLength = 1000;
    private const int PayloadSize = 64 << 10;

    [Fact]
    public void WriterGetsReaderGoneWhenTheReaderIsKilledWhileTheBufferIsFull()
    {
        string lockDirectory = NewLockDirectory();
        string name = NewName("rdiedfull");
        PeerProcess reader = StartHoldingReader(name, "--payload", PayloadSize.ToString(), "--lock-dir", lockDirectory);
        using var writer = new RingWriter(name);
        int written = FillUntilFull(writer);
        Assert.InRange(written, 1, PayloadSize / FrameLength);

        reader.Kill();

        Assert.Equal(WriteStatus.ReaderGone, writer.TryWrite(PatternedFrame(1, FrameLength), HangGuard));
        Assert.False(writer.IsReaderConnected);
        Assert.Throws<ReaderGoneException>(() => writer.Write(PatternedFrame(1, FrameLength), HangGuard));
    }

    [Fact]
    public void WriterGetsReaderGoneAtTheLatestWhenTheKilledReadersBufferHasFilledUp()
    {
        string lockDirectory = NewLockDirectory();
        string name = NewName("rdiedempty");
        PeerProcess reader = StartHoldingReader(name, "--payload", PayloadSize.ToString(), "--lock-dir", lockDirectory);
        using var writer = new RingWriter(name);
        Assert.True(writer.IsReaderConnected);

        reader.Kill();

        Assert.False(writer.IsReaderConnected);
        // Writes that still fit may succeed (the fast path does not check the reader); once the block is full
        // the writer must report the reader gone instead of waiting.
        int acceptedAfterDeath = 0;
        WriteStatus status;
        while ((status = writer.TryWrite(PatternedFrame(1, FrameLength), HangGuard)) == WriteStatus.Success)
        {
            acceptedAfterDeath++;
            Assert.True(acceptedAfterDeath <= PayloadSize / FrameLength, "the writer kept accepting frames after the block must be full");
        }
        Assert.Equal(WriteStatus.ReaderGone, status);
    }

    [Fact]
    public void NextReaderOfTheNameReplacesTheKilledReadersBufferAndANewWriterConnectsToIt()
    {
        string lockDirectory = NewLockDirectory();
        string name = NewName("rdiedreuse");
        PeerProcess deadReader = StartHoldingReader(name, "--payload", PayloadSize.ToString(), "--lock-dir", lockDirectory);
        using (var writer = new RingWriter(name))
        {
            FillUntilFull(writer);
            deadReader.Kill();
            Assert.Equal(WriteStatus.ReaderGone, writer.TryWrite(PatternedFrame(1, FrameLength), HangGuard));
        }
        Assert.Equal(4, Leftovers(name, lockDirectory).Length);
        PeerProcess lateWriter = StartPeer("writer", name, "--count", "1");
        string refusal = lateWriter.WaitForLine(PeerOutput.Error);
        Assert.Contains(nameof(ReaderGoneException), refusal);

        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = PayloadSize, LockDirectory = lockDirectory });
        PeerProcess newWriter = StartConnectedWriter(name, "--size", FrameLength.ToString(), "--count", "100");

        for (ulong sequence = 1; sequence <= 100; sequence++)
        {
            ReadPatternedFrame(reader, sequence, FrameLength);
        }
        Assert.Equal(ReadStatus.WriterDisconnected, reader.TryRead(out _, HangGuard));
        newWriter.WaitForLine(PeerOutput.Bye);
        Assert.Equal(PayloadSize, reader.GetStats().FreeBytes);
    }

    [Fact]
    public void WriterGetsReaderGoneWhenTheKilledReaderIsAZombieItsParentHasNotReaped()
    {
        string lockDirectory = NewLockDirectory();
        string name = NewName("rzombiew");
        (_, int readerPid) = StartPeerUnderNonReapingParent("hold-reader", name, "--payload", PayloadSize.ToString(), "--lock-dir", lockDirectory);
        using var writer = new RingWriter(name);
        FillUntilFull(writer);

        KillAndLeaveZombie(readerPid);

        Assert.Equal(WriteStatus.ReaderGone, writer.TryWrite(PatternedFrame(1, FrameLength), TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void NextReaderReplacesTheBufferOfAKilledReaderThatIsStillAZombie()
    {
        string lockDirectory = NewLockDirectory();
        string name = NewName("rzombier");
        (_, int readerPid) = StartPeerUnderNonReapingParent("hold-reader", name, "--payload", PayloadSize.ToString(), "--lock-dir", lockDirectory);

        KillAndLeaveZombie(readerPid);

        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = PayloadSize, LockDirectory = lockDirectory });
        Assert.Equal(Environment.ProcessId, reader.GetStats().ReaderPid);
    }

    [Fact]
    public void WriterGetsReaderGoneOnTheFirstWriteOnceTheDetectionIntervalHasPassedSinceTheReaderWasKilled()
    {
        // The frames a writer puts into a dead reader's buffer are lost. The writer's PeerCheckInterval is
        // its dead-reader detection time; once that much time has passed since the kill, a write must not
        // report success. (Sleeping longer than the interval makes this independent of machine speed.)
        string lockDirectory = NewLockDirectory();
        string name = NewName("rdiedinterval");
        PeerProcess reader = StartHoldingReader(name, "--payload", PayloadSize.ToString(), "--lock-dir", lockDirectory);
        var interval = TimeSpan.FromMilliseconds(100);
        using var writer = new RingWriter(name, new WriterOptions { PeerCheckInterval = interval });
        Assert.Equal(WriteStatus.Success, writer.TryWrite(PatternedFrame(1, FrameLength), HangGuard));

        reader.Kill();
        Thread.Sleep(3 * interval);

        Assert.Equal(WriteStatus.ReaderGone, writer.TryWrite(PatternedFrame(2, FrameLength), HangGuard));
    }

    /// <summary>Writes frames without waiting until one does not fit; returns how many fitted.</summary>
    private static int FillUntilFull(RingWriter writer)
    {
        byte[] frame = PatternedFrame(1, FrameLength);
        for (int written = 0; written <= PayloadSize / FrameLength; written++)
        {
            if (writer.TryWrite(frame, TimeSpan.Zero) != WriteStatus.Success)
            {
                return written;
            }
        }
        throw new InvalidOperationException("The buffer took more frames than it can hold.");
    }
}
