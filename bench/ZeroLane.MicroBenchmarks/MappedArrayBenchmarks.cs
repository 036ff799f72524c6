using BenchmarkDotNet.Attributes;
using ZeroLane.Arrays;

namespace ZeroLane.MicroBenchmarks;

/// <summary>
/// Summing the 1,048,576 floats of a mapped .npy file: element by element through
/// <see cref="MappedArray{T}.GetAt"/> (bounds, disposed and fault-guard checks on every element) against a
/// <see cref="ReadOnlySpan{T}"/> of the whole array from <see cref="MappedArray{T}.GetSpan"/>. One sequential
/// add chain in both, so the difference is the cost of the checks. Divide by 1,048,576 for ns per element.
/// </summary>
[MemoryDiagnoser]
public class MappedArrayBenchmarks
{
    private const int Elements = 1 << 20;

    private string _path = null!;
    private MappedArray<float> _array = null!;

    [GlobalSetup]
    public void Setup()
    {
        var data = new float[Elements];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = i % 100 * 0.5f;
        }
        _path = Path.Combine(Path.GetTempPath(), $"zerolane-microbench-{Environment.ProcessId}.npy");
        MappedArray<float>.Save(_path, data, [Elements]);
        _array = MappedArray<float>.Open(_path);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _array.Dispose();
        File.Delete(_path);
    }

    /// <summary>Indexing a span of the whole array.</summary>
    [Benchmark(Baseline = true)]
    public float SumSpan()
    {
        ReadOnlySpan<float> values = _array.GetSpan(0, Elements);
        float sum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            sum += values[i];
        }
        return sum;
    }

    /// <summary><see cref="MappedArray{T}.GetAt"/> for every element.</summary>
    [Benchmark]
    public float SumGetAt()
    {
        float sum = 0;
        for (long i = 0; i < Elements; i++)
        {
            sum += _array.GetAt(i);
        }
        return sum;
    }
}
