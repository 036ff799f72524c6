using ZeroLane.Duplex;
using ZeroLane.Messages;
using ZeroLane.Messages.Transport;
using Xunit;

namespace ZeroLane.Tests.Duplex.Sockets;

/// <summary>
/// What a server in this process lets a test control exactly (when each handler finishes, when the server stops):
/// answers out of order, late responses, stopping, limits, concurrency.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CallsInOneProcess : SocketDuplexTest
{
    [Theory]
    [InlineData(DuplexTransport.Tcp)]
    [InlineData(DuplexTransport.Unix)]
    [InlineData(DuplexTransport.Tls)]
    public async Task AnswersGoOutAsHandlersFinishNotInTheOrderOfTheRequests(DuplexTransport transport)
    {
        var firstMayFinish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        (_, Endpoint endpoint) = StartServer(transport, async (request, token) =>
        {
            if (BodyText(request) == "first")
            {
                await firstMayFinish.Task.WaitAsync(token);
            }
            return request;
        });
        DuplexSocketClient client = await ConnectAsync(endpoint);

        using Message first = Request("first", 10);
        using Message second = Request("second", 20, 30);
        Task<Message> firstCall = client.RequestAsync(first, HangGuard).AsTask();
        // The second request is answered while the first is still being handled: it overtakes it.
        using (Message secondAnswer = await client.RequestAsync(second, HangGuard))
        {
            AssertEcho(second, secondAnswer);
        }
        Assert.False(firstCall.IsCompleted);
        firstMayFinish.SetResult();
        using Message firstAnswer = await firstCall.WaitAsync(HangGuard);
        AssertEcho(first, firstAnswer);
    }

    [Theory]
    [InlineData(DuplexTransport.Tcp)]
    [InlineData(DuplexTransport.Unix)]
    public async Task AResponseArrivingAfterItsCallerGaveUpIsDroppedAndTheNextCallGetsItsOwn(DuplexTransport transport)
    {
        var lateMayFinish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        (DuplexSocketServer server, Endpoint endpoint) = StartServer(transport, async (request, token) =>
        {
            if (BodyText(request) == "late")
            {
                await lateMayFinish.Task.WaitAsync(token);
            }
            return request;
        });
        DuplexSocketClient client = await ConnectAsync(endpoint);

        using Message late = Request("late", 100);
        using var cancel = new CancellationTokenSource();
        Task<Message> lateCall = client.RequestAsync(late, HangGuard, cancel.Token).AsTask();
        Assert.True(SpinWait.SpinUntil(() => client.PendingRequests == 1, HangGuard));
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => lateCall.WaitAsync(HangGuard));
        lateMayFinish.SetResult();
        // The server counts an answer once it is sent: the late response is on its way before the next request.
        Assert.True(SpinWait.SpinUntil(() => server.RequestsAnswered == 1, HangGuard));

        using Message next = Request("next", 5, 6);
        using Message answer = await client.RequestAsync(next, HangGuard);
        AssertEcho(next, answer);
        // Counted once sent, so the client can hold the answer a moment before the count moves.
        Assert.True(SpinWait.SpinUntil(() => server.RequestsAnswered == 2, HangGuard), $"answered: {server.RequestsAnswered}");
    }

    [Theory]
    [InlineData(DuplexTransport.Tcp)]
    [InlineData(DuplexTransport.Unix)]
    [InlineData(DuplexTransport.Tls)]
    public async Task StoppingAnswersTheCallsInProgressThenSaysGoodbye(DuplexTransport transport)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var mayFinish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        (DuplexSocketServer server, Endpoint endpoint) = StartServer(transport, async (request, token) =>
        {
            started.TrySetResult();
            await mayFinish.Task.WaitAsync(token);
            return request;
        });
        DuplexSocketClient client = await ConnectAsync(endpoint);

        using Message inProgress = Request("in progress", 64);
        Task<Message> call = client.RequestAsync(inProgress, HangGuard).AsTask();
        await started.Task.WaitAsync(HangGuard);
        Task<bool> stop = server.StopAsync(HangGuard);
        mayFinish.SetResult();

        using (Message answer = await call.WaitAsync(HangGuard))
        {
            AssertEcho(inProgress, answer);
        }
        Assert.True(await stop.WaitAsync(HangGuard));
        Assert.True(SpinWait.SpinUntil(() => !client.IsConnected, HangGuard));
        var gone = await Assert.ThrowsAsync<DuplexServerGoneException>(async () => await client.RequestAsync(inProgress, HangGuard));
        Assert.False(gone.Crashed, gone.Message);
        Assert.Contains("the server is stopping", gone.Message);
        Assert.Equal(0, server.ActiveConnections);
    }

    [Fact]
    public async Task AHandlerThatOutlivesTheStopTimeoutHasItsTokenCancelledAndItsCallFails()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        (DuplexSocketServer server, Endpoint endpoint) = StartServer(DuplexTransport.Unix, async (request, token) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, token);
            return request;
        });
        DuplexSocketClient client = await ConnectAsync(endpoint);

        using Message hanging = Request("hang");
        Task<Message> call = client.RequestAsync(hanging, HangGuard).AsTask();
        await started.Task.WaitAsync(HangGuard);
        Assert.False(await server.StopAsync(TimeSpan.FromMilliseconds(50)));

        var failed = await Assert.ThrowsAsync<DuplexRequestFailedException>(() => call.WaitAsync(HangGuard));
        Assert.StartsWith(nameof(TaskCanceledException), failed.RemoteError);
        Assert.True(SpinWait.SpinUntil(() => server.ActiveConnections == 0, HangGuard));
    }

    [Fact]
    public async Task AResponseBeyondTheServersLimitFailsOnlyThatCall()
    {
        var options = new DuplexSocketServerOptions { Limits = new MessageLimits { MaxMessageLength = 64 << 10 } };
        (DuplexSocketServer server, Endpoint endpoint) = StartServer(DuplexTransport.Tcp,
            (request, _) => ValueTask.FromResult(BodyText(request) == "big" ? Message.Create(new byte[1], new byte[100_000]) : request), options);
        DuplexSocketClient client = await ConnectAsync(endpoint);

        using Message big = Request("big");
        var failed = await Assert.ThrowsAsync<DuplexRequestFailedException>(async () => await client.RequestAsync(big, HangGuard));
        Assert.StartsWith(nameof(MessageFormatException), failed.RemoteError);
        Assert.Contains("MaxMessageLength", failed.RemoteError);

        using Message small = Request("small", 10);
        using Message answer = await client.RequestAsync(small, HangGuard);
        AssertEcho(small, answer);
        Assert.Equal(1, server.RequestsFailed);
    }

    [Fact]
    public async Task ARequestBeyondTheClientsLimitIsRefusedBeforeAnythingIsSent()
    {
        (DuplexSocketServer server, Endpoint endpoint) = StartServer(DuplexTransport.Unix, (request, _) => ValueTask.FromResult(request));
        DuplexSocketClient client = await ConnectAsync(endpoint, new DuplexSocketClientOptions { Limits = new MessageLimits { MaxMessageLength = 4096, MaxParts = 2 } });

        using Message tooLong = Request("long", 5000);
        var refused = await Assert.ThrowsAsync<ArgumentException>(async () => await client.RequestAsync(tooLong, HangGuard));
        Assert.Contains("MaxMessageLength", refused.Message);
        using Message tooManyParts = Request("parts", 1, 1, 1);
        refused = await Assert.ThrowsAsync<ArgumentException>(async () => await client.RequestAsync(tooManyParts, HangGuard));
        Assert.Contains("MaxParts", refused.Message);

        using Message fits = Request("fits", 1000, 2000);
        using Message answer = await client.RequestAsync(fits, HangGuard);
        AssertEcho(fits, answer);
        Assert.Equal(1, server.RequestsAnswered);
    }

    [Fact]
    public async Task NoMoreThanMaxConcurrencyRequestsOfAConnectionAreHandledAtOnce()
    {
        int running = 0, most = 0;
        var options = new DuplexSocketServerOptions { MaxConcurrency = 3 };
        (_, Endpoint endpoint) = StartServer(DuplexTransport.Tcp, async (request, token) =>
        {
            int now = Interlocked.Increment(ref running);
            InterlockedMax(ref most, now);
            await Task.Delay(2, token);
            Interlocked.Decrement(ref running);
            return request;
        }, options);
        DuplexSocketClient client = await ConnectAsync(endpoint);

        Message[] requests = Enumerable.Range(0, 40).Select(i => Request("r" + i, i)).ToArray();
        await Task.WhenAll(requests.Select(async request =>
        {
            using Message answer = await client.RequestAsync(request, HangGuard);
            AssertEcho(request, answer);
        })).WaitAsync(HangGuard);
        Assert.InRange(most, 1, 3);
        foreach (Message request in requests)
        {
            request.Dispose();
        }
    }

    [Fact]
    public async Task AServerAnswersOnAConnectionItIsGiven()
    {
        using MessageListener listener = MessageListener.ListenUnix(NewSocketPath());
        ValueTask<MessageConnection> accept = listener.AcceptAsync(CancellationToken.None);
        var client = new DuplexSocketClient(await MessageConnection.ConnectUnixAsync(listener.Path!, HangGuard));
        Own(client);
        var server = new DuplexSocketServer(await accept, request => request);
        Own(server);

        using Message request = Request("given", 3, 4);
        using Message answer = await client.RequestAsync(request, HangGuard);
        AssertEcho(request, answer);
        Assert.Equal(1, server.ConnectionsAccepted);
    }

    [Fact]
    public async Task AClientThatFailsItsTlsHandshakeDoesNotStopTheServer()
    {
        (DuplexSocketServer server, Endpoint endpoint) = StartServer(DuplexTransport.Tls, (request, _) => ValueTask.FromResult(request));
        using (var raw = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp))
        {
            raw.Connect(System.Net.IPAddress.Loopback, endpoint.Port);
            raw.Send("not a TLS client hello, just bytes\r\n\r\n"u8.ToArray());
            raw.Shutdown(System.Net.Sockets.SocketShutdown.Both);
        }
        // Two clients, each with its own connection, both served.
        DuplexSocketClient first = await ConnectAsync(endpoint);
        DuplexSocketClient second = await ConnectAsync(endpoint);
        using Message request = Request("after a bad handshake", 100);
        using (Message answer = await first.RequestAsync(request, HangGuard))
        {
            AssertEcho(request, answer);
        }
        using (Message answer = await second.RequestAsync(request, HangGuard))
        {
            AssertEcho(request, answer);
        }
        Assert.Null(server.Fault);
        Assert.Equal(2, server.ConnectionsAccepted);
    }

    private static void InterlockedMax(ref int location, int value)
    {
        int current = Volatile.Read(ref location);
        while (value > current)
        {
            int seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current)
            {
                return;
            }
            current = seen;
        }
    }
}
