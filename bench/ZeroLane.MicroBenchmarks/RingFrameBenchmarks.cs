using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using ZeroLane.Buffers;

namespace ZeroLane.MicroBenchmarks;

/// <summary>
/// The ring's own cost per frame, with no second process and no waiting: one thread writes a frame and
/// reads and releases it again on one buffer. <see cref="CopyTo"/> is the baseline: the copy a copy-in write
/// cannot avoid. Reading touches one word per 4 KiB page plus the last word, as <c>zerolane bench</c> does.
/// </summary>
[MemoryDiagnoser]
public class RingFrameBenchmarks
{
    private RingReader _reader = null!;
    private RingWriter _writer = null!;
    private byte[] _source = null!;
    private byte[] _destination = null!;

    /// <summary>Frame size in bytes.</summary>
    [Params(64, 64 * 1024, 1024 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        string name = $"zlbench-bdn-{Environment.ProcessId}-{Size}";
        _reader = new RingReader(name, new ReaderOptions { PayloadSize = Math.Max(4L * Size + 64 * 1024, 1 << 20) });
        _writer = new RingWriter(name);
        _source = new byte[Size];
        _destination = new byte[Size];
        _source.AsSpan().Fill(0x5A);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _writer.Dispose();
        _reader.Dispose();
    }

    /// <summary>The copy a copy-in write has to make: <see cref="Span{T}.CopyTo(Span{T})"/> of the frame.</summary>
    [Benchmark(Baseline = true)]
    public int CopyTo()
    {
        _source.AsSpan().CopyTo(_destination);
        return _destination[^1];
    }

    /// <summary>Write (copy in) + read in place + touch + release.</summary>
    [Benchmark]
    public ulong WriteReadRelease()
    {
        _writer.Write(_source);
        using Frame frame = _reader.Read();
        return Touch(frame.Span);
    }

    /// <summary>Loan + write one byte in place + commit + read in place + touch + release: no copy at all.</summary>
    [Benchmark]
    public ulong LoanCommitRead()
    {
        FrameLoan loan = _writer.Loan(Size);
        loan.Span[0] = 1;
        loan.Commit(Size);
        using Frame frame = _reader.Read();
        return Touch(frame.Span);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Touch(ReadOnlySpan<byte> frame)
    {
        ref byte start = ref MemoryMarshal.GetReference(frame);
        int lastWord = frame.Length - sizeof(ulong);
        ulong sum = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, lastWord));
        for (int offset = 0; offset < lastWord; offset += 4096)
        {
            sum += Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, offset));
        }
        return sum;
    }
}
