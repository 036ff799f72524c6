using ZeroLane.Duplex;
using ZeroLane.Messages;
using ZeroLane.TestPeer;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Duplex.Sockets;

/// <summary>Calls to a <see cref="DuplexSocketServer"/> in another process, over TCP, a Unix socket and TLS.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CallsAcrossProcesses : SocketDuplexTest
{
    [Theory]
    [InlineData(DuplexTransport.Tcp)]
    [InlineData(DuplexTransport.Unix)]
    [InlineData(DuplexTransport.Tls)]
    public async Task ManyConcurrentCallersEachGetTheirOwnAnswer(DuplexTransport transport)
    {
        (_, Endpoint endpoint) = StartServerPeer(transport);
        DuplexSocketClient client = await ConnectAsync(endpoint);

        // The later a request is sent, the sooner the server finishes it; each caller must still get its own answer.
        const int Callers = 16;
        Message[] requests = Enumerable.Range(0, Callers)
            .Select(i => Request($"DELAY {(Callers - i) * 5} caller {i}", Enumerable.Range(0, i % 4).Select(p => (p + 1) * 1000 * i + p).ToArray()))
            .ToArray();
        Task[] calls = requests.Select(request => Task.Run(async () =>
        {
            using Message response = await client.RequestAsync(request, HangGuard);
            AssertEcho(request, response);
        })).ToArray();
        await Task.WhenAll(calls).WaitAsync(HangGuard);
        Assert.Equal(0, client.PendingRequests);
    }

    [Theory]
    [InlineData(DuplexTransport.Tcp)]
    [InlineData(DuplexTransport.Unix)]
    [InlineData(DuplexTransport.Tls)]
    public async Task AFailingHandlerFailsOnlyItsOwnCall(DuplexTransport transport)
    {
        (_, Endpoint endpoint) = StartServerPeer(transport);
        DuplexSocketClient client = await ConnectAsync(endpoint);

        using Message slow = Request("DELAY 50 slow", 100);
        using Message failing = Request(SocketDuplexScenarios.Fail + " please", 10);
        Task<Message> slowCall = client.RequestAsync(slow, HangGuard).AsTask();
        var failure = await Assert.ThrowsAsync<DuplexRequestFailedException>(async () => await client.RequestAsync(failing, HangGuard));
        Assert.Equal($"InvalidOperationException: {DuplexScenarios.FailureText}", failure.RemoteError);
        Assert.Contains(failure.RemoteError, failure.Message);

        using (Message answer = await slowCall.WaitAsync(HangGuard))
        {
            AssertEcho(slow, answer);
        }
        using Message next = Request("next", 3);
        using Message nextAnswer = await client.RequestAsync(next, HangGuard);
        AssertEcho(next, nextAnswer);
    }

    [Theory]
    [InlineData(DuplexTransport.Tcp)]
    [InlineData(DuplexTransport.Unix)]
    [InlineData(DuplexTransport.Tls)]
    public async Task CancellingOneOfSeveralCallsLeavesTheOthersAnswered(DuplexTransport transport)
    {
        (_, Endpoint endpoint) = StartServerPeer(transport);
        DuplexSocketClient client = await ConnectAsync(endpoint);

        using Message hanging = Request(SocketDuplexScenarios.Hang, 4096);
        using Message first = Request("DELAY 20 first", 10, 20);
        using Message second = Request("second");
        using var cancel = new CancellationTokenSource();
        Task<Message> hangingCall = client.RequestAsync(hanging, HangGuard, cancel.Token).AsTask();
        Task<Message> firstCall = client.RequestAsync(first, HangGuard).AsTask();
        Task<Message> secondCall = client.RequestAsync(second, HangGuard).AsTask();

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => hangingCall.WaitAsync(HangGuard));
        using (Message answer = await firstCall.WaitAsync(HangGuard))
        {
            AssertEcho(first, answer);
        }
        using (Message answer = await secondCall.WaitAsync(HangGuard))
        {
            AssertEcho(second, answer);
        }
        using Message third = Request("third", 1);
        using Message thirdAnswer = await client.RequestAsync(third, HangGuard);
        AssertEcho(third, thirdAnswer);
        Assert.Equal(0, client.PendingRequests);
    }

    [Theory]
    [InlineData(DuplexTransport.Tcp)]
    [InlineData(DuplexTransport.Tls)]
    public async Task ACallThatTimesOutThrowsTimeoutAndTheNextCallIsAnswered(DuplexTransport transport)
    {
        (_, Endpoint endpoint) = StartServerPeer(transport);
        DuplexSocketClient client = await ConnectAsync(endpoint);

        using Message hanging = Request(SocketDuplexScenarios.Hang);
        await Assert.ThrowsAsync<TimeoutException>(async () => await client.RequestAsync(hanging, TimeSpan.FromMilliseconds(100)));
        using Message next = Request("next", 7);
        using Message answer = await client.RequestAsync(next, HangGuard);
        AssertEcho(next, answer);
    }

    [Theory]
    [InlineData(DuplexTransport.Tcp)]
    [InlineData(DuplexTransport.Unix)]
    [InlineData(DuplexTransport.Tls)]
    public async Task KillingTheServerFailsEveryPendingCallAtOnce(DuplexTransport transport)
    {
        (PeerProcess server, Endpoint endpoint) = StartServerPeer(transport);
        DuplexSocketClient client = await ConnectAsync(endpoint);
        using Message echo = Request("alive");
        (await client.RequestAsync(echo, HangGuard)).Dispose();

        Message[] requests = Enumerable.Range(0, 4).Select(i => Request(SocketDuplexScenarios.Hang + " " + i, 100)).ToArray();
        // No timeout on the calls: only the server's death may end them.
        Task<Message>[] calls = requests.Select(request => client.RequestAsync(request, Timeout.InfiniteTimeSpan).AsTask()).ToArray();
        Assert.True(SpinWait.SpinUntil(() => client.PendingRequests == requests.Length, HangGuard));
        server.Kill();

        foreach (Task<Message> call in calls)
        {
            var gone = await Assert.ThrowsAsync<DuplexServerGoneException>(() => call.WaitAsync(HangGuard));
            Assert.True(gone.Crashed, gone.Message);
        }
        Assert.False(client.IsConnected);
        await Assert.ThrowsAsync<DuplexServerGoneException>(async () => await client.RequestAsync(echo, HangGuard));
        foreach (Message request in requests)
        {
            request.Dispose();
        }
    }

    [Theory]
    [InlineData(DuplexTransport.Tcp)]
    [InlineData(DuplexTransport.Unix)]
    public async Task ARequestBeyondTheServersLimitEndsItsConnectionWithAGoodbyeThatSaysWhy(DuplexTransport transport)
    {
        (_, Endpoint endpoint) = StartServerPeer(transport, "--max-message", "65536");
        DuplexSocketClient client = await ConnectAsync(endpoint);
        using Message small = Request("small", 1000);
        (await client.RequestAsync(small, HangGuard)).Dispose();

        using Message large = Request("large", 100_000);
        var gone = await Assert.ThrowsAsync<DuplexServerGoneException>(async () => await client.RequestAsync(large, HangGuard));
        Assert.False(gone.Crashed, gone.Message);
        Assert.Contains("MaxMessageLength", gone.Message);
        Assert.Contains("Nothing was allocated", gone.Message);
    }

    [Theory]
    [InlineData(DuplexTransport.Tcp)]
    [InlineData(DuplexTransport.Unix)]
    [InlineData(DuplexTransport.Tls)]
    public async Task AResponseBeyondTheClientsLimitFaultsTheConnectionClearly(DuplexTransport transport)
    {
        (_, Endpoint endpoint) = StartServerPeer(transport);
        DuplexSocketClient client = await ConnectAsync(endpoint, new DuplexSocketClientOptions { Limits = new MessageLimits { MaxMessageLength = 64 << 10 } });
        using Message fits = Request(SocketDuplexScenarios.Big + " 60000");
        (await client.RequestAsync(fits, HangGuard)).Dispose();

        using Message hanging = Request(SocketDuplexScenarios.Hang);
        Task<Message> pending = client.RequestAsync(hanging, HangGuard).AsTask();
        using Message tooBig = Request(SocketDuplexScenarios.Big + " 1000000");
        var faulted = await Assert.ThrowsAsync<ZeroLane.MessageConnectionFaultedException>(async () => await client.RequestAsync(tooBig, HangGuard));
        var cause = Assert.IsType<MessageFormatException>(faulted.InnerException);
        Assert.Contains("MaxMessageLength", cause.Message);
        Assert.Contains("Nothing was allocated", faulted.Message);
        // The call still waiting fails too: the stream cannot be read past the oversized response.
        await Assert.ThrowsAsync<ZeroLane.MessageConnectionFaultedException>(() => pending.WaitAsync(HangGuard));
    }
}
