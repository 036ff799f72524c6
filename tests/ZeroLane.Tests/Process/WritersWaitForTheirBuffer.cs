using ZeroLane.Buffers;
using ZeroLane.Ipc;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using Xunit;

namespace ZeroLane.Tests.CrossProcess;

/// <summary>
/// <see cref="RingWriter.Connect(string, TimeSpan, WriterOptions?, CancellationToken)"/> and its Try and async forms wait for a
/// reader to create the buffer: they connect once it appears (in this process or another), time out with a status or a
/// <see cref="TimeoutException"/> that says what was missing, and stop at once when cancelled. "Waiting" is observed as the
/// wait's watch on /dev/shm being registered, never as time passing.
/// </summary>
public sealed class WritersWaitForTheirBuffer : PeerTest
{
    private static readonly ReaderOptions Small = new() { MetadataSize = 0, PayloadSize = 64 << 10 };

    [Fact]
    public void AConnectStartedBeforeTheReaderConnectsOnceAReaderOnAnotherThreadCreatesTheBuffer()
    {
        string name = NewName("connect-thread");
        Task<RingWriter> connecting = Safety.OnThread(() => RingWriter.Connect(name, Safety.Timeout));
        WaitUntilWaiting(name, connecting);

        using var reader = new RingReader(name, Small);
        using RingWriter writer = Safety.Join(connecting);
        writer.Write("hello"u8, Safety.Timeout);
        using Frame frame = reader.Read(Safety.Timeout);
        Assert.Equal("hello"u8.ToArray(), frame.Span.ToArray());
    }

    [Fact]
    public void AConnectStartedBeforeTheReaderProcessConnectsOnceThatProcessCreatesTheBuffer()
    {
        string name = NewName("connect-process");
        Task<(ConnectStatus Status, RingWriter? Writer)> connecting = Safety.OnThread(() =>
            (RingWriter.TryConnect(name, out RingWriter? writer, Safety.Timeout), writer));
        WaitUntilWaiting(name, connecting);

        PeerProcess reader = StartPeer("reader", name, "--payload", "65536", "--hold");
        int readerPid = PeerProcess.PidIn(reader.WaitForAnyLine(PeerOutput.Ready, PeerOutput.Error));
        (ConnectStatus status, RingWriter? connected) = Safety.Join(connecting);

        Assert.Equal(ConnectStatus.Success, status);
        using RingWriter writer = connected!;
        Assert.Equal(readerPid, writer.GetStats().ReaderPid);
        Assert.True(writer.IsReaderConnected);
    }

    [Fact]
    public async Task AnAsyncConnectStartedBeforeTheReaderConnectsOnceTheBufferAppears()
    {
        string name = NewName("connect-async");
        ValueTask<RingWriter> pending = RingWriter.ConnectAsync(name, Safety.Timeout);
        Task<RingWriter> connecting = pending.AsTask();
        WaitUntilWaiting(name, connecting);

        using var reader = new RingReader(name, Small);
        using RingWriter writer = await connecting.WaitAsync(Safety.Timeout);
        Assert.True(writer.IsReaderConnected);
        Assert.True(reader.IsWriterConnected);
    }

    [Fact]
    public async Task TryConnectAsyncReturnsTheWriterOnceTheBufferAppears()
    {
        string name = NewName("tryconnect-async");
        Task<ConnectResult> connecting = RingWriter.TryConnectAsync(name, Safety.Timeout).AsTask();
        WaitUntilWaiting(name, connecting);

        using var reader = new RingReader(name, Small);
        ConnectResult result = await connecting.WaitAsync(Safety.Timeout);
        Assert.Equal(ConnectStatus.Success, result.Status);
        using RingWriter writer = result.Writer!;
        Assert.True(reader.IsWriterConnected);
    }

    [Fact]
    public void AnExistingBufferIsConnectedAtOnceEvenWithAZeroTimeout()
    {
        string name = NewName("connect-present");
        using var reader = new RingReader(name, Small);

        Assert.Equal(ConnectStatus.Success, RingWriter.TryConnect(name, out RingWriter? writer, TimeSpan.Zero));
        using (writer)
        {
            Assert.True(reader.IsWriterConnected);
        }
    }

    [Fact]
    public void WithoutAReaderTryConnectTimesOutWithNoWriter()
    {
        string name = NewName("connect-none");

        Assert.Equal(ConnectStatus.TimedOut, RingWriter.TryConnect(name, out RingWriter? writer, Safety.Short));
        Assert.Null(writer);
        Assert.Equal(ConnectStatus.TimedOut, RingWriter.TryConnect(name, out writer, TimeSpan.Zero));
        Assert.Null(writer);
        Assert.False(SharedMemoryWatch.IsWatching(name));
        Assert.Empty(Leftovers(name));
    }

