using ZeroLane.Duplex;
using ZeroLane.Messages;
using ZeroLane.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace ZeroLane.Tests.Duplex.Sockets;

/// <summary>
/// What one call costs the client in allocations, measured over the whole process (the server runs in another one), so the
/// receive loop's and the thread pool's allocations count too.
/// </summary>
/// <remarks>
/// Not zero: a call allocates the response it returns, as <see cref="ZeroLane.Messages.Transport.MessageReceiver"/> makes
/// every received message: the <see cref="Message"/> (about 100 bytes), its pooled-buffer owner (32), its parts array (24 +
/// 16 per part, the envelope's part 0 included) and owners array (32), 240 bytes for a response of two parts, on 64-bit.
/// The client's own work (correlation, pending calls, timers, sends, the receive loop's awaits) allocates nothing once
/// warm: its pending calls and their timeout sources are pooled and reused. The bound below leaves room for the response
/// and a little noise from the test host, not for a per-call allocation of the client's own.
/// </remarks>
[Collection(NonParallelCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CallAllocations : SocketDuplexTest
{
    private readonly ITestOutputHelper _output;

    public CallAllocations(ITestOutputHelper output)
    {
        _output = output;
    }

    [Theory]
    [InlineData(DuplexTransport.Tcp)]
    [InlineData(DuplexTransport.Unix)]
    public async Task ACallAllocatesOnlyTheResponseMessageItReturns(DuplexTransport transport)
    {
        (_, Endpoint endpoint) = StartServerPeer(transport);
        DuplexSocketClient client = await ConnectAsync(endpoint);
        using Message request = Environment.GetEnvironmentVariable("ZL_SMALL") == "1" ? Request("steady") : Request("steady", 256, 4096);

        await Calls(client, request, 500);
        const int Measured = 4000;
        long least = long.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            await Calls(client, request, Measured);
            least = Math.Min(least, GC.GetTotalAllocatedBytes(precise: true) - before);
        }
        double perCall = (double)least / Measured;
        _output.WriteLine($"{transport}: {perCall:0.0} bytes allocated per call (whole process)");
        Assert.True(perCall < 300, $"{perCall:0.0} bytes per call; the response message itself takes 240");
    }

    private static async Task Calls(DuplexSocketClient client, Message request, int count)
    {
        for (int i = 0; i < count; i++)
        {
            using Message response = await client.RequestAsync(request, Environment.GetEnvironmentVariable("ZL_INF") == "1" ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        }
    }
}
