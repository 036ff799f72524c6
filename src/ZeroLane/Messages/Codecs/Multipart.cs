namespace ZeroLane.Messages.Codecs;

/// <summary>
/// A body value plus raw parts: what <see cref="MultipartBytesCodec"/> (body as bytes) and
/// <c>ZeroLane.Protobuf.ProtobufCodec&lt;T&gt;</c> (package ZeroLane.Protobuf) (body as a Protobuf message) read and write.
/// </summary>
/// <typeparam name="T">The body's type.</typeparam>
/// <param name="Body">The body value.</param>
/// <param name="Parts">The parts, in order; each is referenced as it is, never copied.</param>
public readonly record struct Multipart<T>(T Body, ReadOnlyMemory<ReadOnlyMemory<byte>> Parts);
