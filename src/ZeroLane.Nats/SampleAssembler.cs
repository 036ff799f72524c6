using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;

namespace ZeroLane.Nats;

/// <summary>What became of one NATS message handed to a <see cref="SampleAssembler"/>.</summary>
internal enum AssemblyOutcome
{
    /// <summary>A sample was published whole (this message completed it).</summary>
    Delivered,

    /// <summary>A chunk was written; the sample waits for the next one.</summary>
    Pending,

    /// <summary>Nothing was published: a duplicate, a chunk of a sample already given up, or no room (see the counts).</summary>
    Dropped,

    /// <summary>The message was not a valid sample (see the error).</summary>
    Rejected,
}

/// <summary>
/// Rebuilds the samples (or ring frames) of one origin (one publisher behind one gateway) from NATS messages and
/// publishes each, written once and whole, into a local <see cref="IFrameSink"/> (PROTOCOL.md 16.2-16.3): a whole
/// message straight into a loan, a chunked one chunk by chunk into the same loan, committed with the last chunk. A chunk
/// missing, out of order or from a sample given up abandons the loan: a sample is delivered whole or not at all. Gaps in
/// the origin's sequence numbers are counted as lost. Not thread-safe: one caller at a time (NATS.Net's read loop).
/// </summary>
internal sealed class SampleAssembler
{
    private readonly IFrameSink _sink;
    private readonly long _maxSampleLength;
    private readonly TimeSpan _loanTimeout;
    private FrameLoan _loan;
    private bool _open;
    private ulong _sequence;
    private int _nextChunk;
    private int _chunkCount;
    private int _sampleLength;
    private int _written;
    private long _timestamp;

    internal SampleAssembler(IFrameSink sink, long maxSampleLength, TimeSpan loanTimeout)
    {
        _sink = sink;
        _maxSampleLength = maxSampleLength;
        _loanTimeout = loanTimeout;
    }

    /// <summary>Called with the origin's timestamp just before a sample is committed (a gateway's publisher carries it on).</summary>
    internal Action<long>? BeforeCommit { get; init; }

    /// <summary>Sequence number of the newest sample begun (0 before the first).</summary>
    internal ulong LastSequence { get; private set; }

    /// <summary>Samples of the origin that were not delivered: sequence gaps, samples torn by a lost chunk, and those with no room.</summary>
    internal long Lost { get; private set; }

    /// <summary>Of <see cref="Lost"/>, samples dropped here because the local sink had no room within the loan timeout.</summary>
    internal long NoRoom { get; private set; }

    /// <summary>Messages of a sample older than one already begun (a duplicate or a reordering): ignored.</summary>
    internal long Stale { get; private set; }

    /// <summary>When a message of this origin last came (Environment.TickCount64).</summary>
    internal long LastActivity { get; private set; } = Environment.TickCount64;

    /// <summary>True while a chunked sample is half written.</summary>
    internal bool Assembling => _open;

    /// <summary>Takes one NATS message of this origin: a whole sample or one chunk.</summary>
    internal AssemblyOutcome Accept(in NatsSampleHeader header, in ReadOnlySequence<byte> payload, out string? error)
    {
        error = null;
        LastActivity = Environment.TickCount64;
        if (header.Chunked && header.ChunkIndex > 0)
        {
            return Continue(header, payload, out error);
        }
        if (_open)
        {
            // A new sample began before the last chunk of the one being written: that one is torn, never delivered.
            GiveUp();
        }
        if (LastSequence != 0 && header.Sequence <= LastSequence)
        {
            Stale++;
            return AssemblyOutcome.Dropped;
        }
        if (LastSequence != 0 && header.Sequence > LastSequence + 1)
        {
            Lost += (long)(header.Sequence - LastSequence - 1);
        }
        LastSequence = header.Sequence;
        if (!TryMeasure(header, out int headerLength, out int sampleLength, out error) ||
            payload.Length > header.Length ||
            (!header.Chunked && payload.Length != header.Length))
        {
            error ??= $"{payload.Length} payload bytes where the headers say {header.Length}";
            Lost++;
            return AssemblyOutcome.Rejected;
        }
        WriteStatus status;
        try
        {
            status = _sink.TryLoan(sampleLength, out _loan, _loanTimeout);
        }
        catch
        {
            // The sink failed (e.g. it could not grow): this sample is lost, and said so.
            Lost++;
            throw;
        }
        if (status != WriteStatus.Success)
        {
            Lost++;
            NoRoom++;
            return AssemblyOutcome.Dropped;
        }
        Span<byte> target = _loan.Span;
        if (headerLength > 0)
        {
            WriteMessageHeader(target, header.Parts, sampleLength);
        }
        payload.CopyTo(target[headerLength..]);
        _open = true;
        _sequence = header.Sequence;
        _sampleLength = sampleLength;
        _written = headerLength + (int)payload.Length;
        _timestamp = header.Timestamp;
        _nextChunk = 1;
        _chunkCount = header.Chunked ? header.ChunkCount : 1;
        return _chunkCount == 1 ? Complete() : AssemblyOutcome.Pending;
    }

