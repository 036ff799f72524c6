namespace ZeroLane.Topics;

/// <summary>
/// A sample read in place from a publisher's shared memory: its bytes, which publisher sent it, its sequence number and
/// when it was sent. Dispose it to release it (the publisher may then reuse its slot). A small struct over a
/// <see cref="ZeroLane.Frame"/>: copies share it; dispose one.
/// </summary>
public readonly struct Sample : IDisposable
{
    internal Sample(Frame frame, ulong publisherId, long timestampNanoseconds, bool forwarded = false)
    {
        Forwarded = forwarded;
        Frame = frame;
        PublisherId = publisherId;
        TimestampNanoseconds = timestampNanoseconds;
    }

    /// <summary>The sample as a frame (for message decoding, <see cref="Messages.FrameMessages.DecodeFrame"/>).</summary>
    public Frame Frame { get; }

    /// <summary>The ID of the publisher that sent it (unique among the topic's publishers).</summary>
    public ulong PublisherId { get; }

    /// <summary>The publisher's sequence number: 1 for its first sample, then one more per sample.</summary>
    public ulong Sequence => Frame.Sequence;

    /// <summary>
    /// True if a gateway (ZeroLane.Nats) republished this sample from another host: gateways never export such samples
    /// again, so a topic carried between hosts cannot loop.
    /// </summary>
    public bool Forwarded { get; }

    /// <summary>Number of bytes.</summary>
    public int Length => Frame.Length;

    /// <summary>When the publisher sent it, as nanoseconds since 1970-01-01 UTC.</summary>
    public long TimestampNanoseconds { get; }

    /// <summary>When the publisher sent it (UTC).</summary>
    public DateTime Timestamp => DateTime.UnixEpoch.AddTicks(TimestampNanoseconds / 100);

    /// <summary>The bytes, in place in shared memory.</summary>
    /// <exception cref="ObjectDisposedException">The sample was released.</exception>
    public ReadOnlySpan<byte> Span => Frame.Span;

    /// <summary>The bytes as memory, in place (the first call allocates one small object).</summary>
    /// <exception cref="ObjectDisposedException">The sample was released.</exception>
    public ReadOnlyMemory<byte> Memory => Frame.Memory;

    /// <summary>True once released (or for a default instance).</summary>
    public bool IsReleased => Frame.IsReleased;

    /// <summary>Releases the sample. Twice does nothing.</summary>
    public void Dispose() => Frame.Dispose();
}
