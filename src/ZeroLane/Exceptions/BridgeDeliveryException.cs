namespace ZeroLane;

/// <summary>
/// A ring bridge's sender could not get every frame it took from its buffer confirmed by the receiving end: the receiver
/// failed (its reason is in the message), closed the connection without confirming, or confirmed fewer frames.
/// </summary>
public sealed class BridgeDeliveryException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened and what to do.</param>
    /// <param name="framesForwarded">Frames the sender took from its buffer.</param>
    /// <param name="framesDelivered">Frames the receiving end confirmed it wrote into its buffer.</param>
    /// <param name="inner">The connection failure behind it, if any.</param>
    public BridgeDeliveryException(string message, long framesForwarded, long framesDelivered, Exception? inner = null)
        : base(message, inner)
    {
        FramesForwarded = framesForwarded;
        FramesDelivered = framesDelivered;
    }

    /// <summary>Frames the sender took from its buffer (and sent, or was about to send).</summary>
    public long FramesForwarded { get; }

    /// <summary>Frames the receiving end confirmed it wrote into its buffer.</summary>
    public long FramesDelivered { get; }

    /// <summary>Frames taken from the sender's buffer that were not confirmed delivered: <see cref="FramesForwarded"/> − <see cref="FramesDelivered"/>.</summary>
    public long FramesNotDelivered => Math.Max(0, FramesForwarded - FramesDelivered);
}
