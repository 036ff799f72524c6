using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using ZeroLane.Arrays;

namespace ZeroLane.Bench;

/// <summary>
/// Mapped arrays, in this process: time to open (map) a 16 MiB and a 4 GiB array, which should not differ (nothing is
/// read until touched); sequential read bandwidth summing a 256 MiB float array through its spans (pages already in
/// the page cache), to compare with memcpy; and save bandwidth of <c>MappedArray.Save</c> against
/// <c>File.WriteAllBytes</c> of the same 256 MiB, in the system temp directory; and element access by
/// <c>GetAt</c> (bounds and fault-guard checks) against indexing a span of the same mapping. With <c>--sizes</c>, each of
/// these at every size given instead.
/// </summary>
internal static class ArrayBench
{
    internal const string Transport = "array";
    internal const string FileTransport = "file";
    internal const string Open = "open";
    internal const string Read = "read";
    internal const string Save = "save";
    internal const string Get = "get";
    internal const string SpanIndex = "span-index";
    private const long SmallBytes = 16L << 20;
    private const long LargeBytes = 4L << 30;
    private const int DataBytes = 256 << 20;

    private const int ElementAccessBytes = 64 << 20;

    /// <summary>
    /// The measurements, each a function that makes its files in a temp directory of its own and removes them: for
    /// <paramref name="sizes"/> null, the part's own sizes (open at 16 MiB and 4 GiB, save and read at 256 MiB, element
    /// access over 64 MiB); otherwise each of these at every size given (whole float32 elements).
    /// </summary>
    internal static IReadOnlyList<Func<BenchResult>> Measurements(IReadOnlyList<int>? sizes, double warmupSeconds, double seconds)
    {
        IReadOnlyList<long> openSizes = sizes?.Select(size => (long)size).ToArray() ?? [SmallBytes, LargeBytes];
        IReadOnlyList<int> dataSizes = sizes ?? [DataBytes];
        IReadOnlyList<int> accessSizes = sizes ?? [ElementAccessBytes];
        var measurements = new List<Func<BenchResult>>();
        foreach (long bytes in openSizes)
        {
            measurements.Add(() => InDirectory(directory => OpenTime(Path.Combine(directory, "open.npy"), bytes, seconds)));
        }
        foreach (int bytes in dataSizes)
        {
            measurements.Add(() => InDirectory(directory => SaveBandwidth(Path.Combine(directory, "data.npy"), Data(bytes), seconds)));
            measurements.Add(() => InDirectory(directory => WriteAllBytesBandwidth(Path.Combine(directory, "data.bin"), MemoryMarshal.AsBytes(Data(bytes).AsSpan()).ToArray(), seconds)));
            measurements.Add(() => InDirectory(directory => ReadBandwidth(Saved(directory, bytes), warmupSeconds, seconds)));
        }
        foreach (int bytes in accessSizes)
        {
            measurements.Add(() => InDirectory(directory => ElementAccess(Saved(directory, bytes), bytes, seconds, byGetAt: true)));
            measurements.Add(() => InDirectory(directory => ElementAccess(Saved(directory, bytes), bytes, seconds, byGetAt: false)));
        }
        return measurements;
    }

