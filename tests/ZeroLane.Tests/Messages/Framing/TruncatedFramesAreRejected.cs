using ZeroLane.Messages;
using ZeroLane.Tests.Messages.Codecs;

namespace ZeroLane.Tests.Messages.Framing;

/// <summary>
/// A valid multi-part frame cut short at any offset is a MessageFormatException: never another exception and
/// never a read past the bytes given (each cut is copied into an array of exactly its length, so any read
/// beyond it would surface as an IndexOutOfRange or ArgumentOutOfRange exception instead).
/// </summary>
public sealed class TruncatedFramesAreRejected
{
    private static byte[] ValidWire()
    {
        using Message message = Message.Create(
            SimulatedWire.Pattern(37, 1),
            SimulatedWire.Pattern(100, 2),
            ReadOnlyMemory<byte>.Empty,
            SimulatedWire.Pattern(1, 3),
            SimulatedWire.Pattern(250, 4));
        return SimulatedWire.ToWire(message);
    }

    [Fact]
    public void TheUntruncatedFrameDecodes()
    {
        byte[] wire = ValidWire();

        using Message message = SimulatedWire.Receive(wire, out _);

        Assert.Equal(4, message.PartCount);
    }

    [Fact]
    public void EveryTruncationOfTheBytesAfterThePrefixFailsToDecodeWithAFrameError()
    {
        byte[] wire = ValidWire();
        int frameLength = wire.Length - MessageEncoding.PrefixSize;

        for (int cut = 0; cut < frameLength; cut++)
        {
            byte[] truncated = wire.AsSpan(MessageEncoding.PrefixSize, cut).ToArray();

            Exception? error = Record.Exception(() => MessageEncoding.Decode(truncated, MessageLimits.Default).Dispose());

            Assert.True(error is MessageFormatException, $"A frame cut to {cut} of {frameLength} bytes gave {error?.GetType().Name ?? "no exception"}: {error?.Message}");
        }
    }

    [Fact]
    public void EveryTruncationAfterACompletePrefixIsAFrameErrorWhenTheReceiverSeesTheShortfall()
    {
        // The receiver reads the prefix, then trusts nothing: a frame shorter than announced must not decode.
        byte[] wire = ValidWire();

        for (int cut = MessageEncoding.PrefixSize; cut < wire.Length; cut++)
        {
            byte[] truncated = wire.AsSpan(0, cut).ToArray();

            Exception? error = Record.Exception(() => SimulatedWireReceiveTruncated(truncated));

            Assert.True(error is MessageFormatException, $"A wire cut to {cut} of {wire.Length} bytes gave {error?.GetType().Name ?? "no exception"}: {error?.Message}");
        }
    }

    [Fact]
    public void APrefixCutShortIsAFrameErrorToo()
    {
        // Fails today: ReadPrefix reads 8 bytes with BinaryPrimitives and lets its ArgumentOutOfRangeException through.
        byte[] wire = ValidWire();

        for (int cut = 0; cut < MessageEncoding.PrefixSize; cut++)
        {
            byte[] truncated = wire.AsSpan(0, cut).ToArray();

            Exception? error = Record.Exception(() => MessageEncoding.ReadPrefix(truncated, MessageLimits.Default));

            Assert.True(error is MessageFormatException, $"A prefix cut to {cut} of {MessageEncoding.PrefixSize} bytes gave {error?.GetType().Name ?? "no exception"}: {error?.Message}");
        }
    }

    private static void SimulatedWireReceiveTruncated(byte[] truncated)
    {
        long announced = MessageEncoding.ReadPrefix(truncated, MessageLimits.Default);
        // A stream reader would wait for `announced` bytes and then see end-of-stream; here the frame is what arrived.
        int available = truncated.Length - MessageEncoding.PrefixSize;
        Assert.True(available < announced);
        MessageEncoding.Decode(truncated.AsMemory(MessageEncoding.PrefixSize), MessageLimits.Default).Dispose();
    }
}
