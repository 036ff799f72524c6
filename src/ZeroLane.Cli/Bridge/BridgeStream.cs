using System.Net.Sockets;
using ZeroLane.Messages;

namespace ZeroLane.Cli.Bridge;

/// <summary>
/// Message frames over one TCP connection, for the bridge: a plain <see cref="NetworkStream"/> with the
/// header and each segment written in turn, and a reader that reads the prefix, then exactly the frame into
/// one pooled buffer. A stand-in, kept in this one class, until the vectored FrameWriter/FrameReader land.
/// </summary>
/// <remarks>
/// Blocking calls are interrupted by the cancellation token by closing the socket; the connection is then
/// unusable, which is fine for a command that is stopping.
/// </remarks>
internal sealed class BridgeStream : IDisposable
{
    /// <summary>A body this short goes out in the same write as the header.</summary>
    private const int InlineBodyLimit = 256;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private byte[] _header = new byte[MessageFrame.HeaderSize(4) + InlineBodyLimit];
    private readonly byte[] _prefix = new byte[MessageFrame.PrefixSize];

    internal BridgeStream(Socket socket)
    {
        _socket = socket;
        _socket.NoDelay = true;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>Sends one message: header (with a short body), then each segment straight from its memory.</summary>
    /// <exception cref="IOException">The connection broke.</exception>
    internal void Send(Message message, CancellationToken cancellationToken)
    {
        using CancellationTokenRegistration registration = cancellationToken.UnsafeRegister(static state => ((Socket)state!).Dispose(), _socket);
        try
        {
            int headerSize = MessageFrame.HeaderSize(message.PartCount);
            ReadOnlySpan<byte> body = message.Body.Span;
            bool inline = body.Length <= InlineBodyLimit;
            int needed = headerSize + (inline ? body.Length : 0);
            if (_header.Length < needed)
            {
                _header = new byte[needed];
            }
            MessageFrame.WriteHeader(message, _header);
            if (inline)
            {
                body.CopyTo(_header.AsSpan(headerSize));
            }
            _stream.Write(_header, 0, needed);
            if (!inline)
            {
                _stream.Write(body);
            }
            foreach (ReadOnlyMemory<byte> part in message.Parts)
            {
                _stream.Write(part.Span);
            }
        }
        catch (Exception exception) when (exception is ObjectDisposedException or IOException && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
    }

    /// <summary>
    /// Receives one message whose body and parts are slices of one pooled buffer (released with the message),
    /// or null at a clean end of stream (the peer closed between two messages).
    /// </summary>
    /// <exception cref="IOException">The connection broke or closed in the middle of a message.</exception>
    /// <exception cref="MessageFrameException">The frame is malformed or larger than <paramref name="limits"/> allow.</exception>
    internal Message? Receive(MessageFrameLimits limits, CancellationToken cancellationToken)
    {
        using CancellationTokenRegistration registration = cancellationToken.UnsafeRegister(static state => ((Socket)state!).Dispose(), _socket);
        try
        {
            int got = ReadAtLeast(_prefix, 1);
            if (got == 0)
            {
                return null;
            }
            if (got < _prefix.Length)
            {
                _stream.ReadExactly(_prefix, got, _prefix.Length - got);
            }
            long length = MessageFrame.ReadPrefix(_prefix, limits);
            var buffer = new PooledFrameBuffer((int)length);
            try
            {
                _stream.ReadExactly(buffer.Memory.Span);
                return MessageFrame.Decode(buffer.Memory, limits, buffer);
            }
            catch
            {
                ((IDisposable)buffer).Dispose();
                throw;
            }
        }
        catch (EndOfStreamException)
        {
            throw new IOException("the peer closed the connection in the middle of a message.");
        }
        catch (Exception exception) when (exception is ObjectDisposedException or IOException && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
    }

    /// <summary>Says no more will be sent (TCP FIN), then waits until the peer closes its side too.</summary>
    internal void CloseAndWaitForPeer(CancellationToken cancellationToken)
    {
        using CancellationTokenRegistration registration = cancellationToken.UnsafeRegister(static state => ((Socket)state!).Dispose(), _socket);
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
            Span<byte> scratch = stackalloc byte[256];
            while (_stream.Read(scratch) > 0)
            {
                // The peer sends nothing; anything that arrives anyway is discarded.
            }
        }
        catch (Exception exception) when (exception is ObjectDisposedException or IOException or SocketException && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        catch (SocketException exception)
        {
            throw new IOException("closing the connection failed: " + exception.Message, exception);
        }
    }

    private int ReadAtLeast(byte[] buffer, int minimum) => _stream.ReadAtLeast(buffer, minimum, throwOnEndOfStream: false);

    public void Dispose() => _stream.Dispose();
}
