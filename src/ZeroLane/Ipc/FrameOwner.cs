namespace ZeroLane.Ipc;

/// <summary>
/// What a <see cref="Frame"/> refers to: the account of the frames a reading endpoint has handed out, by ticket. A ring's
/// reader keeps a <see cref="CreditLedger"/> (space credited back in ring order); a topic's subscriber keeps the samples it
/// holds. Frames only ask it for their bytes and give them back.
/// </summary>
internal abstract class FrameOwner
{
    /// <summary>The ticket's bytes in place.</summary>
    /// <exception cref="ObjectDisposedException">The ticket was released (or the owner closed).</exception>
    internal abstract ReadOnlySpan<byte> GetSpan(long ticket);

    /// <summary>The ticket's bytes in place as memory (the first call per ticket may allocate).</summary>
    /// <exception cref="ObjectDisposedException">The ticket was released (or the owner closed).</exception>
    internal abstract ReadOnlyMemory<byte> GetMemory(long ticket);

    /// <summary>Gives the ticket's frame back; twice does nothing.</summary>
    internal abstract void Release(long ticket);

    /// <summary>True once the ticket is released (or the owner closed).</summary>
    internal abstract bool IsReleased(long ticket);
}
