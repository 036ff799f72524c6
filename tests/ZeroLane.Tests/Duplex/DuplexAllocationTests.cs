using ZeroLane.Duplex;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Duplex;

/// <summary>A round trip allocates nothing on the client's thread once warm (measured, not claimed).</summary>
public sealed class DuplexAllocationTests : DuplexTest
{
    [Fact]
    public void ASynchronousRoundTripAllocatesNothingOnTheClientThread()
    {
        string channel = NewChannel();
        byte[] request = new byte[64];
        using (var server = new DuplexServer(channel, r => r.Span, ServerOptions))
        using (DuplexClient client = DuplexClient.Connect(channel, HangGuard, ClientOptions))
        {
            long allocated = SteadyState.AllocatedBytes(() =>
            {
                using Frame response = client.Request(request, HangGuard);
            }, warmup: 200, measured: 500);
            Assert.Equal(0, allocated);
        }
        AssertNoLeftovers(channel);
    }
}
