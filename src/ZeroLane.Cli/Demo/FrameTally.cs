using System.Diagnostics;

namespace ZeroLane.Cli.Demo;

/// <summary>
/// What a demo receiver (the ring's reader, or one of a topic's subscribers) counts and measures of the frames it gets:
/// gaps and reordering by sequence, every byte against the pattern, latency from the sender's timestamp. Allocation-free
/// per frame.
/// </summary>
/// <param name="frameSize">The size every frame was sent with.</param>
/// <param name="sender">Who filled the frames, for messages: "writer" or "publisher".</param>
internal sealed class FrameTally(int frameSize, string sender)
{
    /// <summary>Corrupt frames described on standard error; the rest are only counted.</summary>
    private const int MaxCorruptionMessages = 5;

    private static readonly double s_nanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    private ulong _expectedSequence = 1;
    private long _firstStamp;
    private long _lastDone;
    private long _frames;
    private long _bytes;
    private long _lost;
    private long _reordered;

    internal LatencyHistogram Total { get; } = new();

    internal LatencyHistogram Window { get; } = new();

    internal long Frames => _frames;

    internal long Corrupt { get; set; }

    /// <summary>Bytes allocated while waiting for, reading, verifying and timing frames (expected: none).</summary>
    internal long FramePathAllocated { get; set; }

    internal bool Failed { get; set; }

    /// <summary>Every frame arrived, in order and intact; <paramref name="dropped"/> are frames the sender says it dropped.</summary>
    internal bool IsClean(long dropped = 0) => !Failed && _lost == 0 && dropped == 0 && _reordered == 0 && Corrupt == 0 && _frames > 0;

    /// <summary>Checks and counts one frame, read in place at <paramref name="received"/> (a Stopwatch timestamp).</summary>
    internal void Add(ReadOnlySpan<byte> data, ulong sequence, long received)
    {
        if (sequence != _expectedSequence)
        {
            if (sequence > _expectedSequence)
            {
                _lost += (long)(sequence - _expectedSequence);
            }
            else
            {
                _reordered++;
            }
            Describe($"frame {sequence} arrived when {_expectedSequence} was expected.");
        }
        _expectedSequence = sequence + 1;
        bool intact = data.Length == frameSize && FramePattern.Verify(data, sequence);
        long stamp = intact ? FramePattern.ReadStamp(data) : 0;
        if (!intact || stamp <= 0 || stamp > received)
        {
            Corrupt++;
            if (Corrupt <= MaxCorruptionMessages)
            {
                Describe(data.Length != frameSize ? $"frame {sequence} is corrupt: {data.Length} bytes where {frameSize} were sent."
                    : !intact ? $"frame {sequence} is corrupt: its content is not the pattern the {sender} filled in."
                    : $"frame {sequence} is corrupt: its send timestamp {stamp} is not a time before its receipt ({received}).");
            }
        }
        else
        {
            long latency = (long)((received - stamp) * s_nanosecondsPerTick);
            Total.Record(latency);
            Window.Record(latency);
            if (_frames == 0)
            {
                _firstStamp = stamp;
            }
        }
        _frames++;
        _bytes += data.Length;
        _lastDone = Stopwatch.GetTimestamp();
    }

    /// <summary>
    /// The report line of <paramref name="kind"/> (progress: latencies of the window since the last one; summary: of the
    /// whole run). A frame the sender dropped is also a gap in the sequence: lost counts the larger of the two.
    /// </summary>
    internal string Report(string kind, long dropped = 0, (string Key, long Value)? extra = null)
    {
        LatencyHistogram latencies = kind == DemoReport.Progress ? Window : Total;
        long elapsed = _frames == 0 || _firstStamp == 0 ? 0 : (long)((_lastDone - _firstStamp) * s_nanosecondsPerTick);
        ReadOnlySpan<(string, long)> common =
        [
            (DemoReport.Frames, _frames),
            (DemoReport.Bytes, _bytes),
            (DemoReport.ElapsedNs, elapsed),
            (DemoReport.P50Ns, latencies.Percentile(50)),
            (DemoReport.P99Ns, latencies.Percentile(99)),
            (DemoReport.MaxNs, Total.Max),
            (DemoReport.Lost, Math.Max(_lost, dropped)),
            (DemoReport.Reordered, _reordered),
            (DemoReport.Corrupt, Corrupt),
            (DemoReport.Failed, Failed ? 1 : 0),
            (DemoReport.FramePathAllocatedBytes, FramePathAllocated),
        ];
        return extra is { } field ? DemoReport.Format(kind, [.. common, field]) : DemoReport.Format(kind, common);
    }

    internal static void Describe(string message) => Console.Error.Write(message + "\n");
}