    private static BenchResult InDirectory(Func<string, BenchResult> measure)
    {
        string directory = Directory.CreateTempSubdirectory("zerolane-bench-array-").FullName;
        try
        {
            return measure(directory);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static float[] Data(int bytes)
    {
        float[] data = new float[bytes / sizeof(float)];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = i % 1000;
        }
        return data;
    }

    /// <summary>A saved array of <paramref name="bytes"/> in <paramref name="directory"/>; its path.</summary>
    private static string Saved(string directory, int bytes)
    {
        float[] data = Data(bytes);
        string path = Path.Combine(directory, "data.npy");
        MappedArray<float>.Save(path, data, [data.Length]);
        return path;
    }

    private static BenchResult OpenTime(string path, long bytes, double seconds)
    {
        MappedArray<byte>.Create(path, [bytes]).Dispose();
        var samples = new List<double>();
        long deadline = Stopwatch.GetTimestamp() + PeerChannel.SecondsToTicks(Math.Min(seconds, 1));
        do
        {
            long started = Stopwatch.GetTimestamp();
            using (MappedArray<byte>.Open(path))
            {
            }
            samples.Add((Stopwatch.GetTimestamp() - started) * 1e9 / Stopwatch.Frequency);
        }
        while (Stopwatch.GetTimestamp() < deadline || samples.Count < 20);
        File.Delete(path);
        samples.Sort();
        double Percentile(double p) => samples[Math.Min(samples.Count - 1, (int)(p * samples.Count))];
        return new BenchResult
        {
            Transport = Transport,
            Mode = Open,
            FrameBytes = bytes,
            FramesPerSec = samples.Count / (samples.Sum() / 1e9),
            P50Ns = Percentile(0.50),
            P99Ns = Percentile(0.99),
            P999Ns = Percentile(0.999),
            MaxNs = samples[^1],
        };
    }

    private static BenchResult SaveBandwidth(string path, float[] data, double seconds) =>
        Repeat(Transport, Save, data.Length * (long)sizeof(float), seconds, () => MappedArray<float>.Save(path, data, [data.Length]));

    private static BenchResult WriteAllBytesBandwidth(string path, byte[] bytes, double seconds) =>
        Repeat(FileTransport, Save, bytes.Length, seconds, () => File.WriteAllBytes(path, bytes));

    private static BenchResult ReadBandwidth(string path, double warmupSeconds, double seconds)
    {
        using MappedArray<float> array = MappedArray<float>.Open(path);
        float checksum = 0;
        BenchResult result = Repeat(Transport, Read, array.Length * sizeof(float), Math.Max(seconds, warmupSeconds), () => checksum += Sum(array));
        GC.KeepAlive(checksum);
        return result;
    }

    /// <summary>
    /// Passes per second summing the array's float elements (16 Mi of them, a 64 MiB "frame", by default) one at a time, by
    /// <c>GetAt</c> or by indexing a span over the same elements of the mapping: the cost of GetAt's checks.
    /// </summary>
    private static BenchResult ElementAccess(string path, int bytes, double seconds, bool byGetAt)
    {
        int count = bytes / sizeof(float);
        using MappedArray<float> array = MappedArray<float>.Open(path);
        float checksum = 0;
        BenchResult result = byGetAt
            ? Repeat(Transport, Get, count * sizeof(float), seconds, () => checksum += SumByGetAt(array, count))
            : Repeat(Transport, SpanIndex, count * sizeof(float), seconds, () => checksum += SumBySpanIndex(array.GetSpan(0, count)));
        GC.KeepAlive(checksum);
        return result;
    }

    // Fully optimised from the first call: each runs long enough that tiering would measure on-stack-replacement code.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static float SumByGetAt(MappedArray<float> array, int count)
    {
        float sum = 0;
        for (long i = 0; i < count; i++)
        {
            sum += array.GetAt(i);
        }
        return sum;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static float SumBySpanIndex(ReadOnlySpan<float> values)
    {
        float sum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            sum += values[i];
        }
        return sum;
    }

    /// <summary>Sums the array through its spans with SIMD: every byte is read once, nothing is copied.</summary>
    private static float Sum(MappedArray<float> array)
    {
        // Four independent accumulators, so the adds' latency does not limit the read rate.
        Vector<float> a = Vector<float>.Zero, b = a, c = a, d = a;
        float tail = 0;
        foreach (ReadOnlyMemory<float> chunk in array.GetChunks())
        {
            ReadOnlySpan<float> span = chunk.Span;
            ReadOnlySpan<Vector<float>> vectors = MemoryMarshal.Cast<float, Vector<float>>(span);
            int i = 0;
            for (; i + 4 <= vectors.Length; i += 4)
            {
                a += vectors[i];
                b += vectors[i + 1];
                c += vectors[i + 2];
                d += vectors[i + 3];
            }
            for (; i < vectors.Length; i++)
            {
                a += vectors[i];
            }
            foreach (float value in span[(vectors.Length * Vector<float>.Count)..])
            {
                tail += value;
            }
        }
        return Vector.Sum(a + b + c + d) + tail;
    }

    private static BenchResult Repeat(string transport, string mode, long bytes, double seconds, Action action)
    {
        action();
        long runs = 0;
        long started = Stopwatch.GetTimestamp();
        long deadline = started + PeerChannel.SecondsToTicks(seconds);
        do
        {
            action();
            runs++;
        }
        while (Stopwatch.GetTimestamp() < deadline);
        double elapsed = (Stopwatch.GetTimestamp() - started) / (double)Stopwatch.Frequency;
        return new BenchResult
        {
            Transport = transport,
            Mode = mode,
            FrameBytes = bytes,
            FramesPerSec = runs / elapsed,
            BytesPerSec = runs * (double)bytes / elapsed,
        };
    }
}
