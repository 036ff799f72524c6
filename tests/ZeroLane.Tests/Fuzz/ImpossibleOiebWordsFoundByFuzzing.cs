using ZeroLane.Buffers;
using ZeroLane.Fuzz;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Fuzz;

/// <summary>
/// OIEB words the ring-headers fuzz target found mishandled (their inputs are in fuzz/corpus/ring-headers/regression-*):
/// a writer_pid word beyond any PID made a connecting writer loop and give up with an undocumented
/// InvalidOperationException (its lower 32 bits were taken for the PID), and a payload_size that is not a multiple of 64
/// was accepted, giving a block whose frame-length limits make no sense; and a reader created without a metadata block
/// returned "metadata" from the start of its payload block when metadata_written_bytes said there was some.
/// </summary>
public sealed class ImpossibleOiebWordsFoundByFuzzing : BufferTest
{
    private const int PayloadSize = 512;

    private (RingReader Reader, RawSegment Segment, string Name) NewBuffer()
    {
        string name = NewName("fuzzfound");
        var reader = new RingReader(name, new ReaderOptions { MetadataSize = 64, PayloadSize = PayloadSize });
        return (reader, RawSegment.Open(name), name);
    }

    [Theory]
    [InlineData(0xE6E3_0000_0000UL)]
    [InlineData(ulong.MaxValue)]
    [InlineData(1UL << 31)]
    public void AWriterConnectsOverAWriterPidWordNoProcessCanHave(ulong pidWord)
    {
        (RingReader reader, RawSegment segment, string name) = NewBuffer();
        using (reader)
        using (segment)
        {
            segment.SetU64(SpecLayout.WriterPid, pidWord);
            segment.SetU64(SpecLayout.WriterStartTime, 12345);

            using (var writer = new RingWriter(name))
            {
                writer.Write([7], Safety.Timeout);
                Assert.Equal((ulong)Environment.ProcessId, segment.U64(SpecLayout.WriterPid));
            }
            using Frame frame = reader.Read(Safety.Timeout);
            Assert.Equal(1UL, frame.Sequence);
            Assert.Equal([(byte)7], frame.Span.ToArray());
        }
    }

    [Fact]
    public void AWriterPidWordWhoseLowHalfIsALivePidIsNotTakenForThatProcess()
    {
        (RingReader reader, RawSegment segment, string name) = NewBuffer();
        using (reader)
        using (segment)
        {
            // Cut to 32 bits this is this very process, alive: the writer used to refuse with WriterAlreadyConnectedException.
            segment.SetU64(SpecLayout.WriterPid, (1UL << 32) | (uint)Environment.ProcessId);

            using var writer = new RingWriter(name);
            Assert.Equal(Environment.ProcessId, reader.GetStats().WriterPid);
        }
    }

    [Theory]
    [InlineData(27UL)]
    [InlineData(100UL)]
    [InlineData(PayloadSize - 8UL)]
    public void APayloadSizeThatIsNotAMultipleOf64IsRefusedAsCorruption(ulong payloadSize)
    {
        (RingReader reader, RawSegment segment, string name) = NewBuffer();
        using (reader)
        using (segment)
        {
            segment.SetU64(SpecLayout.PayloadSize, payloadSize);

            var refused = Assert.Throws<BufferCorruptedException>(() => new RingWriter(name));
            Assert.Contains($"payload_size {payloadSize} must be multiples of 64", refused.Message, StringComparison.Ordinal);
            Assert.Equal(0UL, segment.U64(SpecLayout.WriterPid)); // a refused connection leaves no claim
        }
    }

    [Fact]
    public void AReaderWithoutAMetadataBlockRefusesMetadataWordsRatherThanReadThePayloadBlock()
    {
        string name = NewName("fuzzfound");
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = PayloadSize });
        using RawSegment segment = RawSegment.Open(name);
        // What a writer would leave for 5 bytes of metadata; here the "metadata block" is the payload block's first bytes.
        segment.SetU64(SpecLayout.OiebSize, 5);
        segment.SetU64(SpecLayout.MetadataWrittenBytes, 5 + 8);

        var refused = Assert.Throws<BufferCorruptedException>(() => { _ = reader.GetMetadata().Length; });
        Assert.Contains("metadata_written_bytes is 13 but the metadata prefix says 5 bytes in a 0-byte block", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>The inputs themselves, as the fuzz target ran them (they are also in its corpus, which the fuzz tests run).</summary>
    [Theory]
    [InlineData("lwD2AAAAAAAAAAAAAAAA4+YAAAAAAAAAAAAAAAAA")] // writer_pid 0xE6E300000000, then a writer connects
    [InlineData("A9AQGw==")] // payload_size 27, then a writer connects and writes
    public void TheRingInputsThatFoundThemGiveAResultOrADocumentedException(string base64) =>
        new RingHeadersTarget().Run(Convert.FromBase64String(base64));
}
