using ZeroLane.Duplex;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using Xunit;

namespace ZeroLane.Tests.Duplex.Service;

/// <summary>
/// One service, many clients in separate processes, each on its own channel: concurrent calls each get their own
/// answers, clients join late and leave at any time, and a client that leaves takes its rings with it.
/// </summary>
public sealed class ServiceServesManyClientsAtOnce : ServiceTest
{
    [Fact]
    public void SeveralClientsInSeparateProcessesCallingAtOnceEachGetTheirOwnAnswers()
    {
        string name = NewService();
        using DuplexService service = StartEchoService(name);
        var clients = Enumerable.Range(0, 4).Select(_ => StartJoinedClientPeer(name, "--count", "200", "--wait-go", "--hold")).ToList();
        Assert.Equal(4, clients.Select(c => c.Channel).Distinct().Count());
        Assert.True(SpinWait.SpinUntil(() => service.ClientCount == 4, HangGuard), $"clients served: {service.ClientCount}");

        foreach ((PeerProcess client, _) in clients)
        {
            client.Send(PeerOutput.GoCommand);
        }
        foreach ((PeerProcess client, _) in clients)
        {
            // Each request carries the client's PID: an answer meant for another client would fail the check.
            string line = client.WaitForAnyLine(PeerOutput.Ok, PeerOutput.Error);
            Assert.True(PeerOutput.Is(line, PeerOutput.Ok), client.Describe());
        }
        // The server counts an answer once written, which may be just after its client read it.
        Assert.True(SpinWait.SpinUntil(() => service.RequestsAnswered == 800, HangGuard), $"requests answered: {service.RequestsAnswered}");

        foreach ((PeerProcess client, string channel) in clients)
        {
            client.Send(PeerOutput.ExitCommand);
            client.WaitForLine(PeerOutput.Bye);
            Assert.True(client.WaitForExit(HangGuard), client.Describe());
            WaitUntilRingsAreGone(channel);
        }
        Assert.True(SpinWait.SpinUntil(() => service.ClientsLeft == 4, HangGuard), $"clients let go: {service.ClientsLeft}");
        Assert.Equal(0, service.ClientCount);
        Assert.Equal(4, service.ClientsJoined);
    }

    [Fact]
    public void AClientJoiningLateIsServedAlongsideTheOnesAlreadyThere()
    {
        string name = NewService();
        using DuplexService service = StartEchoService(name);
        (PeerProcess early, string earlyChannel) = StartJoinedClientPeer(name, "--count", "20", "--hold");
        Assert.True(PeerOutput.Is(early.WaitForAnyLine(PeerOutput.Ok, PeerOutput.Error), PeerOutput.Ok), early.Describe());

        (PeerProcess late, string lateChannel) = StartJoinedClientPeer(name, "--count", "20", "--hold");
        Assert.True(PeerOutput.Is(late.WaitForAnyLine(PeerOutput.Ok, PeerOutput.Error), PeerOutput.Ok), late.Describe());
        using (DuplexClient inProcess = DuplexService.Connect(name, HangGuard, ClientOptions))
        {
            Assert.NotEqual(earlyChannel, inProcess.Name);
            Assert.NotEqual(lateChannel, inProcess.Name);
            Assert.StartsWith($"zls.{name}.c.{Environment.ProcessId}.", inProcess.Name);
            using Frame answer = inProcess.Request("late and in-process"u8, HangGuard);
            Assert.Equal("late and in-process"u8, answer.Span);
            Assert.True(SpinWait.SpinUntil(() => service.ClientCount == 3, HangGuard), $"clients served: {service.ClientCount}");
        }
        Assert.True(SpinWait.SpinUntil(() => service.RequestsAnswered == 40 + 1, HangGuard), $"requests answered: {service.RequestsAnswered}");
    }

    [Fact]
    public void AClientThatLeavesHasItsRequestRingRemovedByTheService()
    {
        string name = NewService();
        using DuplexService service = StartEchoService(name);
        string channel;
        using (DuplexClient client = DuplexService.Connect(name, HangGuard, ClientOptions))
        {
            channel = client.Name;
            using Frame answer = client.Request("x"u8, HangGuard);
            Assert.Equal(4, Leftovers(channel + "_request", LockDirectory).Length);
            Assert.Equal(4, Leftovers(channel + "_response", LockDirectory).Length);
        }
        WaitUntilRingsAreGone(channel);
        Assert.True(SpinWait.SpinUntil(() => service.ClientsLeft == 1, HangGuard), $"clients let go: {service.ClientsLeft}");
    }

    [Fact]
    public async Task StoppingTheServiceEndsEveryClientsSessionAndLeavesNothing()
    {
        string name = NewService();
        var service = StartEchoService(name);
        DuplexClient first = DuplexService.Connect(name, HangGuard, ClientOptions);
        DuplexClient second = DuplexService.Connect(name, HangGuard, ClientOptions);
        try
        {
            first.Request("1"u8, HangGuard).Dispose();
            second.Request("2"u8, HangGuard).Dispose();
            Assert.True(await service.StopAsync(HangGuard));

            var gone = Assert.Throws<DuplexServerGoneException>(() => first.Request("3"u8, HangGuard).Dispose());
            Assert.False(gone.Crashed);
            Assert.Throws<DuplexServerGoneException>(() => second.Request("4"u8, HangGuard).Dispose());
        }
        finally
        {
            first.Dispose();
            second.Dispose();
            service.Dispose();
        }
        Assert.Empty(FilesOf(name));
    }

    [Fact]
    public void ALoanHandlerAnswersEveryClientInPlace()
    {
        string name = NewService();
        using var service = new DuplexService(name, (Frame request, System.Buffers.IBufferWriter<byte> response) =>
        {
            Span<byte> answer = response.GetSpan(request.Length + 1);
            request.Span.CopyTo(answer);
            answer[request.Length] = (byte)'!';
            response.Advance(request.Length + 1);
        }, ServiceOptions());
        using DuplexClient first = DuplexService.Connect(name, HangGuard, ClientOptions);
        using DuplexClient second = DuplexService.Connect(name, HangGuard, ClientOptions);

        using (Frame answer = second.Request("two"u8, HangGuard))
        {
            Assert.Equal("two!"u8, answer.Span);
        }
        using (Frame answer = first.Request("one"u8, HangGuard))
        {
            Assert.Equal("one!"u8, answer.Span);
        }
    }
}
