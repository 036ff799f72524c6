namespace ZeroLane.Messages;

/// <summary>
/// An owner of a message segment that can tell, after the segment was read, whether what was read is real. A mapped
/// file that shrank (or whose filesystem ran out of room) reads as zeros through the fault guard: senders that copy
/// a message (the ring) ask every such owner before committing, so zeros are never sent in place of data.
/// </summary>
internal interface ISegmentOwnerCheck
{
    /// <summary>Throws if the segment's memory was replaced since it was added (its content is lost).</summary>
    void ThrowIfContentLost();
}
