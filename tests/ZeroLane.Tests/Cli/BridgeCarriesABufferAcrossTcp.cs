using System.Text;
using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Cli;

/// <summary>
/// <c>zerolane bridge send NEAR</c> to <c>zerolane bridge receive FAR</c> over loopback: a reader of FAR gets
/// every frame a writer put into NEAR, in order and byte for byte, and the metadata; both ends exit 0.
/// </summary>
public sealed class BridgeCarriesABufferAcrossTcp : BufferTest
{
    [Fact]
    public async Task EveryFrameAndTheMetadataArriveInOrderWithIdenticalBytes()
    {
        string near = NewName("br-near");
        string far = NewName("br-far");
        const int frames = 2_000;
        const int largest = 20_000;
        using var farReader = new RingReader(far, new ReaderOptions { PayloadSize = 256 * 1024 });
        using BridgeProcesses bridge = await BridgeProcesses.StartAsync(near, far, "128K");
        Task<int> received = FarReader.ReadAllAsync(farReader, largest, hold: 2);

        using (var nearWriter = new RingWriter(near))
        {
            nearWriter.SetMetadata("camera=front;fps=30"u8);
            for (int i = 0; i < frames; i++)
            {
                nearWriter.Write(Patterns.Create(FarReader.LengthOf(i, largest), (ulong)i), Safety.Timeout);
            }
        }

        Assert.Equal(frames, await received.WaitAsync(ToolProcess.SafetyTimeout));
        Assert.Equal("camera=front;fps=30", Encoding.UTF8.GetString(farReader.GetMetadata()));
        await bridge.AssertBothSucceedAsync();
        Assert.Empty(TestBuffers.Leftovers(near));
    }

    [Fact]
    public async Task AStreamWithoutMetadataIsForwardedToo()
    {
        string near = NewName("br-nometa");
        string far = NewName("br-nometa-far");
        using var farReader = new RingReader(far, new ReaderOptions { PayloadSize = 64 * 1024 });
        using BridgeProcesses bridge = await BridgeProcesses.StartAsync(near, far, "64K");
        Task<int> received = FarReader.ReadAllAsync(farReader, largest: 1000);

        using (var nearWriter = new RingWriter(near))
        {
            for (int i = 0; i < 10; i++)
            {
                nearWriter.Write(Patterns.Create(FarReader.LengthOf(i, 1000), (ulong)i), Safety.Timeout);
            }
        }

        Assert.Equal(10, await received.WaitAsync(ToolProcess.SafetyTimeout));
        Assert.False(farReader.HasMetadata);
        await bridge.AssertBothSucceedAsync();
    }
}
