namespace ZeroLane.Messages.Transport;

/// <summary>
/// Where the parts of a message being received go, so that large parts land straight in memory of the caller's choosing
/// (a ring loan, a mapped array) instead of a receive buffer they would then be copied out of. See
/// <see cref="MessageReceiver.TryReceiveAsync(IPartDestination, TimeSpan, CancellationToken)"/>.
/// </summary>
public interface IPartDestination
{
    /// <summary>
    /// Gives the memory that part <paramref name="partIndex"/> of <paramref name="partCount"/>, <paramref name="partLength"/>
    /// bytes long, is received into: at least that long (only its first <paramref name="partLength"/> bytes are used). Called
    /// in part order, once the message's header and body have arrived; <paramref name="body"/> says what the message is. The
    /// memory must stay valid until the receive completes; the received message's part is that memory (it does not own it).
    /// </summary>
    /// <remarks>
    /// It may wait (for space in a ring, say). If it throws, the receive fails with that exception and the connection is
    /// faulted, except for cancellation, after which the receive can be called again and asks for the part's memory again.
    /// </remarks>
    ValueTask<Memory<byte>> GetPartMemoryAsync(ReadOnlyMemory<byte> body, int partCount, int partIndex, int partLength, CancellationToken cancellationToken);
}
