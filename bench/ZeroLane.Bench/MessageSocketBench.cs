using System.Diagnostics;
using ZeroLane.Messages;
using ZeroLane.Messages.Transport;

namespace ZeroLane.Bench;

/// <summary>
/// Messages over sockets, sender and receiver on two threads of this process (the kernel's copies dominate):
/// a 64 MiB message of 8 parts (each its own array, sent in place with vectored sendmsg) against the same
/// bytes as one contiguous part, over loopback TCP and a Unix socket; and 64-byte messages sent one per call
/// and in batches of 64 per call. With <c>--sizes</c>: each size up to 64 KiB one per call and batched, each
/// larger one as 8 parts and as one.
/// </summary>
/// <remarks>
/// Design: the sender sends for the warm-up, then for the measured window, then waits until the receiver has
/// received every message it sent; throughput is bytes of message content (body and parts, not headers) over
/// the time from the window's start to the last receipt. The receiver touches one byte per part and disposes
/// each message.
/// </remarks>
internal sealed class MessageSocketBench
{
    internal const int LargeMessageBytes = 64 << 20;
    internal const int LargeMessageParts = 8;
    internal const int SmallMessageBytes = 64;
    internal const int Batch = 64;

    /// <summary>Largest size sent one per call and in batches; larger ones are sent as 8 parts and as one.</summary>
    internal const int LargestSmallMessage = 64 << 10;

    /// <summary>One row: over a Unix socket or TCP, messages of <paramref name="Bytes"/> in <paramref name="Parts"/> parts, <paramref name="Batch"/> per send call.</summary>
    internal sealed record Measurement(bool Unix, string Transport, int Bytes, int Parts, int Batch);

    private readonly double _warmupSeconds;
    private readonly double _seconds;

    internal MessageSocketBench(double warmupSeconds, double seconds)
    {
        _warmupSeconds = warmupSeconds;
        _seconds = seconds;
    }

    /// <summary>
    /// The rows for <paramref name="sizes"/> (null: the part's own, 64 MiB and 64 B): sizes up to
    /// <see cref="LargestSmallMessage"/> one per send call (<c>single</c>) and <see cref="Batch"/> per call (<c>batched</c>),
    /// larger ones as <see cref="LargeMessageParts"/> parts (<c>8-parts</c>) and as one (<c>contiguous</c>); TCP first, then Unix.
    /// </summary>
    internal static IReadOnlyList<Measurement> Measurements(IReadOnlyList<int>? sizes)
    {
        IReadOnlyList<int> all = sizes ?? [LargeMessageBytes, SmallMessageBytes];
        var measurements = new List<Measurement>();
        foreach (bool unix in new[] { false, true })
        {
            string kind = unix ? "unix" : "tcp";
            foreach (int size in all)
            {
                if (size > LargestSmallMessage)
                {
                    measurements.Add(new Measurement(unix, $"message-{kind}-8-parts", size, LargeMessageParts, 1));
                    measurements.Add(new Measurement(unix, $"message-{kind}-contiguous", size, 1, 1));
                }
                else
                {
                    measurements.Add(new Measurement(unix, $"message-{kind}-single", size, 1, 1));
                    measurements.Add(new Measurement(unix, $"message-{kind}-batched", size, 1, Batch));
                }
            }
        }
        return measurements;
    }

    internal async Task<BenchResult> MeasureAsync(Measurement measurement, CancellationToken cancellationToken)
    {
        using Message message = CreateMessage(measurement.Bytes, measurement.Parts);
        Message[] unit = Enumerable.Repeat(message, measurement.Batch).ToArray();
        return await MeasureAsync(measurement.Unix, measurement.Transport, unit, _warmupSeconds, _seconds, cancellationToken).ConfigureAwait(false);
    }

    private static Message CreateMessage(int bytes, int parts)
    {
        MessageBuilder builder = Message.CreateBuilder();
        for (int i = 0; i < parts; i++)
        {
            byte[] part = GC.AllocateUninitializedArray<byte>(bytes / parts + (i == parts - 1 ? bytes % parts : 0));
            FrameToucher.FillPattern(part);
            builder.AddPart(part);
        }
        return builder.Build();
    }

