using ZeroLane.Messages;
using ZeroLane.Messages.Codecs;

namespace ZeroLane.Topics;

/// <summary>
/// Publishes values of <typeparamref name="T"/> on a topic through a codec: each value becomes a message (a body plus parts,
/// see <see cref="IMessageCodec{T}"/>) written as one sample, its parts copied once into the sample and read in place.
/// </summary>
public sealed class Publisher<T> : IDisposable
{
    private readonly IMessageCodec<T> _codec;

    /// <summary>Starts publishing <typeparamref name="T"/> on <paramref name="topic"/>.</summary>
    public Publisher(string topic, IMessageCodec<T> codec, PublisherOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(codec);
        _codec = codec;
        Inner = new Publisher(topic, options);
    }

    /// <summary>The byte-level publisher underneath (statistics, loans).</summary>
    public Publisher Inner { get; }

    /// <summary>Publishes <paramref name="value"/>, waiting at most <paramref name="timeout"/> for a free slot.</summary>
    /// <exception cref="TimeoutException">Every slot stayed held by subscribers.</exception>
    /// <exception cref="FrameTooLargeException">The encoded value is larger than the publisher's samples.</exception>
    public void Write(in T value, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using Message message = _codec.ToMessage(value);
        Inner.WriteMessage(message, timeout, cancellationToken);
    }

    /// <summary>Publishes <paramref name="value"/> if a slot is free or frees up within <paramref name="timeout"/>.</summary>
    public WriteStatus TryWrite(in T value, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using Message message = _codec.ToMessage(value);
        return Inner.TryWriteMessage(message, timeout, cancellationToken);
    }

    /// <summary>Stops publishing (see <see cref="Publisher.Dispose"/>).</summary>
    public void Dispose() => Inner.Dispose();
}

/// <summary>A value read from a topic, with the sample it lives in: its large fields are slices of shared memory until disposed.</summary>
/// <typeparam name="T">The value's type.</typeparam>
public readonly struct Received<T> : IDisposable
{
    internal Received(T value, Message message, ulong publisherId, ulong sequence, DateTime timestamp)
    {
        Value = value;
        Message = message;
        PublisherId = publisherId;
        Sequence = sequence;
        Timestamp = timestamp;
    }

    /// <summary>The decoded value; valid (its parts included) until this is disposed.</summary>
    public T Value { get; }

    /// <summary>The message the value was decoded from, in place in the sample.</summary>
    public Message Message { get; }

    /// <summary>The publisher that sent it.</summary>
    public ulong PublisherId { get; }

    /// <summary>The publisher's sequence number of the sample.</summary>
    public ulong Sequence { get; }

    /// <summary>When the publisher sent it (UTC).</summary>
    public DateTime Timestamp { get; }

    /// <summary>Releases the sample.</summary>
    public void Dispose() => Message?.Dispose();
}

/// <summary>Reads values of <typeparamref name="T"/> from a topic through a codec (see <see cref="Publisher{T}"/>).</summary>
public sealed class Subscriber<T> : IDisposable
{
    private readonly IMessageCodec<T> _codec;
    private readonly MessageLimits _limits;

    /// <summary>Subscribes to <typeparamref name="T"/> values on <paramref name="topic"/>.</summary>
    public Subscriber(string topic, IMessageCodec<T> codec, SubscriberOptions? options = null, MessageLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(codec);
        _codec = codec;
        _limits = limits ?? MessageLimits.Default;
        Inner = new Subscriber(topic, options);
    }

    /// <summary>The byte-level subscriber underneath.</summary>
    public Subscriber Inner { get; }

    /// <summary>Reads the next value, waiting at most <paramref name="timeout"/>. Dispose the result to release its sample.</summary>
    /// <exception cref="TimeoutException">No sample arrived in time.</exception>
    /// <exception cref="WriterGoneException">A publisher died, or the last one left.</exception>
    /// <exception cref="MessageFormatException">A sample is not a message; it has been released.</exception>
    /// <exception cref="MessageCodecException">A message is not a valid <typeparamref name="T"/>; it has been released.</exception>
    public Received<T> Read(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ReadStatus status = TryRead(out Received<T> received, timeout, cancellationToken);
        return status == ReadStatus.Success ? received : throw ThrowHelper.ReadFailed(status, Inner.Topic, timeout);
    }

    /// <summary>Reads the next value if a sample arrives within <paramref name="timeout"/>; expected outcomes are returned.</summary>
    /// <exception cref="MessageFormatException">A sample is not a message; it has been released.</exception>
    /// <exception cref="MessageCodecException">A message is not a valid <typeparamref name="T"/>; it has been released.</exception>
    public ReadStatus TryRead(out Received<T> received, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ReadStatus status = Inner.TryRead(out Sample sample, timeout, cancellationToken);
        if (status != ReadStatus.Success)
        {
            received = default;
            return status;
        }
        Message message = FrameMessages.DecodeFrame(sample.Frame, _limits);
        try
        {
            received = new Received<T>(_codec.Decode(message), message, sample.PublisherId, sample.Sequence, sample.Timestamp);
            return ReadStatus.Success;
        }
        catch
        {
            message.Dispose();
            throw;
        }
    }

    /// <summary>Leaves the topic (see <see cref="Subscriber.Dispose"/>).</summary>
    public void Dispose() => Inner.Dispose();
}
