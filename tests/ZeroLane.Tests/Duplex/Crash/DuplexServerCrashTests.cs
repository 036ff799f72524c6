using Xunit;
using Xunit.Abstractions;
using ZeroLane.Duplex;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;

namespace ZeroLane.Tests.Duplex.Crash;

/// <summary>
/// A server process killed with SIGKILL at a random point while a client in this process pipelines requests: every
/// answer the client receives is its own request's (ids are unique), every answer the server wrote before it died is
/// received exactly once, every other pending call fails with <see cref="DuplexServerGoneException"/> (never a wrong
/// answer, never a hang), and a new server on the same name serves a new client from sequence 1, leaving nothing behind.
/// </summary>
/// <remarks>
/// The kill points: idle between requests; in a handler that blocks until killed (a 'H' request, with more requests
/// queued behind it); and in the middle of a burst of pipelined requests, wherever the server happens to be. The
/// server prints <c>HANDLING seq=S</c> as each handler begins, and answers strictly in order, so when it dies having
/// begun request S, the answers to requests 1..S-1 were written: the client must receive S-1 or S answers. Nothing here
/// depends on timing; the waits are hang guards.
/// </remarks>
public sealed class DuplexServerCrashTests(ITestOutputHelper output) : DuplexCrashTest(output)
{
    /// <summary>Trials per run (each starts two server processes).</summary>
    private const int Trials = 4;

    private enum KillPoint
    {
        Idle,
        InAHandler,
        InABurst,
    }

    [Theory]
    [MemberData(nameof(DuplexCrashSetup.Names), MemberType = typeof(DuplexCrashSetup))]
    public void AServerKilledAtAnyPointNeverAnswersTheWrongRequestNorLosesAnAnswerItWrote(string setupName)
    {
        DuplexCrashSetup setup = DuplexCrashSetup.Get(setupName);
        RunTrials(Trials, (_, random, describe) => Trial(setup, random, describe));
    }

