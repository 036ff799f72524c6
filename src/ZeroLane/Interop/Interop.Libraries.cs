namespace ZeroLane;

internal static partial class Interop
{
    internal static class Libraries
    {
        /// <summary>glibc 2.34+ carries shm_*, sem_* and flock in libc itself.</summary>
        internal const string Libc = "libc";

        /// <summary>Our own native library (src/ZeroLane/Native), built next to ZeroLane.dll when a C compiler is present.</summary>
        internal const string ZeroLaneNative = "zerolane_native";
    }
}
