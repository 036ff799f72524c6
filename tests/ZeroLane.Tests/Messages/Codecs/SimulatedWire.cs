using System.Runtime.CompilerServices;
using ZeroLane.Messages;

namespace ZeroLane.Tests.Messages.Codecs;

/// <summary>
/// Stands in for a transport: writes a message's header, concatenates its segments after it into one array
/// (what the kernel would deliver), then receives it as a frame reader does: prefix, one pooled buffer,
/// decode into slices of that buffer.
/// </summary>
internal static class SimulatedWire
{
    /// <summary>The bytes a sender puts on the wire for <paramref name="message"/>: prefix, header, body, parts.</summary>
    internal static byte[] ToWire(Message message)
    {
        var wire = new byte[MessageEncoding.TotalLength(message)];
        int offset = MessageEncoding.WriteHeader(message, wire);
        var segments = new ReadOnlyMemory<byte>[message.PartCount + 1];
        int count = message.CopySegmentsTo(segments);
        for (int i = 0; i < count; i++)
        {
            segments[i].Span.CopyTo(wire.AsSpan(offset));
            offset += segments[i].Length;
        }
        Assert.Equal(wire.Length, offset);
        return wire;
    }

    /// <summary>Receives one frame from <paramref name="wire"/> into a new pooled buffer, returned with the message.</summary>
    internal static Message Receive(ReadOnlySpan<byte> wire, out PooledMessageBuffer receiveBuffer, MessageLimits? limits = null)
    {
        limits ??= MessageLimits.Default;
        long length = MessageEncoding.ReadPrefix(wire[..MessageEncoding.PrefixSize], limits);
        var buffer = new PooledMessageBuffer((int)length);
        try
        {
            wire.Slice(MessageEncoding.PrefixSize, (int)length).CopyTo(buffer.GetSpan());
            Message message = MessageEncoding.Decode(buffer.Memory, limits, buffer);
            receiveBuffer = buffer;
            return message;
        }
        catch
        {
            ((IDisposable)buffer).Dispose();
            throw;
        }
    }

    /// <summary>Sends <paramref name="message"/> across the simulated wire.</summary>
    internal static Message Transmit(Message message, out PooledMessageBuffer receiveBuffer) =>
        Receive(ToWire(message), out receiveBuffer);

    /// <summary>Sends <paramref name="message"/> across the simulated wire.</summary>
    internal static Message Transmit(Message message) => Transmit(message, out _);

    /// <summary>Sends <paramref name="outgoing"/> across the simulated wire and disposes it (the sender is done with it).</summary>
    internal static Message SendAndReceive(Message outgoing)
    {
        using (outgoing)
        {
            return Transmit(outgoing, out _);
        }
    }

    /// <summary>
    /// The offset of <paramref name="inner"/> inside <paramref name="outer"/> if it lies entirely within it
    /// (same memory, compared by address), otherwise -1.
    /// </summary>
    internal static long OffsetWithin(ReadOnlySpan<byte> inner, ReadOnlySpan<byte> outer)
    {
        if (outer.IsEmpty)
        {
            return -1;
        }
        long offset = (long)Unsafe.ByteOffset(
            ref Unsafe.AsRef(in System.Runtime.InteropServices.MemoryMarshal.GetReference(outer)),
            ref Unsafe.AsRef(in System.Runtime.InteropServices.MemoryMarshal.GetReference(inner)));
        return offset >= 0 && offset + inner.Length <= outer.Length ? offset : -1;
    }

    /// <summary>True if both spans start at the same address (the same memory, not an equal copy).</summary>
    internal static bool SameMemory(ReadOnlyMemory<byte> a, ReadOnlyMemory<byte> b) =>
        a.Length == b.Length &&
        Unsafe.AreSame(
            ref Unsafe.AsRef(in System.Runtime.InteropServices.MemoryMarshal.GetReference(a.Span)),
            ref Unsafe.AsRef(in System.Runtime.InteropServices.MemoryMarshal.GetReference(b.Span)));

    /// <summary>An array of <paramref name="length"/> bytes of a reproducible pattern.</summary>
    internal static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
