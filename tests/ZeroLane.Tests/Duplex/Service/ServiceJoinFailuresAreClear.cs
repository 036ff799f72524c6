using ZeroLane.Duplex;
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
        string name = new('s', 170);

        var error = Assert.Throws<InvalidNameException>(() => new DuplexService(name, request => request.Span));

        Assert.Contains("too long", error.Message);
        Assert.Throws<InvalidNameException>(() => DuplexService.Connect("../etc", TimeSpan.Zero));
    }
}
