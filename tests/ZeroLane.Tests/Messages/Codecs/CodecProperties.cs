using System.Runtime.InteropServices;
using FsCheck;
using FsCheck.Fluent;
using ZeroLane.Messages;
using ZeroLane.Messages.Codecs;
using ZeroLane.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ZeroLane.Tests.Messages.Codecs;

/// <summary>
/// Property tests (FsCheck): whatever the body, parts, string or struct, encode -> header + segments on the
/// wire -> prefix -> decode -> codec decode gives back the same bytes. Each test's cases come from its
/// <see cref="TestSeed"/>, printed in its output, so a failure replays with ZEROLANE_TEST_SEED.
/// </summary>
public sealed class CodecProperties(ITestOutputHelper output)
{
    private const int MaxParts = 20;
    private const int MaxSegmentLength = 10_000;

    /// <summary>A struct with fields of every width, to catch offset or size slips.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public readonly record struct Mixed(byte A, short B, int C, long D, double E, char F, bool G, decimal H);

    /// <summary>A segment length: mostly small, sometimes at the extremes 0 and 10,000.</summary>
    private static readonly Gen<int> s_length = Gen.Frequency(
        (2, Gen.Constant(0)),
        (6, Gen.Choose(1, 64)),
        (4, Gen.Choose(65, MaxSegmentLength - 1)),
        (1, Gen.Constant(MaxSegmentLength)));

    /// <summary>A segment of random bytes (drawn from a seed: generating 200,000 bytes one by one is slow).</summary>
    private static readonly Gen<byte[]> s_segment =
        from length in s_length
        from seed in Gen.Choose(int.MinValue, int.MaxValue)
        select SimulatedWire.Pattern(length, seed);

    private static readonly Gen<(byte[] Body, byte[][] Parts)> s_message =
        from body in s_segment
        from count in Gen.Choose(0, MaxParts)
        from parts in Gen.ArrayOf(s_segment, count)
        select (body, parts);

    private readonly TestSeed _seed = TestSeed.For(output);

    private Config Runs(int count) => _seed.FsCheckConfig(count);

    [Fact]
    public void AnyBodyAndPartsRoundTripThroughTheWireWithIdenticalBytes()
    {
        Property property = Prop.ForAll(Arb.From(s_message), message =>
        {
            ReadOnlyMemory<byte>[] parts = message.Parts.Select(part => (ReadOnlyMemory<byte>)part).ToArray();
            using Message outgoing = MultipartBytesCodec.Instance.ToMessage(new Multipart<ReadOnlyMemory<byte>>(message.Body, parts));
            byte[] wire = SimulatedWire.ToWire(outgoing);
            Assert.Equal(MessageEncoding.HeaderSize(parts.Length) + message.Body.Length + message.Parts.Sum(part => (long)part.Length), wire.Length);

            using Message incoming = SimulatedWire.Receive(wire, out PooledMessageBuffer receiveBuffer);
            Multipart<ReadOnlyMemory<byte>> received = MultipartBytesCodec.Instance.Decode(incoming);

            Assert.Equal(message.Body, received.Body.ToArray());
            Assert.Equal(message.Parts.Length, received.Parts.Length);
            for (int i = 0; i < message.Parts.Length; i++)
            {
                Assert.Equal(message.Parts[i], received.Parts.Span[i].ToArray());
                Assert.True(received.Parts.Span[i].IsEmpty || SimulatedWire.OffsetWithin(received.Parts.Span[i].Span, receiveBuffer.GetSpan()) >= 0);
            }
        });

        Check.One(Runs(200), property);
    }

    [Fact]
    public void AnyRawBodyRoundTrips()
    {
        Property property = Prop.ForAll(Arb.From(s_segment), body =>
        {
            using Message incoming = SimulatedWire.SendAndReceive(BytesCodec.Instance.ToMessage(body));
            Assert.Equal(body, BytesCodec.Instance.Decode(incoming).ToArray());
        });

        Check.One(Runs(200), property);
    }

    [Fact]
    public void AnyValidStringRoundTrips()
    {
        Arbitrary<string> strings = ArbMap.Default.ArbFor<string>().Filter(text => text is not null && IsValidUtf16(text));

        Property property = Prop.ForAll(strings, text =>
        {
            using Message incoming = SimulatedWire.SendAndReceive(Utf8StringCodec.Instance.ToMessage(text));
            Assert.Equal(text, Utf8StringCodec.Instance.Decode(incoming));
        });

        Check.One(Runs(500), property);
    }

    [Fact]
    public void AnyStringOfRandomCodePointsRoundTrips()
    {
        // FsCheck's strings are mostly ASCII; these cover every plane (surrogate pairs included, lone halves not).
        Gen<string> text =
            from count in Gen.Choose(0, 200)
            from codePoints in Gen.ArrayOf(Gen.Choose(0, 0x10FFFF).Where(c => c is < 0xD800 or > 0xDFFF), count)
            select string.Concat(codePoints.Select(char.ConvertFromUtf32));

        Property property = Prop.ForAll(Arb.From(text), value =>
        {
            using Message incoming = SimulatedWire.SendAndReceive(Utf8StringCodec.Instance.ToMessage(value));
            Assert.Equal(value, Utf8StringCodec.Instance.Decode(incoming));
        });

        Check.One(Runs(300), property);
    }

    [Fact]
    public void AnyUnmanagedStructRoundTrips()
    {
        Property property = Prop.ForAll(ArbMap.Default.ArbFor<Mixed>(), value =>
        {
            using Message incoming = SimulatedWire.SendAndReceive(UnmanagedCodec<Mixed>.Instance.ToMessage(value));
            Mixed received = UnmanagedCodec<Mixed>.Instance.Decode(incoming);
            // Compare bit patterns so NaN payloads and -0.0 count as equal only when identical.
            Assert.True(MemoryMarshal.AsBytes(new ReadOnlySpan<Mixed>(in value)).SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<Mixed>(in received))) || value.Equals(received));
            Assert.Equal(BitConverter.DoubleToInt64Bits(value.E), BitConverter.DoubleToInt64Bits(received.E));
        });

        Check.One(Runs(300), property);
    }

    [Fact]
    public void AnyPrimitiveRoundTripsAsAnUnmanagedStruct()
    {
        Check.One(Runs(200), Prop.ForAll(ArbMap.Default.ArbFor<long>(), value => RoundTrip(value) == value));
        Check.One(Runs(200), Prop.ForAll(ArbMap.Default.ArbFor<Guid>(), value => RoundTrip(value) == value));
        Check.One(Runs(200), Prop.ForAll(ArbMap.Default.ArbFor<DateTime>(), value => RoundTrip(value).Ticks == value.Ticks));
    }

    private static T RoundTrip<T>(T value) where T : unmanaged
    {
        using Message incoming = SimulatedWire.SendAndReceive(UnmanagedCodec<T>.Instance.ToMessage(value));
        return UnmanagedCodec<T>.Instance.Decode(incoming);
    }

    private static bool IsValidUtf16(string text) => System.Text.Unicode.Utf8.FromUtf16(text, new byte[text.Length * 3 + 1], out _, out _, replaceInvalidSequences: false) == System.Buffers.OperationStatus.Done;
}