    [Fact]
    public void WithoutAReaderConnectThrowsATimeoutThatSaysToStartTheReader()
    {
        string name = NewName("connect-none-throw");

        var error = Assert.Throws<TimeoutException>(() => RingWriter.Connect(name, TimeSpan.FromMilliseconds(50)));

        Assert.Equal(
            $"No live reader created buffer '{name}' within 50 ms. Buffer '{name}' was not found: no shared memory of that name exists. " +
            "A reader creates the buffer and the writer connects to it, so start the reader first.",
            error.Message);
        Assert.IsType<BufferNotFoundException>(error.InnerException);
        Assert.Empty(Leftovers(name));
    }

    [Fact]
    public async Task WithoutAReaderTheAsyncFormsTimeOutToo()
    {
        string name = NewName("connect-none-async");

        ConnectResult result = await RingWriter.TryConnectAsync(name, Safety.Short);
        Assert.Equal(new ConnectResult(ConnectStatus.TimedOut, null), result);
        var error = await Assert.ThrowsAsync<TimeoutException>(async () => await RingWriter.ConnectAsync(name, Safety.Short));
        Assert.StartsWith($"No live reader created buffer '{name}' within 50 ms.", error.Message);
    }

    [Fact]
    public void CancellingAWaitingConnectEndsItWithOperationCanceled()
    {
        string name = NewName("connect-cancel");
        using var cancel = new CancellationTokenSource();
        Task<RingWriter> connecting = Safety.OnThread(() => RingWriter.Connect(name, cancel.Token));
        WaitUntilWaiting(name, connecting);

        cancel.Cancel();

        Assert.True(((IAsyncResult)connecting).AsyncWaitHandle.WaitOne(Safety.Timeout), "the cancelled connect did not end");
        Assert.IsType<OperationCanceledException>(connecting.Exception?.InnerException, exactMatch: false);
        Assert.False(SharedMemoryWatch.IsWatching(name));
    }

    [Fact]
    public async Task CancellingAWaitingAsyncConnectEndsItWithOperationCanceled()
    {
        string name = NewName("connect-cancel-async");
        using var cancel = new CancellationTokenSource();
        Task<ConnectResult> connecting = RingWriter.TryConnectAsync(name, Timeout.InfiniteTimeSpan, null, cancel.Token).AsTask();
        WaitUntilWaiting(name, connecting);

        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connecting.WaitAsync(Safety.Timeout));
        Assert.False(SharedMemoryWatch.IsWatching(name));
    }

    [Fact]
    public void ABufferWhoseReaderDiedIsWaitedPastUntilANewReaderReplacesIt()
    {
        string name = NewName("connect-stale");
        // A private lock directory: no other test's reader removes this stale buffer before the new reader here does.
        string locks = NewLockDirectory();
        PeerProcess dead = StartPeer("reader", name, "--payload", "65536", "--lock-dir", locks, "--hold");
        dead.WaitForAnyLine(PeerOutput.Ready, PeerOutput.Error);
        dead.Kill();
        Assert.True(dead.WaitForExit(HangGuard), dead.Describe());

        Assert.Equal(ConnectStatus.TimedOut, RingWriter.TryConnect(name, out _, TimeSpan.Zero));
        var error = Assert.Throws<TimeoutException>(() => RingWriter.Connect(name, TimeSpan.Zero));
        Assert.IsType<ReaderGoneException>(error.InnerException);

        Task<RingWriter> connecting = Safety.OnThread(() => RingWriter.Connect(name, Safety.Timeout));
        WaitUntilWaiting(name, connecting);
        using var reader = new RingReader(name, Small with { LockDirectory = locks });
        using RingWriter writer = Safety.Join(connecting);
        Assert.Equal(Environment.ProcessId, writer.GetStats().ReaderPid);
    }

    [Fact]
    public void BadArgumentsAreRefusedBeforeAnyWait()
    {
        Assert.Throws<InvalidNameException>(() => RingWriter.Connect("bad/name", Safety.Timeout));
        Assert.Throws<ArgumentOutOfRangeException>(() => RingWriter.TryConnect(NewName("connect-arg"), out _, TimeSpan.FromSeconds(-2)));
    }

    /// <summary>Waits until a connect of <paramref name="name"/> has registered its watch (it is waiting), failing if it ended first.</summary>
    private static void WaitUntilWaiting(string name, Task connecting)
    {
        Assert.True(SpinWait.SpinUntil(() => SharedMemoryWatch.IsWatching(name) || connecting.IsCompleted, Safety.Timeout),
            "the connect never started waiting");
        Assert.False(connecting.IsCompleted, $"the connect ended before any reader existed: {connecting.Exception}");
    }
}
