using System.Globalization;
using Xunit;
using Xunit.Abstractions;
using ZeroLane.Duplex;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;

namespace ZeroLane.Tests.Duplex.Crash;

/// <summary>
/// Client processes killed with SIGKILL at random points while one server in this process answers them: the server keeps
/// running, counts what it could not deliver as dropped, and serves the next client correctly from sequence 1; nothing
/// is left behind.
/// </summary>
/// <remarks>
/// The kill points: right after connecting (no request yet); anywhere in a stream of pipelined requests; while the
/// server's handler runs (it waits for the test, which releases it once the client is dead); and while the server writes
/// a large answer into a full response ring (the client sent its requests and reads nothing). The server's handler
/// checks that every request it is given is the client's request under its own sequence number, counted from 1 in every
/// session. Nothing here depends on timing; the waits are hang guards.
/// </remarks>
public sealed class DuplexClientCrashTests(ITestOutputHelper output) : DuplexCrashTest(output)
{
    /// <summary>Trials per run and handler kind (each starts one client process).</summary>
    private const int Trials = 5;

    /// <summary>The response ring of a client that is sent large answers, and the size of those answers: one fits, two do not.</summary>
    private const int SmallResponseRing = 64 << 10;

    private const int LargeAnswer = 40 << 10;

    private enum KillPoint
    {
        AfterConnecting,
        InAStream,
        InAHandler,
        WhileALargeAnswerIsWritten,
    }

    [Theory]
    [MemberData(nameof(DuplexCrashSetup.NamesAndHandlerKinds), MemberType = typeof(DuplexCrashSetup))]
    public void AClientKilledAtAnyPointLeavesTheServerRunningAndTheNextClientIsServedFromSequenceOne(string setupName, bool serverWritesInPlace)
    {
        DuplexCrashSetup setup = DuplexCrashSetup.Get(setupName);
        string channel = NewChannel("dxcc");
        var handler = new CheckingHandler();
        DuplexServer server = serverWritesInPlace
            ? new DuplexServer(channel, handler.AnswerInPlace, setup.Server(RingOptions))
            : new DuplexServer(channel, handler.Answer, setup.Server(RingOptions));
        using (server)
        {
            RunTrials(Trials, (_, random, describe) => Trial(setup, server, serverWritesInPlace, handler, channel, random, describe));
            Assert.True(server.IsRunning);
        }
        Assert.Null(server.Fault);
        AssertNoLeftovers(channel);
    }

