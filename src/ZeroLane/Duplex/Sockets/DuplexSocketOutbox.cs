using System.Runtime.CompilerServices;
using ZeroLane.Messages;
using ZeroLane.Messages.Transport;

namespace ZeroLane.Duplex;

/// <summary>
/// The sending half of one end of a duplex stream: one send at a time (an async lock), each message wrapped in its
/// envelope without copying its body or parts.
/// </summary>
/// <remarks>
/// Design: the envelope buffer, the segment list and the outgoing <see cref="Message"/> are reused for every send, which
/// is safe because the lock lets one send at a time use them; so a send allocates nothing in steady state. A send is
/// never given a caller's token: once it starts it finishes whole (or the connection breaks), because a send cut short
/// would leave half a message on the stream and ruin every other call on it.
/// </remarks>
internal sealed class DuplexSocketOutbox
{
    private readonly MessageConnection _connection;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly byte[] _envelope = new byte[DuplexSocketEnvelope.Size];
    private readonly Message _wire = new(default, [], []);
    private ReadOnlyMemory<byte>[] _segments = new ReadOnlyMemory<byte>[8];

    internal DuplexSocketOutbox(MessageConnection connection)
    {
        _connection = connection;
    }

    /// <summary>True once a send failed midway: nothing more can be sent on this connection.</summary>
    internal bool IsFaulted => _connection.Sender.IsFaulted;

    /// <summary>Waits for the right to send (cancellable: nothing has been written yet).</summary>
    internal Task EnterAsync(CancellationToken cancellationToken) => _lock.WaitAsync(cancellationToken);

    /// <summary>Gives up the right to send.</summary>
    internal void Exit() => _lock.Release();

    /// <summary>
    /// Sends <paramref name="body"/> followed by the parts of <paramref name="partsOf"/> (if given) in an envelope of
    /// <paramref name="kind"/> and <paramref name="correlationId"/>. Only between <see cref="EnterAsync"/> and <see cref="Exit"/>.
    /// </summary>
    /// <exception cref="ObjectDisposedException"><paramref name="partsOf"/> was disposed; nothing was sent.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    internal async ValueTask SendEnteredAsync(DuplexSocketKind kind, ulong correlationId, ReadOnlyMemory<byte> body, Message? partsOf)
    {
        int count = 1 + (partsOf?.PartCount ?? 0);
        try
        {
            if (_segments.Length < count)
            {
                _segments = new ReadOnlyMemory<byte>[Math.Max(count, _segments.Length * 2)];
            }
            _segments[0] = body;
            if (partsOf is not null)
            {
                // A part mapped from a file that shrank would read as zeros: refuse before anything is sent.
                partsOf.ThrowIfContentLost();
                partsOf.Parts.CopyTo(_segments.AsSpan(1));
            }
            DuplexSocketEnvelope.Write(_envelope, kind, correlationId);
            _wire.Refill(_envelope, _segments.AsSpan(0, count), []);
            await _connection.Sender.SendAsync(_wire, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            // Keep no reference to the caller's memory between sends.
            _segments.AsSpan(0, count).Clear();
            _wire.Refill(default, [], []);
            _wire.Dispose();
        }
    }
}
