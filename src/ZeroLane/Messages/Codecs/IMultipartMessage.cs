using System.Buffers;

namespace ZeroLane.Messages.Codecs;

/// <summary>
/// A user type that declares how it splits into a compact body and a fixed number of large parts, so
/// <see cref="MultipartCodec{T}"/> can send it without reflection and without copying the parts.
/// </summary>
/// <remarks>
/// Design: static abstract members, resolved at compile time for each <typeparamref name="TSelf"/>, so the
/// codec calls them directly (no reflection, no source generator, trim- and AOT-safe). The body holds the small
/// fields in whatever layout the type chooses; part <c>i</c> is <see cref="GetPart"/>(value, i), handed to the
/// transport as it is. On receive, <see cref="Read"/> gets the body bytes and the parts as slices of the
/// received frame: keeping those slices in the result (rather than copying them) is what makes the receive
/// zero-copy, and makes the result valid only until the message is disposed.
/// </remarks>
/// <typeparam name="TSelf">The implementing type.</typeparam>
public interface IMultipartMessage<TSelf>
    where TSelf : IMultipartMessage<TSelf>
{
    /// <summary>Number of parts every value of the type has (a missing optional part is an empty one).</summary>
    static abstract int PartCount { get; }

    /// <summary>Writes the small fields of <paramref name="value"/> into <paramref name="body"/>.</summary>
    static abstract void WriteBody(in TSelf value, IBufferWriter<byte> body);

    /// <summary>Part <paramref name="index"/> (0 to <see cref="PartCount"/> - 1) of <paramref name="value"/>, as it is.</summary>
    static abstract ReadOnlyMemory<byte> GetPart(in TSelf value, int index);

    /// <summary>
    /// Makes a value from a body written by <see cref="WriteBody"/> and <see cref="PartCount"/> parts. Throw
    /// <see cref="MessageCodecException"/> if the body is malformed (too short, unknown version).
    /// </summary>
    static abstract TSelf Read(ReadOnlySpan<byte> body, ReadOnlySpan<ReadOnlyMemory<byte>> parts);
}
