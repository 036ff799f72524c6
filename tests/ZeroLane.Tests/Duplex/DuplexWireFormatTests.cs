using ZeroLane.Buffers;
using ZeroLane.Duplex;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using Xunit;

namespace ZeroLane.Tests.Duplex;

/// <summary>
/// The wire format, proved without our own client or server on the other side: a plain ring pair in this process
/// speaks the channel's two rings (NAME_request, NAME_response) exactly as a reference peer does, to a server and a
/// client in child processes.
/// </summary>
public sealed class DuplexWireFormatTests : DuplexTest
{
    private ReaderOptions PlainReader => RingOptions;

    [Fact]
    public void AServerAnswersAPlainRingPairWithTheBareResponseUnderTheRequestsSequence()
    {
        string channel = NewChannel();
        var server = StartServer(channel);
        using (var responses = new RingReader(ResponseRing(channel), PlainReader))
        using (RingWriter requests = RingWriter.Connect(RequestRing(channel), HangGuard))
        {
            int[] sizes = [1, 16, 1000, 100_000];
            for (int i = 0; i < sizes.Length; i++)
            {
                requests.Write(Patterned((ulong)i + 1, sizes[i]));
            }
            requests.Write([.. DuplexScenarios.FailRequest]);
            for (int i = 0; i < sizes.Length; i++)
            {
                using Frame response = responses.Read(HangGuard);
                Assert.Equal((ulong)i + 1, response.Sequence);
                // No prefix: the payload is exactly the response bytes (here the echoed request).
                Assert.Equal(sizes[i], response.Length);
                Assert.Null(FramePattern.Verify(response.Span, (ulong)i + 1));
            }
            using (Frame failed = responses.Read(HangGuard))
            {
                Assert.Equal((ulong)sizes.Length + 1, failed.Sequence);
                byte[] expected = [.. "\0ZLERR\0"u8, .. System.Text.Encoding.UTF8.GetBytes($"InvalidOperationException: {DuplexScenarios.FailureText}")];
                Assert.Equal(expected, failed.Span.ToArray());
            }
        }
        Assert.Contains("failed=1", StopServer(server));
        AssertNoLeftovers(channel);
    }

    [Fact]
    public void AClientIsAnsweredByAPlainRingPairThatConnectsOnTheFirstRequest()
    {
        string channel = NewChannel();
        const int Count = 40;
        using (var requests = new RingReader(RequestRing(channel), PlainReader))
        {
            var client = StartClient(channel, "--count", Count.ToString(), "--pipeline", "3", "--max-size", "30000");
            RingWriter? responses = null;
            try
            {
                for (ulong sequence = 1; sequence <= Count; sequence++)
                {
                    using Frame request = requests.Read(HangGuard);
                    Assert.Equal(sequence, request.Sequence);
                    Assert.Null(FramePattern.Verify(request.Span, sequence));
                    // The client created its response ring before it wrote its first request.
                    responses ??= new RingWriter(ResponseRing(channel));
                    responses.Write(request.Span);
                }
                Assert.True(PeerOutput.Is(client.WaitForAnyLine(PeerOutput.Ok, PeerOutput.Error), PeerOutput.Ok), client.Describe());
                Assert.True(client.WaitForExit(HangGuard), client.Describe());
                Assert.Equal(ReadStatus.WriterDisconnected, requests.TryRead(out _, HangGuard));
            }
            finally
            {
                responses?.Dispose();
            }
        }
        AssertNoLeftovers(channel);
    }

