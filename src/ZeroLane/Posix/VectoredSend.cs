using System.Buffers;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace ZeroLane.Posix;

/// <summary>
/// Gather writes to a stream socket: one sendmsg(2) sends up to <see cref="MaxSegments"/> segments of pinned memory
/// without copying them in user space; and receives that never block (for callers that wait in poll(2) themselves).
/// </summary>
internal static class VectoredSend
{
    /// <summary>Most segments one call sends (IOV_MAX); the caller sends the rest in further calls.</summary>
    internal const int MaxSegments = Interop.Sys.IOV_MAX;

    /// <summary>
    /// Sends as much of the segments as the socket takes now, without blocking: segment <c>i</c> is <paramref name="lengths"/>[i]
    /// bytes at <paramref name="pins"/>[i], the first starting <paramref name="skip"/> bytes in; at most <see cref="MaxSegments"/>
    /// are used. Retries EINTR; never raises SIGPIPE.
    /// </summary>
    /// <returns>The bytes sent (possibly fewer than offered), or -1 when the socket would block before taking any.</returns>
    /// <exception cref="SocketException">The connection broke; <see cref="SocketException.SocketErrorCode"/> says how.</exception>
    internal static long TrySend(SafeHandle socket, ReadOnlySpan<MemoryHandle> pins, ReadOnlySpan<int> lengths, int skip)
    {
        while (true)
        {
            nint sent = Interop.Sys.SendMsg(socket, pins, lengths, skip, Interop.Sys.MSG_DONTWAIT | Interop.Sys.MSG_NOSIGNAL);
            if (sent >= 0)
            {
                return sent;
            }
            int errno = PosixError.LastErrno;
            if (errno == Interop.Errno.EAGAIN)
            {
                return -1;
            }
            if (errno != Interop.Errno.EINTR)
            {
                throw new SocketException((int)ToSocketError(errno), $"sendmsg failed: {PosixError.Describe(errno)} (errno {errno}).");
            }
        }
    }

    /// <summary>
    /// Moves the position (segment <paramref name="index"/>, <paramref name="skip"/> bytes into it) past <paramref name="sent"/>
    /// bytes of the segments of <paramref name="lengths"/>, and past any empty segments after them, so the next
    /// <see cref="TrySend"/> starts where this one stopped.
    /// </summary>
    internal static void Advance(ReadOnlySpan<int> lengths, long sent, ref int index, ref int skip)
    {
        while (index < lengths.Length && (sent > 0 || lengths[index] == skip))
        {
            int left = lengths[index] - skip;
            if (sent >= left)
            {
                sent -= left;
                index++;
                skip = 0;
            }
            else
            {
                skip += (int)sent;
                sent = 0;
            }
        }
    }

    /// <summary>
    /// Receives what the socket has now into <paramref name="buffer"/>, without blocking and without the runtime's socket
    /// machinery (whose blocking calls allocate each time they wait). Retries EINTR.
    /// </summary>
    /// <returns>The bytes received, 0 when the peer ended the stream, or -1 when nothing is there yet.</returns>
    /// <exception cref="SocketException">The connection broke.</exception>
    internal static int TryReceive(SafeHandle socket, Span<byte> buffer)
    {
        while (true)
        {
            nint received = Interop.Sys.Recv(socket, buffer, Interop.Sys.MSG_DONTWAIT);
            if (received >= 0)
            {
                return (int)received;
            }
            int errno = PosixError.LastErrno;
            if (errno == Interop.Errno.EAGAIN)
            {
                return -1;
            }
            if (errno != Interop.Errno.EINTR)
            {
                throw new SocketException((int)ToSocketError(errno), $"recv failed: {PosixError.Describe(errno)} (errno {errno}).");
            }
        }
    }

    private static SocketError ToSocketError(int errno) => errno switch
    {
        32 => SocketError.Shutdown,             // EPIPE
        104 => SocketError.ConnectionReset,     // ECONNRESET
        103 => SocketError.ConnectionAborted,   // ECONNABORTED
        107 => SocketError.NotConnected,        // ENOTCONN
        110 => SocketError.TimedOut,            // ETIMEDOUT
        9 => SocketError.OperationAborted,      // EBADF: the socket was closed under the send
        _ => SocketError.SocketError,
    };
}
