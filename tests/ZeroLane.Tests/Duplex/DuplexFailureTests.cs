using ZeroLane.Duplex;
using ZeroLane.TestPeer;
using Xunit;

namespace ZeroLane.Tests.Duplex;

/// <summary>
/// What a client gets when things go wrong: a handler that throws, a request too large, a server killed with SIGKILL
/// while requests wait. Timing is never asserted; the waits have generous hang guards only.
/// </summary>
public sealed class DuplexFailureTests : DuplexTest
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AHandlerThatThrowsIsAnsweredWithAFailureFrameAndLaterAnswersStayMatched(bool serverWritesInPlace)
    {
        // A reference-mode client cannot be told of a failure apart from an answer: it gets a failure frame.
        string channel = NewChannel();
        var server = StartServer(channel, serverWritesInPlace ? ["--loan"] : []);
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions with { Mode = DuplexMode.Reference }))
        {
            Assert.Equal(DuplexMode.Reference, client.Mode);
            using (Frame echo = client.Request(Patterned(1, 100), HangGuard))
            {
                Assert.Null(FramePattern.Verify(echo.Span, 1));
            }
            using (Frame failed = client.Request([.. DuplexScenarios.FailRequest, 1, 2, 3], HangGuard))
            {
                Assert.Equal(2UL, failed.Sequence);
                Assert.True(failed.Span.StartsWith(DuplexFailure.Prefix));
                Assert.True(DuplexFailure.TryGetMessage(failed.Span, out string? message));
                Assert.Equal($"InvalidOperationException: {DuplexScenarios.FailureText}", message);
            }
            using (Frame after = client.Request(Patterned(3, 5000), HangGuard))
            {
                Assert.Equal(3UL, after.Sequence);
                Assert.Null(FramePattern.Verify(after.Span, 3));
            }
        }
        Assert.Contains("answered=3 failed=1", StopServer(server));
        AssertNoLeftovers(channel);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AHandlerThatThrowsFailsThatRequestAloneForAZeroLaneClient(bool serverWritesInPlace)
    {
        string channel = NewChannel();
        var server = StartServer(channel, serverWritesInPlace ? ["--loan"] : []);
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            Assert.Equal(DuplexMode.Extended, client.Mode);
            using (Frame echo = client.Request(Patterned(1, 100), HangGuard))
            {
                Assert.Null(FramePattern.Verify(echo.Span, 1));
            }
            var failed = Assert.Throws<DuplexRequestFailedException>(() => client.Request([.. DuplexScenarios.FailRequest, 1, 2, 3], HangGuard));
            Assert.Equal($"InvalidOperationException: {DuplexScenarios.FailureText}", failed.RemoteError);
            Assert.Contains("request 2", failed.Message);
            using (Frame after = client.Request(Patterned(3, 5000), HangGuard))
            {
                Assert.Equal(3UL, after.Sequence);
                Assert.Null(FramePattern.Verify(after.Span, 3));
            }
            Assert.Equal(0, client.PendingRequests);
        }
        Assert.Contains("answered=3 failed=1", StopServer(server));
        AssertNoLeftovers(channel);
    }

    [Fact]
    public void AnEmptyOrFailingResponseInThisProcessIsAFailureFrameToo()
    {
        string channel = NewChannel();
        int calls = 0;
        using (var server = new DuplexServer(channel, request => ++calls switch
        {
            1 => ReadOnlySpan<byte>.Empty,
            2 => new byte[RingSize * 2],
            _ => request.Span,
        }, ServerOptions))
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions with { Mode = DuplexMode.Reference }))
        {
            using (Frame empty = client.Request("a"u8, HangGuard))
            {
                Assert.True(DuplexFailure.TryGetMessage(empty.Span, out string? message));
                Assert.StartsWith("InvalidOperationException:", message);
            }
            using (Frame tooLarge = client.Request("b"u8, HangGuard))
            {
                Assert.True(DuplexFailure.TryGetMessage(tooLarge.Span, out string? message));
                Assert.StartsWith("FrameTooLargeException:", message);
            }
            using (Frame echo = client.Request("c"u8, HangGuard))
            {
                Assert.Equal(3UL, echo.Sequence);
                Assert.Equal("c"u8, echo.Span);
                Assert.False(DuplexFailure.TryGetMessage(echo.Span, out _));
            }
            Assert.Equal(2, server.RequestsFailed);
        }
        AssertNoLeftovers(channel);
    }

    [Fact]
    public void InTheExtendedModeAnEmptyResponseIsAnAnswerAndATooLargeOneFailsAlone()
    {
        string channel = NewChannel();
        int calls = 0;
        using (var server = new DuplexServer(channel, request => ++calls switch
        {
            1 => ReadOnlySpan<byte>.Empty,
            2 => new byte[RingSize * 2],
            _ => request.Span,
        }, ServerOptions))
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            using (Frame empty = client.Request("a"u8, HangGuard))
            {
                Assert.Equal(1UL, empty.Sequence);
                Assert.Equal(0, empty.Length);
                Assert.True(empty.Span.IsEmpty);
            }
            var tooLarge = Assert.Throws<DuplexRequestFailedException>(() => client.Request("b"u8, HangGuard));
            Assert.StartsWith("FrameTooLargeException:", tooLarge.RemoteError);
            using (Frame echo = client.Request("c"u8, HangGuard))
            {
                Assert.Equal(3UL, echo.Sequence);
                Assert.Equal("c"u8, echo.Span);
            }
            Assert.Equal(1, server.RequestsFailed);
        }
        AssertNoLeftovers(channel);
    }

    [Fact]
    public void ARequestLargerThanTheRequestRingFailsAtOnceAndTheClientGoesOn()
    {
        string channel = NewChannel();
        var server = StartServer(channel);
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            byte[] tooLarge = new byte[client.MaxRequestLength + 1];
            var error = Assert.Throws<FrameTooLargeException>(() => client.Request(tooLarge, HangGuard));
            Assert.Contains("RequestRing.PayloadSize", error.Message);
            Assert.Throws<FrameTooLargeException>(() => client.SendRequest(tooLarge, HangGuard));
            Assert.Equal(0, client.PendingRequests);
            using Frame response = client.Request(Patterned(1, 10), HangGuard);
            Assert.Equal(1UL, response.Sequence);
        }
        StopServer(server);
        AssertNoLeftovers(channel);
    }

    [Fact]
    public void AServerKilledWhileAnsweringFailsEveryPendingRequestWithServerGone()
    {
        string channel = NewChannel();
        var server = StartServer(channel);
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            client.Request(Patterned(1, 10), HangGuard).Dispose();
            ulong hanging = client.SendRequest([.. DuplexScenarios.HangRequest], HangGuard);
            ulong queued = client.SendRequest(Patterned(3, 10), HangGuard);
            server.Kill();
            Assert.Throws<DuplexServerGoneException>(() => client.ReceiveResponse(hanging, HangGuard));
            // Every pending request fails the same way, at once.
            Assert.Throws<DuplexServerGoneException>(() => client.ReceiveResponse(queued, HangGuard));
            // A new call waits for a new server, which does not come.
            var noServer = Assert.Throws<TimeoutException>(() => client.Request(Patterned(4, 10), TimeSpan.FromMilliseconds(200)));
            Assert.Contains("no new server", noServer.Message);
        }
        // The dead server's request ring stays until a new server replaces it; the client's ring is gone.
        Assert.Empty(Leftovers(ResponseRing(channel), LockDirectory));
    }

    [Fact]
    public async Task AServerKilledBeforeItEverAnsweredFailsTheAsynchronousRequestWithServerGone()
    {
        string channel = NewChannel();
        var server = StartServer(channel);
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions with { Reconnect = false }))
        {
            server.Kill();
            Assert.True(server.WaitForExit(HangGuard), server.Describe());
            // The request may still fit in the dead server's ring; either way no answer can come.
            await Assert.ThrowsAsync<DuplexServerGoneException>(async () => (await client.RequestAsync(Patterned(1, 10), HangGuard)).Dispose());
        }
        Assert.Empty(Leftovers(ResponseRing(channel), LockDirectory));
    }

    [Fact]
    public void ARequestThatTimesOutHasItsLateAnswerDroppedAndTheNextRequestGetsItsOwn()
    {
        string channel = NewChannel();
        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        using (var server = new DuplexServer(channel, request =>
        {
            if (request.Sequence == 1)
            {
                started.Set();
                release.Wait(HangGuard);
            }
            return request.Span;
        }, ServerOptions))
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            Assert.Throws<TimeoutException>(() => client.Request("slow"u8, TimeSpan.FromMilliseconds(50)));
            Assert.True(started.IsSet || started.Wait(HangGuard));
            release.Set();
            using Frame response = client.Request("next"u8, HangGuard);
            Assert.Equal(2UL, response.Sequence);
            Assert.Equal("next"u8, response.Span);
        }
        AssertNoLeftovers(channel);
    }
}
