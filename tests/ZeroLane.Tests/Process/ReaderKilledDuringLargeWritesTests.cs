using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using Xunit;
using Xunit.Abstractions;

namespace ZeroLane.Tests.CrossProcess;

/// <summary>
/// A reader process killed while 8 MiB frames stream into its 20 MiB buffer, after a pause of 0 to 29 ms drawn from the
/// test's seed: the writer notices and stops.
/// </summary>
public sealed class ReaderKilledDuringLargeWritesTests(ITestOutputHelper output) : PeerTest
{
    private const int FrameLength = 8 << 20;
    private const string PayloadSize = "20971520";

    private readonly Random _random = TestSeed.For(output).NewRandom();

    [Fact]
    public async Task WriterInTheTestProcessStopsWithReaderGone()
    {
        string name = NewName("bigkill");
        PeerProcess reader = StartPeer("reader", name, "--payload", PayloadSize, "--verbose");
        reader.WaitForLine(PeerOutput.Ready);
        using var writer = new RingWriter(name);
        using var streaming = new ManualResetEventSlim();
        byte[] frame = new byte[FrameLength];
        Task<WriteStatus> writing = Task.Factory.StartNew(() =>
        {
            for (ulong sequence = 1; sequence < 100_000; sequence++)
            {
                FramePattern.Fill(frame, sequence);
                WriteStatus status = writer.TryWrite(frame, HangGuard);
                if (status != WriteStatus.Success)
                {
                    return status;
                }
                if (sequence == 3)
                {
                    streaming.Set();
                }
            }
            return WriteStatus.Success;
        }, TaskCreationOptions.LongRunning);
        Assert.True(streaming.Wait(HangGuard), "the writer did not get three frames through");
        reader.WaitForLine(PeerOutput.Frame);
        Thread.Sleep(_random.Next(0, 30));

        reader.Kill();

        Assert.Equal(WriteStatus.ReaderGone, await writing.WaitAsync(HangGuard));
        Assert.False(writer.IsReaderConnected);
        Assert.DoesNotContain(reader.Output, line => PeerOutput.Is(line, PeerOutput.Error));
    }

    [Fact]
    public void WriterProcessStopsWithReaderGone()
    {
        string name = NewName("bigkillp");
        PeerProcess reader = StartPeer("reader", name, "--payload", PayloadSize, "--verbose");
        reader.WaitForLine(PeerOutput.Ready);
        PeerProcess writer = StartConnectedWriter(name, "--size", FrameLength.ToString(), "--forever");
        reader.WaitForLine(PeerOutput.Frame);
        reader.WaitForLine(PeerOutput.Frame);
        reader.WaitForLine(PeerOutput.Frame);
        Thread.Sleep(_random.Next(0, 30));

        reader.Kill();

        writer.WaitForLine(PeerOutput.ReaderGone);
        Assert.True(writer.WaitForExit(HangGuard), writer.Describe());
        Assert.Equal(ExitCodes.ReaderGone, writer.ExitCode);
        Assert.DoesNotContain(reader.Output, line => PeerOutput.Is(line, PeerOutput.Error));
    }
}
