using Xunit.Abstractions;
using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Cli;

/// <summary>
/// A far reader that stops reading fills the far ring, then the TCP connection, then the near ring, until
/// the near writer cannot write; once the reader resumes (slowly, holding frames), every frame arrives,
/// none dropped.
/// </summary>
public sealed class BridgePropagatesBackPressure(ITestOutputHelper output) : BufferTest
{
    /// <summary>
    /// More than the rings and the largest loopback socket buffers can hold together: a writer that never blocks
    /// before this many frames means back-pressure did not reach it.
    /// </summary>
    private const int Limit = 4_096;

    private const int Largest = 64 * 1024;

    [Fact]
    public async Task AFarReaderThatStopsBlocksTheNearWriterAndNothingIsDroppedWhenItResumes()
    {
        string near = NewName("br-bp-near");
        string far = NewName("br-bp-far");
        using var farReader = new RingReader(far, new ReaderOptions { PayloadSize = 1 << 20 });
        using BridgeProcesses bridge = await BridgeProcesses.StartAsync(near, far, "1M");
        using var resume = new ManualResetEventSlim();
        Task<int> received = FarReader.ReadAllAsync(farReader, Largest, hold: 3, resume);
        int total;

        using (var nearWriter = new RingWriter(near))
        try
        {
            int blockedAt = -1;
            for (int i = 0; i < Limit && blockedAt < 0; i++)
            {
                // The far reader is not reading: sooner or later nothing moves, and this times out.
                if (nearWriter.TryWrite(Patterns.Create(FarReader.LengthOf(i, Largest), (ulong)i), TimeSpan.FromSeconds(2)) == WriteStatus.TimedOut)
                {
                    blockedAt = i;
                }
            }
            Assert.True(blockedAt > 0, $"the near writer never blocked in {Limit} frames while the far reader was not reading");
            Assert.Equal(0, farReader.FramesRead);
            output.WriteLine($"The near writer blocked at frame {blockedAt} with the far reader stopped.");

            resume.Set();
            total = blockedAt + 300;
            for (int i = blockedAt; i < total; i++)
            {
                nearWriter.Write(Patterns.Create(FarReader.LengthOf(i, Largest), (ulong)i), Safety.Timeout);
            }
        }
        finally
        {
            // Also when an assertion failed: the reader thread must not wait for a signal that never comes.
            resume.Set();
        }

        Assert.Equal(total, await received.WaitAsync(ToolProcess.SafetyTimeout));
        await bridge.AssertBothSucceedAsync();
    }
}
