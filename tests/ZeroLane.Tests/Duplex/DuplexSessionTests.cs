using ZeroLane.Duplex;
using ZeroLane.TestPeer;
using Xunit;

namespace ZeroLane.Tests.Duplex;

/// <summary>
/// Client sessions and server stops: a client that leaves or dies ends its session and the server serves the next
/// one; stopping lets the request in progress finish, or gives up on it without unmapping under the handler.
/// </summary>
public sealed class DuplexSessionTests : DuplexTest
{
    [Fact]
    public void AServerServesClientsOneAfterAnotherWhetherTheyLeaveOrAreKilled()
    {
        string channel = NewChannel();
        using (var server = new DuplexServer(channel, request => request.Span, ServerOptions))
        {
            for (int client = 1; client <= 3; client++)
            {
                var left = StartClient(channel, "--count", "50", "--pipeline", "4");
                Assert.True(PeerOutput.Is(left.WaitForAnyLine(PeerOutput.Ok, PeerOutput.Error), PeerOutput.Ok), left.Describe());
                Assert.True(left.WaitForExit(HangGuard), left.Describe());
            }
            var killed = StartClient(channel, "--count", "10", "--hold");
            Assert.True(PeerOutput.Is(killed.WaitForAnyLine(PeerOutput.Ok, PeerOutput.Error), PeerOutput.Ok), killed.Describe());
            killed.Kill();
            Assert.True(killed.WaitForExit(HangGuard), killed.Describe());
            // The next client replaces the dead one's response ring and is served from sequence 1.
            var last = StartClient(channel, "--count", "50");
            Assert.True(PeerOutput.Is(last.WaitForAnyLine(PeerOutput.Ok, PeerOutput.Error), PeerOutput.Ok), last.Describe());
            Assert.True(last.WaitForExit(HangGuard), last.Describe());
            Assert.Equal(3 * 50 + 10 + 50, server.RequestsAnswered);
            Assert.True(SpinWait.SpinUntil(() => server.SessionsEnded == 5, HangGuard), $"sessions ended: {server.SessionsEnded}");
        }
        AssertNoLeftovers(channel);
    }

    [Fact]
    public async Task StoppingLetsTheRequestInProgressBeAnsweredThenTheClientIsToldTheServerIsGone()
    {
        string channel = NewChannel();
        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        var server = new DuplexServer(channel, request =>
        {
            started.Set();
            release.Wait(HangGuard);
            return request.Span;
        }, ServerOptions);
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            ulong sequence = client.SendRequest("in progress"u8, HangGuard);
            Assert.True(started.Wait(HangGuard));
            Task<bool> stopping = server.StopAsync(HangGuard);
            release.Set();
            Assert.True(await stopping);
            Assert.False(server.IsRunning);
            using (Frame response = client.ReceiveResponse(sequence, HangGuard))
            {
                Assert.Equal("in progress"u8, response.Span);
            }
            Assert.Empty(Leftovers(RequestRing(channel), LockDirectory));
            // The next call waits for a new server, which does not come.
            Assert.Contains("no new server", Assert.Throws<TimeoutException>(() => client.Request("after the stop"u8, TimeSpan.FromMilliseconds(100))).Message);
        }
        server.Dispose();
        AssertNoLeftovers(channel);
    }

    [Fact]
    public async Task AStopThatTimesOutReleasesTheRingsOnlyOnceTheHandlerReturns()
    {
        string channel = NewChannel();
        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        int lengthSeen = 0;
        var server = new DuplexServer(channel, request =>
        {
            started.Set();
            release.Wait(HangGuard);
            // Still mapped: the server's thread has not released the rings under this handler.
            lengthSeen = request.Span.Length;
            return request.Span;
        }, ServerOptions);
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            client.SendRequest("stuck"u8, HangGuard);
            Assert.True(started.Wait(HangGuard));
            Assert.False(await server.StopAsync(TimeSpan.FromMilliseconds(20)));
            Assert.True(server.IsRunning);
            release.Set();
            Assert.True(SpinWait.SpinUntil(() => !server.IsRunning, HangGuard));
            Assert.Equal(5, lengthSeen);
            Assert.Null(server.Fault);
        }
        server.Dispose();
        AssertNoLeftovers(channel);
    }

    [Fact]
    public void AClientKilledWhileTheServerWaitsForRoomInItsResponseRingFreesTheServerForTheNextClient()
    {
        string channel = NewChannel();
        using (var server = new DuplexServer(channel, request => request.Span, ServerOptions))
        {
            // 30 answers of up to 10 KiB never fit in a 64 KiB response ring nobody reads: the server waits for room.
            var stuck = StartClient(channel, "--count", "30", "--max-size", "10240", "--payload", "65536", "--send-only", "--hold");
            Assert.True(PeerOutput.Is(stuck.WaitForAnyLine(PeerOutput.Sent, PeerOutput.Error), PeerOutput.Sent), stuck.Describe());
            stuck.Kill();
            Assert.True(stuck.WaitForExit(HangGuard), stuck.Describe());
            var next = StartClient(channel, "--count", "100", "--pipeline", "4");
            Assert.True(PeerOutput.Is(next.WaitForAnyLine(PeerOutput.Ok, PeerOutput.Error), PeerOutput.Ok), next.Describe());
            Assert.True(next.WaitForExit(HangGuard), next.Describe());
            Assert.True(server.RequestsDropped > 0, $"dropped {server.RequestsDropped}, answered {server.RequestsAnswered}");
            Assert.True(server.IsRunning);
            Assert.Null(server.Fault);
        }
        AssertNoLeftovers(channel);
    }
}
