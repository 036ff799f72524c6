using ZeroLane.Messages;
using ZeroLane.Messages.Codecs;

namespace ZeroLane.Tests.Messages.Codecs;

/// <summary>
/// A user type declared through IMultipartMessage keeps its large fields in place: on encode the message's parts
/// are the user's buffers, on decode they are slices of the buffer the frame was received into.
/// </summary>
public sealed class CameraFramesTravelWithoutCopies
{
    private const int Width = 640;
    private const int Height = 480;

    private readonly byte[] _pixels = SimulatedWire.Pattern(Width * Height * 3, seed: 1);
    private readonly byte[] _depth = SimulatedWire.Pattern(Width * Height * 2, seed: 2);

    private CameraFrame NewFrame() => new(
        CameraId: 7,
        FrameId: 123_456_789_012,
        TimestampNanoseconds: 1_763_700_000_123_456_789,
        Width: Width,
        Height: Height,
        Format: PixelFormat.Rgb24,
        Pixels: _pixels,
        Depth: _depth);

    [Fact]
    public void EncodingHandsThePixelAndDepthBuffersToTheMessageAsTheyAre()
    {
        CameraFrame frame = NewFrame();
        using Message message = MultipartCodec<CameraFrame>.Instance.ToMessage(frame);

        Assert.Equal(2, message.PartCount);
        Assert.True(SimulatedWire.SameMemory(_pixels, message.GetPart(0)));
        Assert.True(SimulatedWire.SameMemory(_depth, message.GetPart(1)));
        Assert.Equal(CameraFrame.BodySize, message.Body.Length);
    }

    [Fact]
    public void TheDecodedPixelsAndDepthAreSlicesOfTheReceiveBufferEqualToTheOriginals()
    {
        CameraFrame sent = NewFrame();
        using Message outgoing = MultipartCodec<CameraFrame>.Instance.ToMessage(sent);

        using Message incoming = SimulatedWire.Transmit(outgoing, out PooledMessageBuffer receiveBuffer);
        CameraFrame received = MultipartCodec<CameraFrame>.Instance.Decode(incoming);

        ReadOnlySpan<byte> frameBytes = receiveBuffer.GetSpan();
        long header = MessageEncoding.HeaderSize(2) - MessageEncoding.PrefixSize;
        Assert.Equal(header + CameraFrame.BodySize, SimulatedWire.OffsetWithin(received.Pixels.Span, frameBytes));
        Assert.Equal(header + CameraFrame.BodySize + _pixels.Length, SimulatedWire.OffsetWithin(received.Depth.Span, frameBytes));
        Assert.True(received.Pixels.Span.SequenceEqual(_pixels));
        Assert.True(received.Depth.Span.SequenceEqual(_depth));
        Assert.Equal(sent with { Pixels = default, Depth = default }, received with { Pixels = default, Depth = default });
    }

    [Fact]
    public void DecodedPixelsCannotBeReadOnceTheMessageIsDisposed()
    {
        Message incoming = SimulatedWire.SendAndReceive(MultipartCodec<CameraFrame>.Instance.ToMessage(NewFrame()));
        CameraFrame received = MultipartCodec<CameraFrame>.Instance.Decode(incoming);

        incoming.Dispose();

        Assert.Throws<ObjectDisposedException>(() => received.Pixels.Span.Length);
    }

    [Fact]
    public void AFrameWithoutADepthMapTravelsAsAnEmptySecondPart()
    {
        using Message outgoing = MultipartCodec<CameraFrame>.Instance.ToMessage(NewFrame() with { Depth = default });

        using Message incoming = SimulatedWire.Transmit(outgoing);
        CameraFrame received = MultipartCodec<CameraFrame>.Instance.Decode(incoming);

        Assert.True(received.Depth.IsEmpty);
        Assert.True(received.Pixels.Span.SequenceEqual(_pixels));
    }

    [Fact]
    public void AMessageWithAnotherNumberOfPartsIsRefusedWithACodecError()
    {
        using Message message = Message.Create(new byte[CameraFrame.BodySize], _pixels);

        var error = Assert.Throws<MessageCodecException>(() => MultipartCodec<CameraFrame>.Instance.Decode(message));

        Assert.Contains("1 parts", error.Message);
        Assert.Contains("CameraFrame", error.Message);
    }

    [Fact]
    public void ABodyOfTheWrongSizeIsRefusedWithACodecError()
    {
        using Message message = Message.Create(new byte[CameraFrame.BodySize - 1], _pixels, _depth);

        var error = Assert.Throws<MessageCodecException>(() => MultipartCodec<CameraFrame>.Instance.Decode(message));

        Assert.Contains("36 bytes", error.Message);
    }
}
