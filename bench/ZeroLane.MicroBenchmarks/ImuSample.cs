using System.Runtime.InteropServices;

namespace ZeroLane.MicroBenchmarks;

/// <summary>An unmanaged struct for <see cref="ZeroLane.Messages.Codecs.UnmanagedCodec{T}"/>: one inertial sensor reading, 56 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct ImuSample(
    long TimestampNanoseconds,
    double AccelerationX,
    double AccelerationY,
    double AccelerationZ,
    double RotationX,
    double RotationY,
    double RotationZ);