    private static async Task<BenchResult> MeasureAsync(bool unix, string transport, Message[] sendUnit, double warmupSeconds, double seconds, CancellationToken cancellationToken)
    {
        string? directory = unix ? Directory.CreateTempSubdirectory("zerolane-bench-msg-").FullName : null;
        try
        {
            using MessageListener listener = unix
                ? MessageListener.ListenUnix(Path.Combine(directory!, "s"))
                : MessageListener.ListenTcp(0);
            ValueTask<MessageConnection> accepting = listener.AcceptAsync(cancellationToken);
            using MessageConnection sender = unix
                ? await MessageConnection.ConnectUnixAsync(Path.Combine(directory!, "s"), cancellationToken: cancellationToken).ConfigureAwait(false)
                : await MessageConnection.ConnectTcpAsync("127.0.0.1", listener.Port, cancellationToken: cancellationToken).ConfigureAwait(false);
            using MessageConnection receiver = await accepting.ConfigureAwait(false);

            long received = 0;
            Task receiving = Task.Run(async () =>
            {
                while ((await receiver.TryReceiveAsync(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false)).Message is { } message)
                {
                    using (message)
                    {
                        foreach (ReadOnlyMemory<byte> part in message.Parts)
                        {
                            if (!part.IsEmpty)
                            {
                                _ = part.Span[0];
                            }
                        }
                        Interlocked.Increment(ref received);
                    }
                }
                // The sender's CloseAsync waits for this side to close in turn.
                await receiver.CloseAsync(cancellationToken).ConfigureAwait(false);
            }, cancellationToken);
            long sent = await SendForAsync(sender, sendUnit, Stopwatch.GetTimestamp() + PeerChannel.SecondsToTicks(warmupSeconds), cancellationToken).ConfigureAwait(false);
            await WaitForAsync(() => Interlocked.Read(ref received) >= sent, receiving, cancellationToken).ConfigureAwait(false);
            long started = Stopwatch.GetTimestamp();
            long measured = await SendForAsync(sender, sendUnit, started + PeerChannel.SecondsToTicks(seconds), cancellationToken).ConfigureAwait(false);
            await WaitForAsync(() => Interlocked.Read(ref received) >= sent + measured, receiving, cancellationToken).ConfigureAwait(false);
            double elapsed = (Stopwatch.GetTimestamp() - started) / (double)Stopwatch.Frequency;
            await sender.CloseAsync(cancellationToken).ConfigureAwait(false);
            await receiving.ConfigureAwait(false);

            long messageBytes = sendUnit[0].Length;
            return new BenchResult
            {
                Transport = transport,
                Mode = BenchResult.Throughput,
                FrameBytes = messageBytes,
                FramesPerSec = measured / elapsed,
                BytesPerSec = measured * (double)messageBytes / elapsed,
            };
        }
        finally
        {
            if (directory is not null)
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    /// <summary>Waits until <paramref name="done"/> holds; a receiver that stopped early rethrows its failure instead of hanging.</summary>
    private static async Task WaitForAsync(Func<bool> done, Task receiving, CancellationToken cancellationToken)
    {
        while (!done())
        {
            if (receiving.IsCompleted)
            {
                await receiving.ConfigureAwait(false);
                throw new InvalidOperationException("The receiver stopped before every message arrived.");
            }
            await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sends the unit (one message, or a batch in one call) until the deadline; returns the messages sent.</summary>
    private static async Task<long> SendForAsync(MessageConnection connection, Message[] unit, long deadline, CancellationToken cancellationToken)
    {
        long messages = 0;
        do
        {
            if (unit.Length == 1)
            {
                await connection.SendAsync(unit[0], cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await connection.SendAsync(unit, cancellationToken).ConfigureAwait(false);
            }
            messages += unit.Length;
        }
        while (Stopwatch.GetTimestamp() < deadline);
        return messages;
    }
}
