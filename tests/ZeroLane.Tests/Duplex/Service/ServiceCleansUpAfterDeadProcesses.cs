using ZeroLane.Duplex;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using Xunit;

namespace ZeroLane.Tests.Duplex.Service;

/// <summary>
/// Processes killed with SIGKILL: a dead client's rings are removed by the service while the other clients go on; a
/// dead service fails its clients and its leftovers are removed by the cleaner that <c>zerolane clean</c> runs, or by the
/// next service of the same name.
/// </summary>
public sealed class ServiceCleansUpAfterDeadProcesses : ServiceTest
{
    [Fact]
    public void AClientKilledWithSigkillHasItsRingsRemovedAndTheOthersGoOn()
    {
        string name = NewService();
        using DuplexService service = StartEchoService(name);
        (PeerProcess doomed, string doomedChannel) = StartJoinedClientPeer(name, "--count", "5", "--hold");
        (PeerProcess survivor, string survivorChannel) = StartJoinedClientPeer(name, "--count", "5", "--hold");
        Assert.True(PeerOutput.Is(doomed.WaitForAnyLine(PeerOutput.Ok, PeerOutput.Error), PeerOutput.Ok), doomed.Describe());
        Assert.True(PeerOutput.Is(survivor.WaitForAnyLine(PeerOutput.Ok, PeerOutput.Error), PeerOutput.Ok), survivor.Describe());
        using DuplexClient inProcess = DuplexService.Connect(name, HangGuard, ClientOptions);
        inProcess.Request("before"u8, HangGuard).Dispose();

        doomed.Kill();

        WaitUntilRingsAreGone(doomedChannel);
        Assert.True(SpinWait.SpinUntil(() => service.ClientsLeft == 1, HangGuard), $"clients let go: {service.ClientsLeft}");
        Assert.Equal(2, service.ClientCount);
        Assert.Equal(8, Leftovers(survivorChannel + "_request", LockDirectory).Length + Leftovers(survivorChannel + "_response", LockDirectory).Length);
        using (Frame after = inProcess.Request("after"u8, HangGuard))
        {
            Assert.Equal("after"u8, after.Span);
        }
        Assert.False(survivor.HasExited, survivor.Describe());
    }

    [Fact]
    public void AServiceKilledWithSigkillFailsItsClientsAndItsLeftoversAreCleanedUp()
    {
        string name = NewService();
        PeerProcess servicePeer = StartServicePeer(name);
        DuplexClient first = DuplexService.Connect(name, HangGuard, ClientOptions);
        DuplexClient second = DuplexService.Connect(name, HangGuard, ClientOptions);
        try
        {
            first.Request("1"u8, HangGuard).Dispose();
            second.Request("2"u8, HangGuard).Dispose();

            servicePeer.Kill();

            Assert.Throws<DuplexServerGoneException>(() => first.Request("3"u8, HangGuard).Dispose());
            Assert.Throws<DuplexServerGoneException>(() => second.Request("4"u8, HangGuard).Dispose());
        }
        finally
        {
            first.Dispose();
            second.Dispose();
        }
        // Left: the service file and each client's request ring, which the dead service created.
        Assert.Contains($"/dev/shm/zls.{name}.service", FilesOf(name));
        Assert.True(DuplexServiceInspector.TryGetService(name, out DuplexServiceInfo? dead));
        Assert.False(dead.Alive);
        Assert.Equal(2, dead.ClientCount);

        IReadOnlyList<string> removed = DuplexServiceInspector.Clean(name, LockDirectory);

        Assert.Contains($"zls.{name}.service", removed);
        Assert.Contains(first.Name + "_request", removed);
        Assert.Contains(second.Name + "_request", removed);
        Assert.Empty(FilesOf(name));
        Assert.False(DuplexServiceInspector.TryGetService(name, out _));
    }

    [Fact]
    public void ANewServiceOfTheSameNameRemovesADeadOnesLeftoversAndServes()
    {
        string name = NewService();
        PeerProcess servicePeer = StartServicePeer(name);
        string deadChannel;
        using (DuplexClient client = DuplexService.Connect(name, HangGuard, ClientOptions))
        {
            deadChannel = client.Name;
            client.Request("1"u8, HangGuard).Dispose();
            servicePeer.Kill();
            Assert.Throws<DuplexServerGoneException>(() => client.Request("2"u8, HangGuard).Dispose());
        }
        Assert.NotEmpty(Leftovers(deadChannel + "_request", LockDirectory));

        using DuplexService service = StartEchoService(name);

        Assert.Empty(RingLeftovers(deadChannel));
        using DuplexClient again = DuplexService.Connect(name, HangGuard, ClientOptions);
        using Frame answer = again.Request("again"u8, HangGuard);
        Assert.Equal("again"u8, answer.Span);
    }
}
