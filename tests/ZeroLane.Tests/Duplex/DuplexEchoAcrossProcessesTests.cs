using ZeroLane.Duplex;
using ZeroLane.TestPeer;
using Xunit;

namespace ZeroLane.Tests.Duplex;

/// <summary>Round trips between a client and a server in different processes: every size, in order, pipelined.</summary>
public sealed class DuplexEchoAcrossProcessesTests : DuplexTest
{
    private static readonly int[] s_sizes = [1, 2, 7, 8, 15, 16, 17, 31, 64, 100, 1000, 4095, 4096, 4097, 65536, 200_000, 500_000];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EveryRequestSizeComesBackAsItsOwnResponseUnderItsSequenceNumber(bool serverWritesInPlace)
    {
        string channel = NewChannel();
        var server = StartServer(channel, serverWritesInPlace ? ["--loan"] : []);
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            ulong sequence = 0;
            foreach (int size in s_sizes.Append(client.MaxRequestLength / 2))
            {
                sequence++;
                byte[] request = Patterned(sequence, size);
                using Frame response = client.Request(request, HangGuard);
                Assert.Equal(sequence, response.Sequence);
                Assert.True(response.Span.SequenceEqual(request), $"response {sequence} ({response.Length} bytes) is not the {size}-byte request");
            }
        }
        Assert.Contains($"answered={s_sizes.Length + 1}", StopServer(server));
        AssertNoLeftovers(channel);
    }

    [Fact]
    public async Task AsynchronousRequestsComeBackInOrder()
    {
        string channel = NewChannel();
        var server = StartServer(channel);
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            for (ulong sequence = 1; sequence <= 100; sequence++)
            {
                byte[] request = Patterned(sequence, FramePattern.VariedLength(sequence, 10_000));
                using Frame response = await client.RequestAsync(request, HangGuard);
                Assert.Equal(sequence, response.Sequence);
                Assert.Null(FramePattern.Verify(response.Span, sequence));
            }
        }
        StopServer(server);
        AssertNoLeftovers(channel);
    }

    [Fact]
    public void ThirtyTwoPipelinedRequestsAreAnsweredInTheOrderSent()
    {
        string channel = NewChannel();
        var server = StartServer(channel);
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            for (int round = 0; round < 3; round++)
            {
                var sent = new List<ulong>();
                for (int i = 0; i < 32; i++)
                {
                    ulong next = (ulong)(round * 32 + i + 1);
                    sent.Add(client.SendRequest(Patterned(next, FramePattern.VariedLength(next, 8000)), HangGuard));
                }
                Assert.Equal(32, client.PendingRequests);
                foreach (ulong sequence in sent)
                {
                    using Frame response = client.ReceiveResponse(sequence, HangGuard);
                    Assert.Equal(sequence, response.Sequence);
                    Assert.Null(FramePattern.Verify(response.Span, sequence));
                }
                Assert.Equal(0, client.PendingRequests);
            }
        }
        StopServer(server);
        AssertNoLeftovers(channel);
    }

    [Fact]
    public void InTheReferenceModeResponsesMustBeReceivedInTheOrderTheRequestsWereSent()
    {
        string channel = NewChannel();
        var server = StartServer(channel);
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions with { Mode = DuplexMode.Reference }))
        {
            ulong first = client.SendRequest(Patterned(1, 10), HangGuard);
            ulong second = client.SendRequest(Patterned(2, 10), HangGuard);
            Assert.Throws<InvalidOperationException>(() => client.ReceiveResponse(second, HangGuard));
            Assert.Throws<InvalidOperationException>(() => client.Request(Patterned(3, 10), HangGuard));
            client.ReceiveResponse(first, HangGuard).Dispose();
            using Frame response = client.ReceiveResponse(second, HangGuard);
            Assert.Null(FramePattern.Verify(response.Span, 2));
        }
        StopServer(server);
        AssertNoLeftovers(channel);
    }

    [Fact]
    public void AClientPeerIsServedByAServerInThisProcess()
    {
        string channel = NewChannel();
        using (var server = new DuplexServer(channel, request => request.Span, ServerOptions))
        {
            var client = StartClient(channel, "--count", "300", "--pipeline", "8", "--max-size", "20000");
            Assert.True(PeerOutput.Is(client.WaitForAnyLine(PeerOutput.Ok, PeerOutput.Error), PeerOutput.Ok), client.Describe());
            client.WaitForLine(PeerOutput.Bye);
            Assert.True(client.WaitForExit(HangGuard), client.Describe());
            Assert.Equal(300, server.RequestsAnswered);
        }
        AssertNoLeftovers(channel);
    }

    [Fact]
    public async Task PipelinedAsynchronousRequestsAreAnsweredInTheOrderSent()
    {
        string channel = NewChannel();
        var server = StartServer(channel, "--loan");
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            var sent = new List<ulong>();
            for (ulong next = 1; next <= 16; next++)
            {
                sent.Add(await client.SendRequestAsync(Patterned(next, FramePattern.VariedLength(next, 3000)), HangGuard));
            }
            Assert.Equal(Enumerable.Range(1, 16).Select(i => (ulong)i), sent);
            foreach (ulong sequence in sent)
            {
                using Frame response = await client.ReceiveResponseAsync(sequence, HangGuard);
                Assert.Equal(sequence, response.Sequence);
                Assert.Null(FramePattern.Verify(response.Span, sequence));
            }
        }
        StopServer(server);
        AssertNoLeftovers(channel);
    }

    [Fact]
    public void AFullResponseRingMakesTheServerWaitAndNoResponseIsLost()
    {
        string channel = NewChannel();
        var server = StartServer(channel);
        // 20 answers of 10 KiB do not fit in a 64 KiB response ring: the server must wait for the client to read.
        var options = ClientOptions with { ResponseRing = ClientOptions.ResponseRing with { PayloadSize = 64 << 10 } };
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, options))
        {
            for (ulong next = 1; next <= 20; next++)
            {
                client.SendRequest(Patterned(next, 10 << 10), HangGuard);
            }
            for (ulong sequence = 1; sequence <= 20; sequence++)
            {
                using Frame response = client.ReceiveResponse(sequence, HangGuard);
                Assert.Equal(sequence, response.Sequence);
                Assert.Null(FramePattern.Verify(response.Span, sequence));
            }
        }
        Assert.Contains("answered=20 failed=0", StopServer(server));
        AssertNoLeftovers(channel);
    }

    [Fact]
    public void AServerAnswersOneRequestAtATime()
    {
        // ring-scenarios.md: three requests of 100 ms each take at least 300 ms in single-threaded mode (a lower bound
        // only, which load can never break).
        string channel = NewChannel();
        int running = 0, mostAtOnce = 0;
        using (var server = new DuplexServer(channel, request =>
        {
            mostAtOnce = Math.Max(mostAtOnce, Interlocked.Increment(ref running));
            Thread.Sleep(100);
            Interlocked.Decrement(ref running);
            return request.Span;
        }, ServerOptions))
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            ulong[] sent = [client.SendRequest("1"u8, HangGuard), client.SendRequest("2"u8, HangGuard), client.SendRequest("3"u8, HangGuard)];
            foreach (ulong sequence in sent)
            {
                client.ReceiveResponse(sequence, HangGuard).Dispose();
            }
            Assert.True(clock.ElapsedMilliseconds >= 300, $"three 100 ms requests took {clock.ElapsedMilliseconds} ms");
            Assert.Equal(1, mostAtOnce);
        }
        AssertNoLeftovers(channel);
    }
}