    private void Trial(DuplexCrashSetup setup, DuplexServer server, bool serverWritesInPlace, CheckingHandler handler, string channel, Random random, Action<string> describe)
    {
        var point = (KillPoint)random.Next(4);
        long answered = server.RequestsAnswered, dropped = server.RequestsDropped, sessions = server.SessionsEnded;
        handler.NewTrial();
        PeerProcess client;
        int sent = 0;
        switch (point)
        {
            case KillPoint.AfterConnecting:
                describe($"kill point {point}");
                client = StartClient(channel, ["--count", "0", "--hold", .. setup.PeerArguments]);
                Assert.True(PeerOutput.Is(client.WaitForAnyLine(PeerOutput.Ok, PeerOutput.Error), PeerOutput.Ok), client.Describe());
                break;
            case KillPoint.InAStream:
            {
                int pipeline = random.Next(1, 17), killAfter = random.Next(1, 150);
                describe($"kill point {point}, pipeline {pipeline}, after {killAfter} requests were handled");
                client = StartClient(channel, ["--count", "1000000", "--pipeline", Text(pipeline), "--max-size", "20000", .. setup.PeerArguments]);
                WaitUntil(() => handler.Calls >= killAfter, client, $"the server to handle {killAfter} requests");
                if (random.Next(2) == 0)
                {
                    // A random point between two handled requests, not an assertion.
                    Thread.Sleep(random.Next(0, 3));
                }
                break;
            }
            case KillPoint.InAHandler:
            {
                int pipeline = random.Next(1, 9), blockAt = random.Next(1, 20);
                describe($"kill point {point}, pipeline {pipeline}, in the handler of request {blockAt}");
                handler.BlockAt(blockAt);
                client = StartClient(channel, ["--count", "1000", "--pipeline", Text(pipeline), "--max-size", "5000", .. setup.PeerArguments]);
                WaitUntil(() => handler.IsBlocked, client, $"the handler of request {blockAt} to run");
                break;
            }
            default:
            {
                sent = random.Next(2, 9);
                describe($"kill point {point}, {sent} requests sent, {LargeAnswer}-byte answers into a {SmallResponseRing}-byte response ring");
                handler.AnswerWith(LargeAnswer);
                client = StartClient(channel,
                    ["--send-only", "--hold", "--count", Text(sent), "--max-size", "64", "--payload", Text(SmallResponseRing), .. setup.PeerArguments]);
                Assert.True(PeerOutput.Is(client.WaitForAnyLine(PeerOutput.Sent, PeerOutput.Error), PeerOutput.Sent), client.Describe());
                // The first answer fits, the second cannot. A server that returns its answers runs the second handler, then
                // waits for room to copy it; one that writes in place waits for room for its loan before the handler runs.
                int handled = serverWritesInPlace ? 1 : 2;
                WaitUntil(() => handler.Calls >= handled, client, $"the server to handle request {handled}");
                break;
            }
        }

        client.Kill();
        handler.Release();
        WaitUntil(() => server.SessionsEnded > sessions, null, "the server to end the dead client's session");

        Assert.True(server.IsRunning, $"the server stopped: {server.Fault}");
        Assert.Null(handler.Problem);
        Assert.Equal(0, server.RequestsFailed);
        long answeredNow = server.RequestsAnswered - answered, droppedNow = server.RequestsDropped - dropped;
        int calls = handler.Calls;
        Assert.True(answeredNow <= calls && calls <= answeredNow + droppedNow,
            $"the handler ran {calls} times, but {answeredNow} requests were answered and {droppedNow} dropped");
        switch (point)
        {
            case KillPoint.AfterConnecting:
                Assert.Equal(0, calls);
                Assert.Equal(0, answeredNow + droppedNow);
                break;
            case KillPoint.WhileALargeAnswerIsWritten:
                // Every request was read: one answered (it fit), the one whose answer was being written and the rest dropped.
                Assert.Equal(1, answeredNow);
                Assert.Equal(sent - 1, droppedNow);
                break;
        }

        // The next client, in this process, is served from sequence 1 and gets its own answers.
        handler.NewTrial();
        int count = random.Next(1, 10);
        using (DuplexClient next = DuplexClient.Connect(channel, HangGuard, setup.Client(RingOptions)))
        {
            for (ulong sequence = 1; sequence <= (ulong)count; sequence++)
            {
                byte[] request = Patterned(sequence, FramePattern.VariedLength(sequence, 3000));
                using Frame response = next.Request(request, HangGuard);
                Assert.Equal(sequence, response.Sequence);
                Assert.True(response.Span.SequenceEqual(request), $"the next client's request {sequence} was not answered with its own bytes");
            }
        }
        WaitUntil(() => server.SessionsEnded > sessions + 1, null, "the server to end the next client's session");
        Assert.Null(handler.Problem);
        Assert.Equal(count, server.RequestsAnswered - answered - answeredNow);
        Assert.Empty(Leftovers(ResponseRing(channel), LockDirectory));
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Waits (hang guard only) for <paramref name="condition"/>; fails at once if the client process exits first.</summary>
    private static void WaitUntil(Func<bool> condition, PeerProcess? client, string what)
    {
        bool met = SpinWait.SpinUntil(() => condition() || (client?.HasExited ?? false), HangGuard);
        Assert.True(met && condition(), $"Waited in vain for {what}. {client?.Describe()}");
    }

    /// <summary>
    /// The server's handler: echoes (or answers with a large patterned frame), checks that the requests of each session
    /// are the duplex-client's patterned requests numbered 1, 2, 3..., and can be made to block in one request until
    /// released.
    /// </summary>
    private sealed class CheckingHandler
    {
        private readonly ManualResetEventSlim _release = new(initialState: true);
        private readonly byte[] _large = new byte[LargeAnswer];
        private int _calls;
        private ulong _lastSequence;
        private int _largeLength;
        private int _blockAt;
        private volatile bool _blocked;
        private volatile string? _problem;

        /// <summary>Requests handled since the trial began.</summary>
        internal int Calls => Volatile.Read(ref _calls);

        internal bool IsBlocked => _blocked;

        /// <summary>The first wrong request seen, if any.</summary>
        internal string? Problem => _problem;

        internal void NewTrial()
        {
            Volatile.Write(ref _calls, 0);
            Volatile.Write(ref _largeLength, 0);
            Volatile.Write(ref _blockAt, 0);
            _blocked = false;
            _release.Set();
        }

        internal void AnswerWith(int length) => Volatile.Write(ref _largeLength, length);

        internal void BlockAt(int sequence)
        {
            _release.Reset();
            Volatile.Write(ref _blockAt, sequence);
        }

        internal void Release() => _release.Set();

        internal ReadOnlySpan<byte> Answer(Frame request)
        {
            int large = Observe(request);
            return large > 0 ? _large.AsSpan(0, large) : request.Span;
        }

        internal void AnswerInPlace(Frame request, System.Buffers.IBufferWriter<byte> response)
        {
            int large = Observe(request);
            ReadOnlySpan<byte> answer = large > 0 ? _large.AsSpan(0, large) : request.Span;
            answer.CopyTo(response.GetSpan(answer.Length));
            response.Advance(answer.Length);
        }

        private int Observe(Frame request)
        {
            // A session's requests are numbered 1, 2, 3...; a new client starts again at 1.
            ulong expected = request.Sequence == 1 ? 1 : _lastSequence + 1;
            string? wrong = request.Sequence != expected
                ? $"out of order (expected {expected})"
                : FramePattern.Verify(request.Span, request.Sequence);
            if (wrong is not null && _problem is null)
            {
                _problem = $"request {request.Sequence} ({request.Length} bytes) after {_lastSequence}: {wrong}";
            }
            _lastSequence = request.Sequence;
            Interlocked.Increment(ref _calls);
            if ((int)request.Sequence == Volatile.Read(ref _blockAt))
            {
                _blocked = true;
                _release.Wait(HangGuard);
            }
            int large = Volatile.Read(ref _largeLength);
            if (large > 0)
            {
                FramePattern.Fill(_large.AsSpan(0, large), request.Sequence);
            }
            return large;
        }
    }
}
