using ZeroLane.Messages;
using ZeroLane.Messages.Codecs;
using ZeroLane.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ZeroLane.Tests.Messages.Codecs;

/// <summary>
/// What the send side allocates per message in steady state. Sending a message that is already built (its header and
/// segments, again and again) and encoding into a builder allocate nothing. Building a message allocates a known,
/// bounded amount, the same however large its body and parts are, since they are referenced and never copied: the
/// builder, its two lists and the message, plus the part and owner arrays when there are parts or owners.
/// </summary>
public sealed class SendSideAllocations(ITestOutputHelper output)
{
    private const int Warmup = 200;
    private const int Measured = 1_000;

    // The known cost of building one message on 64-bit .NET 10, measured and explained object by object. A figure
    // above these means the send side started allocating more per message; below, update the figure (and the summary).

    /// <summary>
    /// MessageBuilder 64 (with the message it built last, which a reused builder refills), its parts and owners lists
    /// 32 + 32, the Message 104 (with its part and owner counts); empty lists give empty arrays. A builder reused with
    /// Reset allocates none of this (ReusedBuildersBuildAndSendWithoutAllocating).
    /// </summary>
    private const long BuilderAndMessage = 64 + 32 + 32 + 104;

    /// <summary>Two parts: the parts list's first array (4 slots of 16 bytes, 88) and the message's copy of 2 slots (56).</summary>
    private const long TwoParts = 88 + 56;

    /// <summary>A pooled body: its owner (MessageBodyWriter, 32; the bytes come from the pool), the owners list's first array (4 references, 56) and the message's copy (1 reference, 32).</summary>
    private const long PooledBody = 32 + 56 + 32;

    private readonly byte[] _body = new byte[64];
    private readonly byte[] _part0 = new byte[4096];
    private readonly byte[] _part1 = new byte[65536];
    private readonly byte[] _header = new byte[MessageEncoding.HeaderSize(8)];

    [Fact]
    public void SendingABuiltMessageAgainAllocatesNothing()
    {
        using Message message = Message.Create(_body, _part0, _part1);
        var segments = new ReadOnlyMemory<byte>[message.PartCount + 1];
        int written = 0, segmentCount = 0;

        // What every sender does per send: write the header, then take the segments to copy or hand to sendmsg.
        long allocated = SteadyState.AllocatedBytes(() =>
        {
            written = MessageEncoding.WriteHeader(message, _header);
            segmentCount = message.CopySegmentsTo(segments);
        }, Warmup, Measured);

        Assert.True(allocated == 0, $"{allocated} bytes allocated over {Measured} sends of the same message");
        Assert.Equal(MessageEncoding.HeaderSize(2), written);
        Assert.Equal(3, segmentCount);
    }

    [Fact]
    public void EncodingRawBytesIntoABuilderAllocatesNothing()
    {
        MessageBuilder builder = Message.CreateBuilder();
        ReadOnlyMemory<byte> body = _body;

        long allocated = SteadyState.AllocatedBytes(() => BytesCodec.Instance.Encode(body, builder), Warmup, Measured);

        Assert.True(allocated == 0, $"{allocated} bytes allocated over {Measured} encodings");
    }

    public static TheoryData<string, long> KnownCosts => new()
    {
        { "raw body", BuilderAndMessage },
        { "raw body + 2 parts", BuilderAndMessage + TwoParts },
        { "unmanaged long", BuilderAndMessage + PooledBody },
    };

    [Theory]
    [MemberData(nameof(KnownCosts))]
    public void BuildingAMessageAllocatesAKnownBoundedAmount(string kind, long knownBytes)
    {
        long perMessage = PerMessage(Build(kind, _body, _part0, _part1));

        output.WriteLine($"{kind}: {perMessage} bytes per message (encode + build + header + dispose); known cost {knownBytes}");
        // A message is a new object every time, so nothing at all would mean the measurement missed the build.
        Assert.True(perMessage > 0, $"{kind}: no allocation measured although every build makes a new Message");
        Assert.True(perMessage <= knownBytes, $"{kind}: {perMessage} bytes per message, more than the known {knownBytes}");
    }

    [Theory]
    [InlineData("raw body")]
    [InlineData("raw body + 2 parts")]
    public void WhatBuildingAllocatesDoesNotGrowWithTheSizeOfBodyAndParts(string kind)
    {
        long small = PerMessage(Build(kind, new byte[16], new byte[16], new byte[16]));
        long large = PerMessage(Build(kind, new byte[1 << 20], new byte[4 << 20], new byte[4 << 20]));

        output.WriteLine($"{kind}: {small} bytes per message with 16-byte segments, {large} with 1 and 4 MiB segments");
        Assert.Equal(small, large);
    }

    /// <summary>One send of <paramref name="kind"/> as a codec user does it: encode and build, write the header, dispose.</summary>
    private Action Build(string kind, byte[] bodyBytes, byte[] part0, byte[] part1)
    {
        ReadOnlyMemory<byte> body = bodyBytes;
        var multipart = new Multipart<ReadOnlyMemory<byte>>(body, new ReadOnlyMemory<byte>[] { part0, part1 });
        return kind switch
        {
            "raw body" => () =>
            {
                using Message message = BytesCodec.Instance.ToMessage(body);
                MessageEncoding.WriteHeader(message, _header);
            },
            "raw body + 2 parts" => () =>
            {
                using Message message = MultipartBytesCodec.Instance.ToMessage(multipart);
                MessageEncoding.WriteHeader(message, _header);
            },
            "unmanaged long" => () =>
            {
                using Message message = UnmanagedCodec<long>.Instance.ToMessage(42L);
                MessageEncoding.WriteHeader(message, _header);
            },
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no such case"),
        };
    }

    private static long PerMessage(Action send)
    {
        long allocated = SteadyState.AllocatedBytes(send, Warmup, Measured);
        Assert.True(allocated % Measured == 0, $"{allocated} bytes over {Measured} messages: not the same amount per message");
        return allocated / Measured;
    }
}
