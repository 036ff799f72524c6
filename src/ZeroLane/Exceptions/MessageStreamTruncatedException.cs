namespace ZeroLane;

/// <summary>
/// The stream ended inside a frame: the peer closed (or crashed) after sending part of a message. Nothing of
/// the partial message is returned; the connection is finished.
/// </summary>
public sealed class MessageStreamTruncatedException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public MessageStreamTruncatedException(long bytesReceived, long? frameLength)
        : base(frameLength is long length
            ? $"The stream ended {bytesReceived} bytes into a frame of {length} bytes (prefix included): the peer closed or crashed in the middle of a message."
            : $"The stream ended after {bytesReceived} of the 8 bytes of a frame's length prefix: the peer closed or crashed in the middle of a message.")
    {
        BytesReceived = bytesReceived;
        FrameLength = frameLength;
    }

    /// <summary>Bytes of the unfinished frame that arrived, prefix included.</summary>
    public long BytesReceived { get; }

    /// <summary>Whole size of the unfinished frame (prefix included), or null if the prefix itself was cut.</summary>
    public long? FrameLength { get; }
}
