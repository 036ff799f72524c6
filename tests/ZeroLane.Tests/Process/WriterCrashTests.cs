using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using Xunit;
using Xunit.Abstractions;

namespace ZeroLane.Tests.CrossProcess;

/// <summary>
/// Writers killed with SIGKILL at random moments, twenty times in a row, while streaming frames of 1 B to
/// 200 KiB through a 1 MiB ring: the reader only ever receives whole, correct frames, and the ring keeps working.
/// </summary>
/// <remarks>
/// A writer publishes a frame by incrementing written_count after its bytes are in place, so a kill in the
/// middle of a frame (copy or loan) must never deliver a torn frame. Every frame is checked against
/// <see cref="FramePattern"/> (content derived from sequence and length, plus embedded sequence and checksum).
/// </remarks>
public sealed class WriterCrashTests(ITestOutputHelper output) : PeerTest
{
    private const int Crashes = 20;
    private const int MaxFrameLength = 200 << 10;
    private const int FinalFrames = 100;
    private const int FinalFrameLength = 777;

    [Fact]
    public async Task EveryFrameDeliveredAcrossTwentyWriterKillsIsIntactAndTheRingKeepsWorking()
    {
        TestSeed seed = TestSeed.For(output);
        Random random = seed.NewRandom();
        string name = NewName("crash");
        using var reader = new RingReader(name, new ReaderOptions
        {
            MetadataSize = 0,
            PayloadSize = 1 << 20,
            PeerCheckInterval = TimeSpan.FromMilliseconds(100),
        });
        var log = new ReadLog();
        using var stopReading = new CancellationTokenSource();
        Task reading = Task.Factory.StartNew(() => log.ReadUntilCancelled(reader, stopReading.Token), TaskCreationOptions.LongRunning);
        try
        {
            for (int crash = 1; crash <= Crashes; crash++)
            {
                // Alternate copying writes and in-place loans, so kills land in both kinds of frame filling.
                string[] options = ["--max-size", MaxFrameLength.ToString(), "--forever"];
                using PeerProcess writer = StartConnectedWriter(name, crash % 2 == 0 ? [.. options, "--loan"] : options);
                Thread.Sleep(random.Next(5, 201));
                writer.Kill();
            }

            PeerProcess last = StartConnectedWriter(name, "--size", FinalFrameLength.ToString(), "--count", FinalFrames.ToString());
            last.WaitForLine(PeerOutput.Bye);
            Assert.True(last.WaitForExit(HangGuard), last.Describe());
            // Every frame published is released (the reader releases each once it has checked it).
            Assert.True(
                SpinWait.SpinUntil(() => reader.GetStats() is var stats && stats.FramesRead == stats.FramesWritten, HangGuard),
                $"the reader did not drain the ring ({seed}); {log.Summary()}");
        }
        finally
        {
            stopReading.Cancel();
            await reading.WaitAsync(HangGuard);
        }

        output.WriteLine($"{seed}: {log.Summary()}");
        Assert.True(log.Errors.Count == 0, $"the reader threw ({seed}): {string.Join(" | ", log.Errors)}");
        Assert.True(log.BadFrames.Count == 0, $"torn or wrong frames were delivered ({seed}): {string.Join(" | ", log.BadFrames.Take(5))}");
        List<List<ReadLog.Entry>> runs = log.SplitIntoRuns(out List<string> gaps);
        Assert.True(gaps.Count == 0, $"sequence numbers jumped within a writer's run ({seed}): {string.Join(" | ", gaps.Take(5))}");
        Assert.InRange(runs.Count, 2, Crashes + 1);
        List<ReadLog.Entry> final = runs[^1];
        Assert.Equal(
            Enumerable.Range(1, FinalFrames).Select(i => new ReadLog.Entry((ulong)i, FinalFrameLength, null)),
            final);
        BufferStats end = reader.GetStats();
        Assert.Equal(end.PayloadCapacity, end.FreeBytes);
    }

    /// <summary>What a reader thread saw: every frame (checked), every status other than success, every exception.</summary>
    private sealed class ReadLog
    {
        private readonly List<Entry> _frames = new();
        private readonly List<ReadStatus> _endings = new();

        internal List<string> Errors { get; } = new();

        internal List<Entry> BadFrames => _frames.Where(entry => entry.Problem is not null).ToList();

        internal void ReadUntilCancelled(RingReader reader, CancellationToken cancellationToken)
        {
            while (true)
            {
                ReadStatus status;
                Frame frame;
                try
                {
                    status = reader.TryRead(out frame, Timeout.InfiniteTimeSpan, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (Exception e)
                {
                    lock (_frames)
                    {
                        Errors.Add(e.ToString());
                    }
                    return;
                }
                if (status != ReadStatus.Success)
                {
                    lock (_frames)
                    {
                        _endings.Add(status);
                    }
                    continue;
                }
                using (frame)
                {
                    var entry = new Entry(frame.Sequence, frame.Length, FramePattern.Verify(frame.Span, frame.Sequence));
                    lock (_frames)
                    {
                        _frames.Add(entry);
                    }
                }
            }
        }

        /// <summary>Splits the frames where the sequence starts over at 1 (a new writer); lists any other jump.</summary>
        internal List<List<Entry>> SplitIntoRuns(out List<string> gaps)
        {
            var runs = new List<List<Entry>>();
            gaps = new List<string>();
            for (int i = 0; i < _frames.Count; i++)
            {
                Entry entry = _frames[i];
                if (entry.Sequence == 1)
                {
                    runs.Add(new List<Entry>());
                }
                else if (runs.Count == 0 || entry.Sequence != runs[^1][^1].Sequence + 1)
                {
                    gaps.Add($"frame {i}: sequence {entry.Sequence} after {(runs.Count == 0 ? "nothing" : runs[^1][^1].Sequence)}");
                    runs.Add(new List<Entry>());
                }
                runs[^1].Add(entry);
            }
            return runs;
        }

        /// <summary>Counts of frames, bytes, runs and endings; safe to call while the reader thread runs.</summary>
        internal string Summary()
        {
            lock (_frames)
            {
                return $"{_frames.Count} frames ({_frames.Sum(entry => (long)entry.Length)} bytes) in {SplitIntoRuns(out _).Count} runs; " +
                    $"endings: {string.Join(", ", _endings.GroupBy(status => status).Select(group => $"{group.Key} x{group.Count()}"))}";
            }
        }

        internal sealed record Entry(ulong Sequence, int Length, string? Problem);
    }
}
