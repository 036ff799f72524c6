using System.Buffers.Binary;
using System.Net.Sockets;

namespace ZeroLane.Bench;

/// <summary>
/// Receives length-prefixed frames (<c>[i32 little-endian length][payload]</c>) from a stream socket into one
/// reused buffer: each <see cref="Socket.Receive(Span{byte})"/> takes as much as the buffer holds, so small
/// frames arrive many per system call, as any decent framing reader does; a partial frame at the end of the
/// buffer is moved to its start. A frame is returned only once it is complete in the buffer.
/// </summary>
internal sealed class SocketFrameReceiver
{
    private const int PrefixBytes = sizeof(int);
    private const int MinimumBufferBytes = 256 * 1024;

    private readonly Socket _socket;
    private readonly byte[] _buffer;
    private int _start;
    private int _end;

    internal SocketFrameReceiver(Socket socket, int maxFrameBytes)
    {
        _socket = socket;
        _buffer = new byte[Math.Max(PrefixBytes + maxFrameBytes, MinimumBufferBytes)];
    }

    /// <summary>The next frame's payload, valid until the next call.</summary>
    /// <exception cref="EndOfStreamException">The sender closed the connection.</exception>
    internal ReadOnlySpan<byte> Receive()
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        EnsureBuffered(PrefixBytes);
        int length = BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(_start));
        if ((uint)length > (uint)(_buffer.Length - PrefixBytes))
        {
            throw new InvalidDataException($"Frame length {length} does not fit the receive buffer.");
        }
        EnsureBuffered(PrefixBytes + length);
        var frame = new ReadOnlySpan<byte>(_buffer, _start + PrefixBytes, length);
        _start += PrefixBytes + length;
        return frame;
    }

    private void EnsureBuffered(int count)
    {
        if (_end - _start >= count)
        {
            return;
        }
        if (_buffer.Length - _start < count)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }
        while (_end - _start < count)
        {
            int received = _socket.Receive(_buffer.AsSpan(_end));
            if (received == 0)
            {
                throw new EndOfStreamException("The sending peer closed the connection before the end of the measurement.");
            }
            _end += received;
        }
    }
}
