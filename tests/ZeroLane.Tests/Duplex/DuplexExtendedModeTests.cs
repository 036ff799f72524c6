using System.Buffers.Binary;
using System.Text;
using ZeroLane.Buffers;
using ZeroLane.Duplex;
using ZeroLane.Messages;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using Xunit;

namespace ZeroLane.Tests.Duplex;

/// <summary>
/// The extended mode between two ZeroLane ends (PROTOCOL.md 14.5): how each end learns the mode, answers out of order,
/// concurrent handlers, the handler shapes, and the wire format proved with plain rings on the other side.
/// </summary>
public sealed class DuplexExtendedModeTests : DuplexTest
{
    [Theory]
    [InlineData(DuplexMode.Extended, DuplexMode.Extended, DuplexMode.Extended)]
    [InlineData(DuplexMode.Reference, DuplexMode.Extended, DuplexMode.Reference)]
    [InlineData(DuplexMode.Extended, DuplexMode.Reference, DuplexMode.Reference)]
    public void BothEndsSpeakTheExtendedModeOnlyWhenBothOfferIt(DuplexMode server, DuplexMode client, DuplexMode spoken)
    {
        string channel = NewChannel();
        var peer = StartServer(channel, "--mode", server.ToString().ToLowerInvariant());
        using (DuplexClient duplex = DuplexClient.Connect(channel, HangGuard, ClientOptions with { Mode = client }))
        {
            Assert.Equal(spoken, duplex.Mode);
            using (Frame echo = duplex.Request(Patterned(1, 300), HangGuard))
            {
                Assert.Equal(1UL, echo.Sequence);
                Assert.Null(FramePattern.Verify(echo.Span, 1));
            }
            // A failure reaches the client the way the spoken mode carries it.
            if (spoken == DuplexMode.Extended)
            {
                Assert.Throws<DuplexRequestFailedException>(() => duplex.Request([.. DuplexScenarios.FailRequest], HangGuard));
            }
            else
            {
                using Frame failed = duplex.Request([.. DuplexScenarios.FailRequest], HangGuard);
                Assert.True(DuplexFailure.TryGetMessage(failed.Span, out _));
            }
        }
        Assert.Contains("answered=2 failed=1", StopServer(peer));
        AssertNoLeftovers(channel);
    }

