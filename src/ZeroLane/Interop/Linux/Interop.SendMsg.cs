using System.Buffers;
using System.Runtime.InteropServices;

namespace ZeroLane;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>Do not raise SIGPIPE when the peer has gone; fail with EPIPE instead.</summary>
        internal const int MSG_NOSIGNAL = 0x4000;

        /// <summary>Fail with EAGAIN instead of blocking, whatever the descriptor's blocking mode.</summary>
        internal const int MSG_DONTWAIT = 0x40;

        /// <summary>Most iovecs one call accepts (UIO_MAXIOV).</summary>
        internal const int IOV_MAX = 1024;

        /// <summary>
        /// sendmsg(2) of up to <see cref="IOV_MAX"/> pinned segments as one iovec array: segment <c>i</c> is
        /// <paramref name="lengths"/>[i] bytes at <paramref name="pins"/>[i], except that the first starts
        /// <paramref name="skip"/> bytes in. Returns the bytes sent, or -1 with errno set.
        /// </summary>
        internal static unsafe nint SendMsg(SafeHandle socket, ReadOnlySpan<MemoryHandle> pins, ReadOnlySpan<int> lengths, int skip, int flags)
        {
            int count = Math.Min(Math.Min(pins.Length, lengths.Length), IOV_MAX);
            IOVector* iov = stackalloc IOVector[count];
            for (int i = 0; i < count; i++)
            {
                int start = i == 0 ? skip : 0;
                iov[i].Base = (byte*)pins[i].Pointer + start;
                iov[i].Count = (nuint)(lengths[i] - start);
            }
            MessageHeader header = default;
            header.IOVectors = iov;
            header.IOVectorCount = (nuint)count;
            return SendMsgRaw(socket, &header, flags);
        }

        /// <summary>struct iovec.</summary>
        [StructLayout(LayoutKind.Sequential)]
        private unsafe struct IOVector
        {
            internal byte* Base;
            internal nuint Count;
        }

        /// <summary>struct msghdr on 64-bit Linux (the padding after msg_namelen is implied by alignment).</summary>
        [StructLayout(LayoutKind.Sequential)]
        private unsafe struct MessageHeader
        {
            internal void* Name;
            internal uint NameLength;
            internal IOVector* IOVectors;
            internal nuint IOVectorCount;
            internal void* Control;
            internal nuint ControlLength;
            internal int Flags;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "sendmsg", SetLastError = true)]
        private static unsafe partial nint SendMsgRaw(SafeHandle socket, MessageHeader* message, int flags);
    }
}