    [Fact]
    public void AClientNeverHandsOnAnAnswerFromAResponseWriterThatRestartedItsCount()
    {
        string channel = NewChannel();
        using (var requests = new RingReader(RequestRing(channel), PlainReader))
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            // A server whose response writer reconnects in the middle of a session restarts the count: its next frame
            // carries sequence 1 while request 2 waits. The client must fail (the ring reports the first writer's
            // departure, or the sequence check refuses the frame), never return that frame as the answer to request 2.
            ulong first = client.SendRequest("one"u8, HangGuard);
            requests.Read(HangGuard).Dispose();
            using (var responses = new RingWriter(ResponseRing(channel)))
            {
                responses.Write("answer one"u8);
            }
            client.ReceiveResponse(first, HangGuard).Dispose();
            ulong second = client.SendRequest("two"u8, HangGuard);
            Assert.Equal(2UL, second);
            requests.Read(HangGuard).Dispose();
            using (var restarted = new RingWriter(ResponseRing(channel)))
            {
                restarted.Write("answer two, numbered 1"u8);
                Exception error = Assert.ThrowsAny<ZeroLaneException>(() => client.ReceiveResponse(second, HangGuard));
                Assert.True(error is DuplexSequenceMismatchException or DuplexServerGoneException, error.ToString());
            }
        }
        AssertNoLeftovers(channel);
    }

    [Fact]
    public void AClientRefusesAResponseWhoseSequenceIsNotItsRequestsAndEveryLaterCallFails()
    {
        string channel = NewChannel();
        using (var requests = new RingReader(RequestRing(channel), PlainReader))
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            // A reference writer (frames written by hand from the spec) answers request 1; then another process (PID 1,
            // alive) takes the response ring over without a disconnect and starts its count again at 1 while request 2
            // waits: a valid ring frame, but not the answer to request 2.
            using var responses = new PeerWriter(ResponseRing(channel));
            ulong first = client.SendRequest("one"u8, HangGuard);
            requests.Read(HangGuard).Dispose();
            responses.Connect();
            responses.WriteFrame("answer one"u8, sequence: 1);
            using (Frame answer = client.ReceiveResponse(first, HangGuard))
            {
                Assert.Equal("answer one"u8, answer.Span);
            }
            ulong second = client.SendRequest("two"u8, HangGuard);
            requests.Read(HangGuard).Dispose();
            responses.Connect(pid: 1);
            responses.WriteFrame("restarted"u8, sequence: 1);
            var mismatch = Assert.Throws<DuplexSequenceMismatchException>(() => client.ReceiveResponse(second, HangGuard));
            Assert.Equal(2UL, mismatch.Expected);
            Assert.Equal(1UL, mismatch.Received);
            Assert.Throws<DuplexSequenceMismatchException>(() => client.SendRequest("three"u8, HangGuard));
            responses.Disconnect();
        }
        AssertNoLeftovers(channel);
    }

    [Fact]
    public void AServerAnswersAReferenceClientBuiltByHandAcrossTwoSessions()
    {
        string channel = NewChannel();
        var server = StartServer(channel);
        // The client's side as a reference peer does it, from the spec alone: it creates NAME_response (OIEB by hand,
        // no ZeroLane extension) and writes requests into NAME_request with headers it builds itself.
        using (var responses = HandMadeBuffer.Create(ResponseRing(channel), 0, 64 << 10))
        {
            using (var requests = new PeerWriter(RequestRing(channel)))
            {
                for (int session = 1; session <= 2; session++)
                {
                    requests.Connect();
                    requests.WriteFrame("first"u8, sequence: 1);
                    requests.WriteFrame(DuplexScenarios.FailRequest, sequence: 2);
                    requests.WriteFrame("third"u8, sequence: 3);
                    Assert.Equal(("first", 1UL), ReadByHand(responses));
                    (string failed, ulong failedSequence) = ReadByHand(responses);
                    Assert.Equal(2UL, failedSequence);
                    Assert.StartsWith("\0ZLERR\0InvalidOperationException", failed);
                    Assert.Equal(("third", 3UL), ReadByHand(responses));
                    requests.Disconnect();
                    // The server ends the session: it leaves the response ring before the next client's sequence 1.
                    Assert.True(SpinWait.SpinUntil(() => responses.Segment.U64(SpecLayout.WriterPid) == 0, HangGuard), server.Describe());
                }
            }
            Assert.Contains("answered=6 failed=2 sessions=2", StopServer(server));
        }
        AssertNoLeftovers(channel);
    }

    private static (string Payload, ulong Sequence) ReadByHand(HandMadeBuffer ring)
    {
        byte[] payload = [];
        ulong sequence = 0;
        Assert.True(SpinWait.SpinUntil(() => ring.TryReadFrame(out payload, out sequence), HangGuard), "no response arrived");
        return (System.Text.Encoding.UTF8.GetString(payload), sequence);
    }
}