    [Fact]
    public void ConcurrentHandlersAnswerOutOfOrderAndEachCallerGetsItsOwnAnswer()
    {
        string channel = NewChannel();
        using var secondAnswered = new ManualResetEventSlim();
        using (var server = new DuplexServer(channel, request =>
        {
            if (request.Span[0] == 1)
            {
                // The first request is held until the client has received the second one's answer: only an
                // out-of-order answer lets this test finish.
                Assert.True(secondAnswered.Wait(HangGuard));
            }
            return request.Span;
        }, ServerOptions with { MaxConcurrency = 4 }))
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            Assert.Equal(DuplexMode.Extended, client.Mode);
            ulong first = client.SendRequest([1, 10, 11], HangGuard);
            ulong second = client.SendRequest([2, 20], HangGuard);
            using (Frame answer = client.ReceiveResponse(second, HangGuard))
            {
                Assert.Equal(second, answer.Sequence);
                Assert.Equal([2, 20], answer.Span.ToArray());
            }
            secondAnswered.Set();
            using (Frame answer = client.ReceiveResponse(first, HangGuard))
            {
                Assert.Equal(first, answer.Sequence);
                Assert.Equal([1, 10, 11], answer.Span.ToArray());
            }
            Assert.Equal(0, client.PendingRequests);
            Assert.Throws<InvalidOperationException>(() => client.ReceiveResponse(first, HangGuard));
        }
        AssertNoLeftovers(channel);
    }

    [Fact]
    public void AnAnswerThatArrivesBeforeItsCallerAsksWaitsForIt()
    {
        string channel = NewChannel();
        using var releaseFirst = new ManualResetEventSlim();
        using (var server = new DuplexServer(channel, request =>
        {
            if (request.Sequence == 1)
            {
                Assert.True(releaseFirst.Wait(HangGuard));
            }
            return request.Span;
        }, ServerOptions with { MaxConcurrency = 2 }))
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            ulong first = client.SendRequest("one"u8, HangGuard);
            ulong second = client.SendRequest("two"u8, HangGuard);
            // Request (a third call) receives its own answer, whatever else arrives meanwhile.
            using (Frame third = client.Request("three"u8, HangGuard))
            {
                Assert.Equal("three"u8, third.Span);
            }
            releaseFirst.Set();
            using (Frame one = client.ReceiveResponse(first, HangGuard))
            {
                Assert.Equal("one"u8, one.Span);
            }
            using (Frame two = client.ReceiveResponse(second, HangGuard))
            {
                Assert.Equal("two"u8, two.Span);
            }
        }
        AssertNoLeftovers(channel);
    }

    [Fact]
    public void ReferenceModeConcurrentHandlersStillAnswerInRequestOrder()
    {
        string channel = NewChannel();
        using var secondStarted = new ManualResetEventSlim();
        using (var server = new DuplexServer(channel, request =>
        {
            if (request.Sequence == 1)
            {
                // Handlers overlap: the first waits until the second has started.
                Assert.True(secondStarted.Wait(HangGuard));
            }
            else if (request.Sequence == 2)
            {
                secondStarted.Set();
            }
            return request.Span;
        }, ServerOptions with { MaxConcurrency = 4 }))
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions with { Mode = DuplexMode.Reference }))
        {
            ulong[] sent = [.. Enumerable.Range(1, 6).Select(i => client.SendRequest(Patterned((ulong)i, 100 * i), HangGuard))];
            foreach (ulong sequence in sent)
            {
                using Frame answer = client.ReceiveResponse(sequence, HangGuard);
                Assert.Equal(sequence, answer.Sequence);
                Assert.Null(FramePattern.Verify(answer.Span, sequence));
            }
            Assert.Equal(6, server.RequestsAnswered);
        }
        AssertNoLeftovers(channel);
    }

    [Theory]
    [InlineData(DuplexMode.Extended, 1)]
    [InlineData(DuplexMode.Extended, 8)]
    [InlineData(DuplexMode.Reference, 8)]
    public void AConcurrentServerInAChildAnswersEveryPipelinedRequestOfAClientInAChild(DuplexMode mode, int concurrency)
    {
        string channel = NewChannel();
        var server = StartServer(channel, "--concurrency", concurrency.ToString(), "--mode", mode.ToString().ToLowerInvariant());
        var client = StartClient(channel, "--count", "400", "--pipeline", "16", "--max-size", "20000");
        Assert.True(PeerOutput.Is(client.WaitForAnyLine(PeerOutput.Ok, PeerOutput.Error), PeerOutput.Ok), client.Describe());
        client.WaitForLine(PeerOutput.Bye);
        Assert.True(client.WaitForExit(HangGuard), client.Describe());
        Assert.Contains("answered=400 failed=0", StopServer(server));
        AssertNoLeftovers(channel);
    }

    [Theory]
    [InlineData(DuplexMode.Extended)]
    [InlineData(DuplexMode.Reference)]
    public void AnInPlaceHandlerChangesTheRequestInSharedMemoryAndAnswersWithItsFirstBytes(DuplexMode mode)
    {
        string channel = NewChannel();
        using (var server = new DuplexServer(channel, (Frame request, Span<byte> data) =>
        {
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = (byte)char.ToUpperInvariant((char)data[i]);
            }
            // The request frame shows the change: it is the same memory.
            Assert.Equal(data[0], request.Span[0]);
            return data.Length - 1;
        }, ServerOptions))
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions with { Mode = mode }))
        {
            using Frame answer = client.Request("tile-42!"u8, HangGuard);
            Assert.Equal("TILE-42"u8, answer.Span);
        }
        AssertNoLeftovers(channel);
    }

    [Theory]
    [InlineData(DuplexMode.Extended)]
    [InlineData(DuplexMode.Reference)]
    public void AMessageHandlersAnswerIsAMessageTheClientDecodesInPlace(DuplexMode mode)
    {
        string channel = NewChannel();
        byte[] part = Patterned(7, 100_000);
        using (var server = new DuplexServer(channel, (Frame request) => Message.Create(request.Memory.ToArray(), part), ServerOptions))
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions with { Mode = mode }))
        {
            Frame response = client.Request("calibration"u8, HangGuard);
            using Message message = FrameMessages.DecodeFrame(response, MessageLimits.Default);
            Assert.Equal("calibration"u8, message.Body.Span);
            Assert.Equal(1, message.PartCount);
            Assert.Null(FramePattern.Verify(message.GetPart(0).Span, 7));
        }
        AssertNoLeftovers(channel);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task AsynchronousHandlersAnswerBytesAndMessages(int concurrency)
    {
        string bytesChannel = NewChannel();
        string messageChannel = NewChannel();
        await using (var bytesServer = new DuplexServer(bytesChannel, async (Frame request, CancellationToken token) =>
        {
            await Task.Yield();
            return request.Memory;
        }, ServerOptions with { MaxConcurrency = concurrency }))
        await using (var messageServer = new DuplexServer(messageChannel, async (Frame request, CancellationToken token) =>
        {
            await Task.Delay(1, token);
            if (request.Span.StartsWith(DuplexScenarios.FailRequest))
            {
                throw new InvalidOperationException("no calibration for that camera");
            }
            return Message.Create(request.Memory.ToArray());
        }, ServerOptions with { MaxConcurrency = concurrency }))
        {
            using (DuplexClient client = DuplexClient.Connect(bytesChannel, HangGuard, ClientOptions))
            {
                for (ulong i = 1; i <= 20; i++)
                {
                    using Frame answer = await client.RequestAsync(Patterned(i, (int)(i * 500)), HangGuard);
                    Assert.Null(FramePattern.Verify(answer.Span, i));
                }
            }
            using (DuplexClient client = DuplexClient.Connect(messageChannel, HangGuard, ClientOptions))
            {
                using (Message message = FrameMessages.DecodeFrame(await client.RequestAsync("cam-1"u8.ToArray(), HangGuard), MessageLimits.Default))
                {
                    Assert.Equal("cam-1"u8, message.Body.Span);
                }
                var failed = await Assert.ThrowsAsync<DuplexRequestFailedException>(async () =>
                    (await client.RequestAsync(DuplexScenarios.FailRequest.ToArray(), HangGuard)).Dispose());
                Assert.Equal("InvalidOperationException: no calibration for that camera", failed.RemoteError);
            }
            Assert.Equal(1, messageServer.RequestsFailed);
        }
        AssertNoLeftovers(bytesChannel);
        AssertNoLeftovers(messageChannel);
    }

    [Fact]
    public async Task AStopThatOutlivesItsTimeoutCancelsTheAsynchronousHandlersToken()
    {
        string channel = NewChannel();
        using var started = new ManualResetEventSlim();
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = new DuplexServer(channel, async (Frame request, CancellationToken token) =>
        {
            started.Set();
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, token);
            }
            finally
            {
                cancelled.TrySetResult();
            }
            return request.Memory;
        }, ServerOptions with { MaxConcurrency = 2 });
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            ulong pending = client.SendRequest("slow"u8, HangGuard);
            Assert.True(started.Wait(HangGuard));
            Assert.False(await server.StopAsync(TimeSpan.FromMilliseconds(50)));
            await cancelled.Task.WaitAsync(HangGuard);
            // The request was dropped, not answered; the stopped server is gone for the client.
            Assert.Throws<DuplexServerGoneException>(() => client.ReceiveResponse(pending, HangGuard));
        }
        await server.DisposeAsync();
        Assert.Equal(1, server.RequestsDropped);
        Assert.Equal(0, server.RequestsAnswered);
        AssertNoLeftovers(channel);
    }

    [Fact]
    public void AClientCarriesOnWithARestartedServerAfterTheOldOneWasKilled()
    {
        string channel = NewChannel();
        var first = StartServer(channel);
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            using (Frame answer = client.Request(Patterned(1, 10), HangGuard))
            {
                Assert.Null(FramePattern.Verify(answer.Span, 1));
            }
            ulong lost = client.SendRequest([.. DuplexScenarios.HangRequest], HangGuard);
            first.Kill();
            Assert.True(first.WaitForExit(HangGuard), first.Describe());
            Assert.True(Assert.Throws<DuplexServerGoneException>(() => client.ReceiveResponse(lost, HangGuard)).Crashed);

            var second = StartServer(channel);
            using (Frame answer = client.Request(Patterned(1, 4000), HangGuard))
            {
                // Fresh rings: the new session counts from 1 again.
                Assert.Equal(1UL, answer.Sequence);
                Assert.Null(FramePattern.Verify(answer.Span, 1));
            }
            Assert.Equal(DuplexMode.Extended, client.Mode);
            client.Dispose();
            Assert.Contains("answered=1", StopServer(second));
        }
        AssertNoLeftovers(channel);
    }

    [Theory]
    [InlineData(DuplexMode.Extended)]
    [InlineData(DuplexMode.Reference)]
    public async Task AnIdleClientWhoseServerWasRestartedSendsItsNextRequestToTheNewServer(DuplexMode mode)
    {
        string channel = NewChannel();
        var first = StartServer(channel);
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions with { Mode = mode }))
        {
            client.Request("before"u8, HangGuard).Dispose();
            first.Kill();
            Assert.True(first.WaitForExit(HangGuard), first.Describe());
            var second = StartServer(channel);
            // Nothing was pending, so nothing was lost: the calls simply go to the new server.
            using (Frame answer = await client.RequestAsync("after"u8.ToArray(), HangGuard))
            {
                Assert.Equal("after"u8, answer.Span);
            }
            using (Frame answer = client.Request("again"u8, HangGuard))
            {
                Assert.Equal(2UL, answer.Sequence);
                Assert.Equal("again"u8, answer.Span);
            }
            client.Dispose();
            Assert.Contains("answered=2", StopServer(second));
        }
        AssertNoLeftovers(channel);
    }

    [Fact]
    public void WithoutReconnectAClientStaysFailedOnceItsServerIsGone()
    {
        string channel = NewChannel();
        var server = StartServer(channel);
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions with { Reconnect = false }))
        {
            client.Request("a"u8, HangGuard).Dispose();
            server.Kill();
            Assert.True(server.WaitForExit(HangGuard), server.Describe());
            Assert.Throws<DuplexServerGoneException>(() => client.Request("b"u8, HangGuard).Dispose());
            var again = Assert.Throws<DuplexServerGoneException>(() => client.Request("c"u8, HangGuard).Dispose());
            Assert.Contains("connect again", again.Message);
        }
        Assert.Empty(Leftovers(ResponseRing(channel), LockDirectory));
    }

    [Fact]
    public void TheServerThreadAllocatesNothingPerRequestInEitherMode()
    {
        foreach (DuplexMode mode in new[] { DuplexMode.Extended, DuplexMode.Reference })
        {
            string channel = NewChannel();
            long[] allocatedAt = new long[1200];
            using (var server = new DuplexServer(channel, request =>
            {
                allocatedAt[(int)request.Sequence - 1] = GC.GetAllocatedBytesForCurrentThread();
                return request.Span;
            }, ServerOptions))
            using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions with { Mode = mode }))
            {
                byte[] request = new byte[64];
                for (int i = 0; i < allocatedAt.Length; i++)
                {
                    client.Request(request, HangGuard).Dispose();
                }
            }
            // Two windows of 500 requests after 200 warm-up ones; a one-time cost shows in at most one.
            long first = allocatedAt[699] - allocatedAt[199];
            long second = allocatedAt[1199] - allocatedAt[699];
            Assert.True(Math.Min(first, second) == 0, $"{mode}: the server thread allocated {first} and {second} bytes in two windows of 500 requests.");
            AssertNoLeftovers(channel);
        }
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(4, false)]
    [InlineData(1, true)]
    public void AServerProcessAllocatesNothingPerRequest(int concurrency, bool loan)
    {
        // Measured in a child process of its own, where nothing but the server allocates.
        string channel = NewChannel();
        string[] options = ["--concurrency", concurrency.ToString(), "--measure-from", "300", "--measure-window", "600", .. loan ? new[] { "--loan" } : []];
        var server = StartServer(channel, options);
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            byte[] request = new byte[64];
            var inFlight = new Queue<ulong>();
            for (int i = 0; i < 1600; i++)
            {
                inFlight.Enqueue(client.SendRequest(request, HangGuard));
                if (inFlight.Count == 8)
                {
                    client.ReceiveResponse(inFlight.Dequeue(), HangGuard).Dispose();
                }
            }
            while (inFlight.Count > 0)
            {
                client.ReceiveResponse(inFlight.Dequeue(), HangGuard).Dispose();
            }
        }
        string served = StopServer(server);
        Assert.Contains("answered=1600 failed=0 sessions=1 allocated=", served);
        // Process-wide: a thread the pool adds under load allocates too, once. Anything allocated per request would be at
        // least 24 bytes each, 14,400 bytes in a window of 600.
        long allocated = long.Parse(served[(served.IndexOf("allocated=", StringComparison.Ordinal) + "allocated=".Length)..].Split(' ')[0]);
        Assert.True(allocated < 600, $"the server process allocated {allocated} bytes in its quieter window of 600 requests: {served}");
        AssertNoLeftovers(channel);
    }

    [Fact]
    public void AReleasedResponseGivesItsSpaceBackOnceTheNextRequestIsWritten()
    {
        // The client keeps a released response's space back until its next request is out (PROTOCOL.md 14.5), so the
        // server takes up that request before the shared counters move; never longer than the client's next call.
        string channel = NewChannel();
        using (var server = new DuplexServer(channel, request => request.Span, ServerOptions))
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            long capacity = Stats(ResponseRing(channel)).PayloadCapacity;
            client.Request(new byte[1000], HangGuard).Dispose();
            BufferStats afterRelease = Stats(ResponseRing(channel));
            Assert.Equal(0UL, afterRelease.FramesRead);
            Assert.True(afterRelease.FreeBytes < capacity);
            client.SendRequest(new byte[10], HangGuard);
            BufferStats afterSend = Stats(ResponseRing(channel));
            Assert.Equal(1UL, afterSend.FramesRead);
            Assert.True(afterSend.FreeBytes > afterRelease.FreeBytes);
        }
        AssertNoLeftovers(channel);
    }

    private BufferStats Stats(string ring)
    {
        Assert.True(BufferInspector.TryGetStats(ring, out BufferStats? stats));
        return stats;
    }

    [Fact]
    public void AServerAnswersAPlainExtendedRingPairWithHeadersItsRequestsSequencesAndErrors()
    {
        string channel = NewChannel();
        var server = StartServer(channel, "--concurrency", "4");
        using (var responses = new RingReader(ResponseRing(channel), RingOptions with { AdvertisedFlags = ReaderFlags.SpeaksExtendedDuplex }))
        using (RingWriter requests = RingWriter.Connect(RequestRing(channel), HangGuard))
        {
            // The server's request ring advertises bit 1 of the extension flags (OIEB offset 116).
            Assert.True(requests.ReaderAdvertises(ReaderFlags.SpeaksExtendedDuplex));
            requests.Write(Patterned(1, 40));
            requests.Write([.. DuplexScenarios.FailRequest]);
            requests.Write(Patterned(3, 9000));
            var seen = new Dictionary<ulong, byte[]>();
            for (int i = 0; i < 3; i++)
            {
                using Frame response = responses.Read(HangGuard);
                ReadOnlySpan<byte> bytes = response.Span;
                ulong sequence = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
                uint status = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
                Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..]));
                Assert.Equal(sequence == 2 ? 1u : 0u, status);
                seen.Add(sequence, bytes[16..].ToArray());
            }
            Assert.Null(FramePattern.Verify(seen[1], 1));
            Assert.Equal(40, seen[1].Length);
            Assert.Equal($"InvalidOperationException: {DuplexScenarios.FailureText}", Encoding.UTF8.GetString(seen[2]));
            Assert.Null(FramePattern.Verify(seen[3], 3));
        }
        Assert.Contains("answered=3 failed=1", StopServer(server));
        AssertNoLeftovers(channel);
    }

    [Fact]
    public void AClientMatchesOutOfOrderAnswersFromAPlainExtendedRingPair()
    {
        string channel = NewChannel();
        using (var requests = new RingReader(RequestRing(channel), RingOptions with { AdvertisedFlags = ReaderFlags.SpeaksExtendedDuplex }))
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            Assert.Equal(DuplexMode.Extended, client.Mode);
            ulong a = client.SendRequest("alpha"u8, HangGuard);
            ulong b = client.SendRequest("beta"u8, HangGuard);
            ulong c = client.SendRequest("gamma"u8, HangGuard);
            using (RingWriter responses = RingWriter.Connect(ResponseRing(channel), HangGuard))
            {
                Assert.True(responses.ReaderAdvertises(ReaderFlags.SpeaksExtendedDuplex));
                for (int i = 0; i < 3; i++)
                {
                    requests.Read(HangGuard).Dispose();
                }
                responses.Write(HandBuilt(c, 0, "G"u8));
                responses.Write(HandBuilt(a, 1, "Oops: alpha refused"u8));
                responses.Write(HandBuilt(b, 0, "B"u8));
                using (Frame answer = client.ReceiveResponse(b, HangGuard))
                {
                    Assert.Equal(b, answer.Sequence);
                    Assert.Equal("B"u8, answer.Span);
                }
                Assert.Equal("Oops: alpha refused", Assert.Throws<DuplexRequestFailedException>(() => client.ReceiveResponse(a, HangGuard)).RemoteError);
                using (Frame answer = client.ReceiveResponse(c, HangGuard))
                {
                    Assert.Equal("G"u8, answer.Span);
                }
                // An answer to a request nobody sent faults the client: nothing can be trusted after it.
                ulong d = client.SendRequest("delta"u8, HangGuard);
                responses.Write(HandBuilt(d + 5, 0, "?"u8));
                Assert.Throws<DuplexSequenceMismatchException>(() => client.ReceiveResponse(d, HangGuard));
            }
        }
        AssertNoLeftovers(channel);
    }

    private static byte[] HandBuilt(ulong sequence, uint status, ReadOnlySpan<byte> body)
    {
        byte[] frame = new byte[16 + body.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(frame, sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(8), status);
        body.CopyTo(frame.AsSpan(16));
        return frame;
    }
}
