using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using Xunit;

namespace ZeroLane.Tests.CrossProcess;

/// <summary>Frames of 1 B, 1 KiB, 1 MiB and 10 MiB cross between processes byte for byte, in both directions.</summary>
public sealed class PatternAcrossProcessesTests : PeerTest
{
    private static readonly int[] s_lengths = [1, 1 << 10, 1 << 20, 10 << 20];
    private static readonly ReaderOptions s_options = new() { MetadataSize = 0, PayloadSize = 24 << 20 };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FramesFromAWriterProcessArriveIntact(bool loan)
    {
        string name = NewName(loan ? "patloan" : "patcopy");
        using var reader = new RingReader(name, s_options);
        string[] options = ["--sizes", string.Join(',', s_lengths), "--count", (3 * s_lengths.Length).ToString()];
        StartConnectedWriter(name, loan ? [.. options, "--loan"] : options);

        for (ulong sequence = 1; sequence <= (ulong)(3 * s_lengths.Length); sequence++)
        {
            ReadPatternedFrame(reader, sequence, s_lengths[(int)((sequence - 1) % (ulong)s_lengths.Length)]);
        }
        Assert.Equal(ReadStatus.WriterDisconnected, reader.TryRead(out _, HangGuard));
    }

    [Fact]
    public void FramesToAReaderProcessArriveIntact()
    {
        string name = NewName("patout");
        int count = 3 * s_lengths.Length;
        PeerProcess reader = StartPeer("reader", name, "--payload", s_options.PayloadSize.ToString(), "--count", count.ToString(), "--verbose");
        reader.WaitForLine(PeerOutput.Ready);

        using (var writer = new RingWriter(name))
        {
            for (ulong sequence = 1; sequence <= (ulong)count; sequence++)
            {
                writer.Write(PatternedFrame(sequence, s_lengths[(int)((sequence - 1) % (ulong)s_lengths.Length)]), HangGuard);
            }
            string summary = reader.WaitForAnyLine(PeerOutput.Ok, PeerOutput.Error);
            Assert.Equal($"{PeerOutput.Ok} frames={count} bytes={3 * s_lengths.Sum()}", summary);
        }

        Assert.True(reader.WaitForExit(HangGuard), reader.Describe());
        Assert.Equal(ExitCodes.Success, reader.ExitCode);
        string[] frames = reader.Output.Where(line => PeerOutput.Is(line, PeerOutput.Frame)).ToArray();
        Assert.Equal(Enumerable.Range(1, count).Select(i => $"{PeerOutput.Frame} seq={i} len={s_lengths[(i - 1) % s_lengths.Length]}"), frames);
    }
}
