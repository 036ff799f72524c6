using ZeroLane.Ipc;
using ZeroLane.Posix;

namespace ZeroLane.Buffers;

/// <summary>How full a buffer is: Healthy below 80% utilization, Degraded from 80% to 95%, Critical above 95%.</summary>
public enum BufferHealth
{
    /// <summary>Below 80% of the payload block in use.</summary>
    Healthy = 0,

    /// <summary>80% to 95% in use: the reader is falling behind.</summary>
    Degraded = 1,

    /// <summary>Above 95% in use: the writer is about to block.</summary>
    Critical = 2,
}

/// <summary>A snapshot of a buffer's figures, read from its OIEB without attaching as reader or writer.</summary>
public sealed record BufferStats
{
    /// <summary>The buffer's name.</summary>
    public required string Name { get; init; }

    /// <summary>Size of the payload block in bytes.</summary>
    public required long PayloadCapacity { get; init; }

    /// <summary>Free bytes of the payload block (payload_free_bytes).</summary>
    public required long FreeBytes { get; init; }

    /// <summary>Size of the metadata block in bytes.</summary>
    public required long MetadataCapacity { get; init; }

    /// <summary>Metadata bytes written (without the 8-byte prefix); 0 if none.</summary>
    public required long MetadataLength { get; init; }

    /// <summary>Items the writer published (written_count; wrap markers included, as the protocol counts them).</summary>
    public required ulong FramesWritten { get; init; }

    /// <summary>Items the reader has finished with (read_count; wrap markers included).</summary>
    public required ulong FramesRead { get; init; }

    /// <summary>The writer's process ID, 0 if none is connected.</summary>
    public required int WriterPid { get; init; }

    /// <summary>True if the recorded writer process is alive.</summary>
    public required bool WriterAlive { get; init; }

    /// <summary>The reader's process ID, 0 if none.</summary>
    public required int ReaderPid { get; init; }

    /// <summary>True if the recorded reader process is alive.</summary>
    public required bool ReaderAlive { get; init; }

    /// <summary>True if the reader is a ZeroLane reader (it set the OIEB extension).</summary>
    public required bool ZeroLaneReader { get; init; }

    /// <summary>Fraction of the payload block in use, 0 to 1.</summary>
    public double Utilization => PayloadCapacity == 0 ? 0 : (double)(PayloadCapacity - FreeBytes) / PayloadCapacity;

    /// <summary>Health by utilization.</summary>
    public BufferHealth Health => HealthOf(Utilization);

    /// <summary>Healthy below 0.80, Degraded from 0.80 to 0.95, Critical above 0.95.</summary>
    public static BufferHealth HealthOf(double utilization) =>
        utilization < 0.80 ? BufferHealth.Healthy : utilization <= 0.95 ? BufferHealth.Degraded : BufferHealth.Critical;

    internal static BufferStats Read(string name, Oieb oieb, IIpcPlatform platform)
    {
        MappedRegion region = oieb.Region;
        ProcessIdentity writer = oieb.Writer.Read();
        ProcessIdentity reader = oieb.Reader.Read();
        long payload = (long)region.ReadUInt64Acquire(OiebLayout.PayloadSize);
        ulong metadataWritten = region.ReadUInt64Acquire(OiebLayout.MetadataWrittenBytes);
        return new BufferStats
        {
            Name = name,
            PayloadCapacity = payload,
            FreeBytes = (long)Math.Min(region.ReadUInt64Acquire(OiebLayout.PayloadFreeBytes), (ulong)payload),
            MetadataCapacity = (long)region.ReadUInt64Acquire(OiebLayout.MetadataSize),
            MetadataLength = metadataWritten >= 8 ? (long)metadataWritten - 8 : 0,
            FramesWritten = region.ReadUInt64Acquire(OiebLayout.PayloadWrittenCount),
            FramesRead = region.ReadUInt64Acquire(OiebLayout.PayloadReadCount),
            WriterPid = writer.Pid,
            WriterAlive = writer.Pid != 0 && platform.IsAlive(writer),
            ReaderPid = reader.Pid,
            ReaderAlive = reader.Pid != 0 && platform.IsAlive(reader),
            ZeroLaneReader = oieb.HasZeroLaneReader,
        };
    }
}
