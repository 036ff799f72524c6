using System.Buffers.Binary;
using ZeroLane.Duplex;
using ZeroLane.Posix;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using Xunit;

namespace ZeroLane.Tests.Duplex.Service;

/// <summary>What a client joining a service gets when it cannot: no such service, a full service, a bad name.</summary>
public sealed class ServiceJoinFailuresAreClear : ServiceTest
{
    [Fact]
    public void JoiningAServiceThatDoesNotRunSaysSoAndWhatToDoAndLeavesNothing()
    {
        string name = NewService();

        var error = Assert.Throws<DuplexServiceNotFoundException>(() => DuplexService.Connect(name, TimeSpan.FromMilliseconds(100), ClientOptions));

        Assert.Contains($"No duplex service '{name}' runs on this host", error.Message);
        Assert.Contains("Start it", error.Message);
        Assert.Empty(FilesOf(name));
    }

    [Fact]
    public void AServiceAtItsMaximumRefusesTheNextClientUntilOneLeaves()
    {
        string name = NewService();
        using DuplexService service = StartEchoService(name, maxClients: 1);
        DuplexClient first = DuplexService.Connect(name, HangGuard, ClientOptions);
        try
        {
            var refused = Assert.Throws<DuplexServiceRefusedException>(() => DuplexService.Connect(name, HangGuard, ClientOptions));
            Assert.Contains("maximum of 1 clients", refused.Message);
            Assert.Contains("MaxClients", refused.Message);
            Assert.Equal(1, service.ClientsRefused);
        }
        finally
        {
            first.Dispose();
        }
        Assert.True(SpinWait.SpinUntil(() => service.ClientCount == 0, HangGuard), $"clients served: {service.ClientCount}");
        using DuplexClient second = DuplexService.Connect(name, HangGuard, ClientOptions);
        using Frame answer = second.Request("second"u8, HangGuard);
        Assert.Equal("second"u8, answer.Span);
    }

    [Fact]
    public void ASecondServiceOfTheSameNameIsRefusedWhileTheFirstRuns()
    {
        string name = NewService();
        using DuplexService service = StartEchoService(name);

        var error = Assert.Throws<ReaderAlreadyConnectedException>(() => StartEchoService(name));

        Assert.Contains($"A live duplex service '{name}' already runs", error.Message);
    }

    [Fact]
    public void ANameTooLongForItsClientsRingNamesIsRefusedWithTheReason()
    {
        string name = new('s', 158);

        var error = Assert.Throws<InvalidNameException>(() => new DuplexService(name, request => request.Span));

        Assert.Contains("1 character(s) too long", error.Message);
        Assert.Equal(new string('s', 157), DuplexServiceNames.Create(new string('s', 157)).Service);
        Assert.Throws<InvalidNameException>(() => DuplexService.Connect("../etc", TimeSpan.Zero));
    }

    [Fact]
    public void AServiceThatDiesWhileAClientJoinsFailsTheJoinAsServerGone()
    {
        string name = NewService();
        // A service file naming a live process that never admits anyone: the client waits in the join until it dies.
        PeerProcess stand = StartHoldingReader(NewName("svc-stand"), "--lock-dir", LockDirectory);
        WriteServiceFile(name, stand.Id);
        Task<DuplexClient> joining = Safety.OnThread(() => DuplexService.Connect(name, HangGuard, ClientOptions));
        Assert.True(SpinWait.SpinUntil(() => JoinFiles(name).Length == 1, HangGuard), "the client's join file did not appear");

        stand.Kill();

        var gone = Assert.Throws<DuplexServerGoneException>(() => Safety.Join(joining, "the joining client"));
        Assert.True(gone.Crashed);
        Assert.Contains($"Duplex service '{name}' died while this client was joining it", gone.Message);
        Assert.Empty(JoinFiles(name));
    }

    [Fact]
    public void AServiceThatRunsButDoesNotAdmitTheClientEndsTheJoinWithATimeout()
    {
        string name = NewService();
        WriteServiceFile(name, Environment.ProcessId);

        var error = Assert.Throws<TimeoutException>(() => DuplexService.Connect(name, TimeSpan.FromMilliseconds(200), ClientOptions));

        Assert.Contains($"Duplex service '{name}' runs but did not admit this client", error.Message);
        Assert.Empty(JoinFiles(name));
    }

    /// <summary>A service file recording process <paramref name="pid"/>, as a service writes it (PROTOCOL.md 14.6).</summary>
    private static void WriteServiceFile(string name, int pid)
    {
        byte[] bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)pid);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), ProcessLiveness.ReadStartTime(pid));
        File.WriteAllBytes($"/dev/shm/zls.{name}.service", bytes);
    }

    private static string[] JoinFiles(string name) => Directory.GetFiles("/dev/shm", $"zls.{name}.c.*");
}