    private void Trial(DuplexCrashSetup setup, Random random, Action<string> describe)
    {
        string channel = NewChannel("dxsc");
        var point = (KillPoint)random.Next(3);
        bool inPlace = random.Next(2) == 0;
        int before = random.Next(0, 30);
        int depth = random.Next(1, 9);
        bool asynchronous = random.Next(2) == 0;
        var exchange = new Exchange((ulong)random.NextInt64(1, long.MaxValue / 2), random, asynchronous);
        describe($"kill point {point}, {(inPlace ? "answers written in place" : "answers returned")}, {before} requests answered first, " +
            $"pipeline {depth}, {(asynchronous ? "asynchronous" : "synchronous")} receives");

        PeerProcess server = StartCrashServer(channel, setup, inPlace);
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, setup.Client(RingOptions)))
        {
            exchange.Run(client, before, depth);
            int hangAt = 0;
            switch (point)
            {
                case KillPoint.InAHandler:
                    exchange.Send(client, DuplexCrashRequests.Hang);
                    hangAt = exchange.Sent;
                    for (int queued = random.Next(0, 8); queued > 0; queued--)
                    {
                        exchange.Send(client, DuplexCrashRequests.Normal);
                    }
                    break;
                case KillPoint.InABurst:
                    for (int burst = random.Next(1, 65); burst > 0; burst--)
                    {
                        exchange.Send(client, DuplexCrashRequests.Normal);
                    }
                    break;
            }

            // The client receives while the server is killed, as an application would: every pending call ends, with its
            // own answer (written before the crash) or with the server gone, and once the server is gone every later call
            // fails too. (It must be reading: a server that writes its answers in place waits for the client to pass the
            // wrap its previous answer left before it begins the next request.)
            DuplexServerGoneException? gone = null;
            Task receiving = Task.Run(() =>
            {
                while (exchange.Pending > 0)
                {
                    try
                    {
                        exchange.ReceiveNext(client);
                        Assert.True(gone is null, $"request {exchange.Received} was answered after an earlier call found the server gone");
                    }
                    catch (DuplexServerGoneException e)
                    {
                        gone ??= e;
                        exchange.Abandon();
                    }
                }
            });
            if (point == KillPoint.InAHandler)
            {
                server.WaitForLine(line => line == $"{DuplexCrashRequests.HangingLine} seq={hangAt}");
            }
            else if (point == KillPoint.InABurst && random.Next(2) == 0)
            {
                // A random point inside the burst: a pause of up to a few ms (a choice, not an assertion).
                Thread.Sleep(random.Next(0, 4));
            }
            server.Kill();
            Assert.True(server.WaitForExit(HangGuard), server.Describe());
            Assert.True(receiving.Wait(HangGuard + HangGuard), "the client's calls did not end after the server was killed");
            receiving.GetAwaiter().GetResult();
            // A new call waits for a new server (DuplexClientOptions.Reconnect), which is not there yet. A client that had
            // seen nothing of the death may first write the request into the dead server's ring: that call then learns the
            // server is gone while it waits for the answer, and cannot know whether the request was handled.
            Exception? nextCall = Record.Exception(() =>
                client.Request(DuplexCrashRequests.Create(DuplexCrashRequests.Normal, 1, 16), TimeSpan.FromMilliseconds(100)).Dispose());
            if (nextCall is DuplexServerGoneException)
            {
                nextCall = Record.Exception(() =>
                    client.Request(DuplexCrashRequests.Create(DuplexCrashRequests.Normal, 1, 16), TimeSpan.FromMilliseconds(100)).Dispose());
            }
            Assert.True(nextCall is TimeoutException && nextCall.Message.Contains("no new server", StringComparison.Ordinal), $"the next call threw {nextCall}");

            // The server's record: it began requests 1..S in order, each the request sent under that number.
            List<(ulong Sequence, ulong Id)> handled = HandledRequests(server);
            for (int i = 0; i < handled.Count; i++)
            {
                Assert.Equal((ulong)(i + 1), handled[i].Sequence);
                Assert.Equal(exchange.IdOf((ulong)(i + 1)), handled[i].Id);
            }
            int begun = handled.Count;
            int answered = exchange.AnsweredCount;
            Assert.True(answered <= begun, $"{answered} answers received, but the server began only {begun} requests");
            Assert.True(answered >= begun - 1,
                $"the server began request {begun}, so it had written the answers to 1..{begun - 1}, but only {answered} arrived");
            switch (point)
            {
                case KillPoint.Idle:
                    Assert.Equal(before, begun);
                    Assert.Equal(before, answered);
                    break;
                case KillPoint.InAHandler:
                    Assert.Equal(before + 1, begun);
                    Assert.Equal(before, answered);
                    Assert.NotNull(gone);
                    break;
            }
            if (answered < exchange.Sent)
            {
                Assert.NotNull(gone);
            }
        }
        // The client removed its response ring. (The dead server's request ring stays until a new server replaces it, or
        // until a ring created meanwhile sweeps stale buffers, as the client's attempt to reconnect above may have done.)
        Assert.Empty(Leftovers(ResponseRing(channel), LockDirectory));

        // A new server on the same name serves a new client from sequence 1.
        PeerProcess next = StartCrashServer(channel, setup, random.Next(2) == 0);
        int count = random.Next(1, 20);
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, setup.Client(RingOptions)))
        {
            var fresh = new Exchange((ulong)random.NextInt64(1, long.MaxValue / 2), random, random.Next(2) == 0);
            fresh.Run(client, count, random.Next(1, 9));
            Assert.Equal(count, fresh.AnsweredCount);
        }
        Assert.Contains($"answered={count} ", StopServer(next));
        AssertNoLeftovers(channel);
    }

    /// <summary>
    /// The client's side of a trial: the requests sent (index = sequence - 1), each with a unique id, and how many were
    /// answered (each checked to be exactly its request's answer under its sequence number) or abandoned. Answers are
    /// received with ReceiveResponse or, when <c>asynchronous</c>, ReceiveResponseAsync.
    /// </summary>
    private sealed class Exchange(ulong firstId, Random random, bool asynchronous)
    {
        private readonly List<byte[]> _sent = [];

        internal int Sent => _sent.Count;

        /// <summary>Requests whose call has ended: answered or found the server gone.</summary>
        internal int Received { get; private set; }

        internal int AnsweredCount { get; private set; }

        internal int Pending => Sent - Received;

        internal ulong IdOf(ulong sequence) => firstId + sequence - 1;

        /// <summary><paramref name="count"/> requests with at most <paramref name="depth"/> in flight; every one answered.</summary>
        internal void Run(DuplexClient client, int count, int depth)
        {
            int target = Sent + count;
            while (Received < target)
            {
                while (Sent < target && Pending < depth)
                {
                    Send(client, DuplexCrashRequests.Normal);
                }
                ReceiveNext(client);
            }
        }

        internal void Send(DuplexClient client, byte kind)
        {
            ulong next = (ulong)Sent + 1;
            byte[] request = DuplexCrashRequests.Create(kind, IdOf(next), random.Next(DuplexCrashRequests.HeaderLength, 4097));
            _sent.Add(request);
            ulong sequence = client.SendRequest(request, HangGuard);
            Assert.Equal(next, sequence);
        }

        /// <summary>Receives the answer to the oldest pending request and checks it is exactly that request's answer.</summary>
        internal void ReceiveNext(DuplexClient client)
        {
            ulong sequence = (ulong)Received + 1;
            using Frame response = asynchronous
                ? client.ReceiveResponseAsync(sequence, HangGuard).AsTask().GetAwaiter().GetResult()
                : client.ReceiveResponse(sequence, HangGuard);
            byte[] request = _sent[Received];
            Assert.Equal(sequence, response.Sequence);
            Assert.True(DuplexCrashRequests.IsAnswerTo(response.Span, request),
                $"the response to request {sequence} (id {IdOf(sequence)}, {request.Length} bytes) is not its answer: {response.Length} bytes " +
                $"answering id {DuplexCrashRequests.IdAnswered(response.Span)}");
            Received++;
            AnsweredCount++;
        }

        /// <summary>The oldest pending call ended with the server gone.</summary>
        internal void Abandon() => Received++;
    }
}
