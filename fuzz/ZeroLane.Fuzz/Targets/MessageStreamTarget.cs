using ZeroLane.Messages;
using ZeroLane.Messages.Transport;

namespace ZeroLane.Fuzz;

/// <summary>
/// The message stream reader (<see cref="MessageReceiver"/>) on a stream that delivers the input in chunks: the first
/// byte picks the chunk sizes and whether parts are received into a destination, the rest is the stream. Receives until
/// the end of the stream, at most 256 messages. Corrupt input may only be refused with <see cref="MessageFormatException"/>
/// or, for a stream that ends inside a message, <see cref="MessageStreamTruncatedException"/>; after a refusal every
/// later receive must throw <see cref="MessageConnectionFaultedException"/>.
/// </summary>
public sealed class MessageStreamTarget : FuzzTarget
{
    private const int MaxMessages = 256;
    private static readonly MessageLimits s_limits = new() { MaxMessageLength = 1 << 20, MaxParts = 64 };

    public override string Name => "message-stream";

    public override string Description => "MessageReceiver over a chunked stream: prefixes, headers, bodies and parts, whole or into part destinations";

    public override IReadOnlyList<byte[]> Tokens { get; } = MessageTokens.All;

    protected override void Execute(ReadOnlySpan<byte> input)
    {
        if (input.Length == 0)
        {
            return;
        }
        byte mode = input[0];
        byte[] bytes = input[1..].ToArray();
        // Chunks of 1 to 32 bytes, or as much as is asked for.
        int chunk = (mode & 0x1F) == 0 ? int.MaxValue : mode & 0x1F;
        bool intoParts = (mode & 0x20) != 0;
        using var stream = new ChunkedStream(bytes, chunk);
        using var receiver = new MessageReceiver(stream, s_limits);
        var destination = new ArrayDestination();
        long consumed = 0;
        for (int i = 0; i < MaxMessages; i++)
        {
            ReceiveResult result;
            try
            {
                result = (intoParts ? receiver.TryReceiveAsync(destination, Timeout.InfiniteTimeSpan) : receiver.TryReceiveAsync(Timeout.InfiniteTimeSpan))
                    .AsTask().GetAwaiter().GetResult();
            }
            catch (Exception refused) when (IsDocumented(refused))
            {
                Check(receiver.IsFaulted, "a refused message left the receiver unfaulted");
                try
                {
                    receiver.TryReceiveAsync(Timeout.InfiniteTimeSpan).AsTask().GetAwaiter().GetResult().Message?.Dispose();
                    Check(false, "a faulted receiver received again");
                }
                catch (MessageConnectionFaultedException)
                {
                }
                return;
            }
            if (result.Status == ReceiveStatus.EndOfStream)
            {
                Check(consumed == bytes.Length, $"end of stream after {consumed} of {bytes.Length} bytes");
                return;
            }
            Check(result.Status == ReceiveStatus.Success && result.Message is not null, $"status {result.Status} from a stream that never waits");
            using Message message = result.Message!;
            consumed += MessageEncoding.TotalLength(message);
            Check(consumed <= bytes.Length, $"messages of {consumed} bytes from a {bytes.Length}-byte stream");
        }
    }

    protected override bool IsDocumented(Exception exception) => exception is MessageFormatException or MessageStreamTruncatedException;

    /// <summary>A read-only stream that returns at most <c>chunk</c> bytes per read, synchronously.</summary>
    private sealed class ChunkedStream(byte[] bytes, int chunk) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(Math.Min(buffer.Length, chunk), bytes.Length - _position);
            bytes.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            new(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Gives each part a fresh array of exactly its length.</summary>
    private sealed class ArrayDestination : IPartDestination
    {
        public ValueTask<Memory<byte>> GetPartMemoryAsync(ReadOnlyMemory<byte> body, int partCount, int partIndex, int partLength,
            CancellationToken cancellationToken)
        {
            Check(partIndex >= 0 && partIndex < partCount && partLength >= 0, $"part {partIndex} of {partCount}, {partLength} bytes");
            return new(new byte[partLength]);
        }
    }
}
