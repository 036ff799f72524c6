using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>Frames of 90% of the buffer alternating with 1-byte frames: every large one must wait and wrap.</summary>
public sealed class AlternatingLargeAndTinyFrames : BufferTest
{
    [Fact]
    public void FramesOfNinetyPercentOfTheBufferAlternatingWithOneByteFramesAllArriveInOrder()
    {
        const int payloadSize = 10240, large = payloadSize * 9 / 10, pairs = 100;
        string name = NewName();
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = payloadSize });
        using var writer = new RingWriter(name);

        Task writing = Safety.OnThread(() =>
        {
            for (int i = 1; i <= 2 * pairs; i++)
            {
                writer.Write(Patterns.Create(i % 2 == 1 ? large : 1, seed: (ulong)i), Safety.Timeout);
            }
        });
        Task reading = Safety.OnThread(() =>
        {
            for (int i = 1; i <= 2 * pairs; i++)
            {
                using Frame frame = reader.Read(Safety.Timeout);
                Assert.Equal((ulong)i, frame.Sequence);
                Patterns.AssertMatches(frame.Span, i % 2 == 1 ? large : 1, seed: (ulong)i);
            }
        });

        Safety.Join(writing, "the writer");
        Safety.Join(reading, "the reader");
        Assert.Equal(payloadSize, reader.GetStats().FreeBytes);
    }
}