    /// <summary>Gives up a half-written sample (its origin went quiet or away): counted lost.</summary>
    internal void GiveUp()
    {
        if (_open)
        {
            _open = false;
            _loan.Abandon();
            Lost++;
        }
    }

    private AssemblyOutcome Continue(in NatsSampleHeader header, in ReadOnlySequence<byte> payload, out string? error)
    {
        error = null;
        if (!_open || header.Sequence != _sequence)
        {
            // A chunk of a sample given up, never begun (its first chunk was lost: the gap is counted when the next sample
            // comes), or older than the one being written.
            if (_open && header.Sequence > _sequence)
            {
                GiveUp();
                Lost += (long)(header.Sequence - LastSequence);
                LastSequence = header.Sequence;
            }
            return AssemblyOutcome.Dropped;
        }
        if (header.ChunkIndex != _nextChunk || header.ChunkCount != _chunkCount || payload.Length > _sampleLength - _written)
        {
            GiveUp();
            if (header.ChunkIndex == _nextChunk)
            {
                error = $"chunk {header.ChunkIndex} of {header.ChunkCount} brings more bytes than the sample's {_sampleLength}";
                return AssemblyOutcome.Rejected;
            }
            return AssemblyOutcome.Dropped;
        }
        payload.CopyTo(_loan.Span[_written..]);
        _written += (int)payload.Length;
        _nextChunk++;
        return _nextChunk == _chunkCount ? Complete() : AssemblyOutcome.Pending;
    }

    private AssemblyOutcome Complete()
    {
        _open = false;
        if (_written != _sampleLength)
        {
            _loan.Abandon();
            Lost++;
            return AssemblyOutcome.Dropped;
        }
        try
        {
            BeforeCommit?.Invoke(_timestamp);
            _loan.Commit(_sampleLength);
        }
        catch
        {
            _loan.Abandon();
            Lost++;
            throw;
        }
        return AssemblyOutcome.Delivered;
    }

    /// <summary>The bytes the local sample takes: the payload, plus the message encoding's header when the payload is a message's body and parts.</summary>
    private bool TryMeasure(in NatsSampleHeader header, out int headerLength, out int sampleLength, out string? error)
    {
        headerLength = 0;
        sampleLength = 0;
        error = null;
        if (!header.Parts.IsEmpty)
        {
            int parts = header.Parts.Count((byte)',');
            if (parts > NatsWire.MaxParts)
            {
                error = $"{parts} parts (at most {NatsWire.MaxParts})";
                return false;
            }
            headerLength = NatsWire.MessageFixedHeader + 8 * parts;
        }
        long total = headerLength + header.Length;
        if (total <= 0 || total > _maxSampleLength)
        {
            error = total <= 0 ? "an empty sample" : $"a sample of {total} bytes (this gateway takes at most {_maxSampleLength})";
            return false;
        }
        if (headerLength > 0 && !PartsAddUp(header.Parts, header.Length))
        {
            error = $"parts '{System.Text.Encoding.ASCII.GetString(header.Parts)}' that do not add up to the {header.Length} payload bytes";
            return false;
        }
        sampleLength = (int)total;
        return true;
    }

    private static bool PartsAddUp(ReadOnlySpan<byte> parts, long payloadLength)
    {
        long sum = 0;
        foreach (Range range in parts.Split((byte)','))
        {
            if (!Utf8Parser.TryParse(parts[range], out ulong length, out int used) || used != parts[range].Length || used == 0)
            {
                return false;
            }
            sum += (long)Math.Min(length, (ulong)int.MaxValue);
            if (sum > payloadLength)
            {
                return false;
            }
        }
        return sum == payloadLength;
    }

    /// <summary>Writes the section-7 encoding's header (prefix, part count, flags 0, body and part lengths) in front of the body.</summary>
    private static void WriteMessageHeader(Span<byte> target, ReadOnlySpan<byte> parts, int sampleLength)
    {
        int count = parts.Count((byte)',');
        BinaryPrimitives.WriteUInt64BigEndian(target, (ulong)(sampleLength - 8));
        BinaryPrimitives.WriteUInt32BigEndian(target[8..], (uint)count);
        BinaryPrimitives.WriteUInt32BigEndian(target[12..], 0);
        int index = 0;
        foreach (Range range in parts.Split((byte)','))
        {
            Utf8Parser.TryParse(parts[range], out ulong length, out _);
            BinaryPrimitives.WriteUInt64BigEndian(target[(16 + 8 * index)..], length);
            index++;
        }
    }
}
