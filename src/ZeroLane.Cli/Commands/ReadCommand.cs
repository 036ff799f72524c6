using System.CommandLine;
using System.Diagnostics;
using System.Text;
using ZeroLane.Buffers;
using ZeroLane.Cli.Output;

namespace ZeroLane.Cli.Commands;

/// <summary>
/// <c>zerolane read NAME</c>: creates the buffer as its reader and copies every frame's bytes to standard
/// output (or a file) until the writer leaves or enough frames have arrived.
/// </summary>
internal static class ReadCommand
{
    /// <summary>How often a reader waiting for metadata looks for it.</summary>
    private static readonly TimeSpan s_metadataPollInterval = TimeSpan.FromMilliseconds(100);

    private sealed record Settings(
        string Name, long PayloadSize, long MetadataSize, WaitStrategy Wait, string? OutPath, long? Count, bool PrintMetadata, TimeSpan? Timeout,
        string? LockDirectory);

    internal static Command Create()
    {
        Argument<string> name = CommonOptions.CreateNameArgument();
        Option<long> payloadSize = CommonOptions.CreateSizeOption("--payload-size", "Size of the payload block.", 64L << 20);
        Option<long> metadataSize = CommonOptions.CreateSizeOption("--metadata-size", "Size of the metadata block (0 for none).", 4096);
        Option<string> wait = CommonOptions.CreateWaitOption();
        var output = new Option<string?>("--out", "-o") { Description = "Write the frames to this file instead of standard output.", HelpName = "file" };
        var count = new Option<long?>("--count", "-n") { Description = "Stop after this many frames.", HelpName = "n" };
        var printMetadata = new Option<bool>("--print-metadata") { Description = "Print the writer's metadata to standard error once it is available." };
        var timeout = new Option<double?>("--timeout") { Description = "Give up (exit code 1) when no frame arrives for this many seconds. Default: wait forever.", HelpName = "seconds" };
        Option<string?> lockDirectory = CommonOptions.CreateLockDirectoryOption();
        var command = new Command("read", "Create a buffer as its reader and copy each frame's bytes to standard output.")
        {
            name, payloadSize, metadataSize, wait, output, count, printMetadata, timeout, lockDirectory,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            long? frames = parseResult.GetValue(count);
            double? seconds = parseResult.GetValue(timeout);
            CliErrors.Require(frames is null or >= 1, "--count must be at least 1.");
            CliErrors.Require(seconds is null or (> 0 and < 1e9), "--timeout must be a positive number of seconds.");
            return Task.FromResult(Run(
                new Settings(
                    parseResult.GetValue(name)!,
                    parseResult.GetValue(payloadSize),
                    parseResult.GetValue(metadataSize),
                    CommonOptions.ParseWait(parseResult.GetValue(wait)),
                    parseResult.GetValue(output),
                    frames,
                    parseResult.GetValue(printMetadata),
                    seconds is { } s ? TimeSpan.FromSeconds(s) : null,
                    parseResult.GetValue(lockDirectory)),
                cancellationToken));
        });
        return command;
    }

    private static int Run(Settings settings, CancellationToken cancellationToken)
    {
        var options = new ReaderOptions { PayloadSize = settings.PayloadSize, MetadataSize = settings.MetadataSize, WaitStrategy = settings.Wait };
        if (settings.LockDirectory is not null)
        {
            options = options with { LockDirectory = settings.LockDirectory };
        }
        using var reader = new RingReader(settings.Name, options);
        bool interactive = !Console.IsErrorRedirected;
        if (interactive)
        {
            Console.Error.Write($"Reading buffer '{reader.Name}' ({Units.Bytes(reader.PayloadCapacity)}); waiting for a writer. Ctrl+C to stop.\n");
        }
        using Stream output = settings.OutPath is null
            ? Console.OpenStandardOutput()
            : new FileStream(settings.OutPath, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0);
        bool metadataPending = settings.PrintMetadata;
        long frames = 0;
        long deadline = DeadlineAfter(settings.Timeout);
        int exitCode = 0;
        while (settings.Count is null || frames < settings.Count)
        {
            if (metadataPending && reader.HasMetadata)
            {
                PrintMetadata(reader.GetMetadata());
                metadataPending = false;
            }
            TimeSpan wait = Remaining(deadline);
            if (metadataPending && (wait == Timeout.InfiniteTimeSpan || wait > s_metadataPollInterval))
            {
                wait = s_metadataPollInterval;
            }
            ReadStatus status = reader.TryRead(out Frame frame, wait, cancellationToken);
            if (status == ReadStatus.Success)
            {
                using (frame)
                {
                    if (metadataPending && reader.HasMetadata)
                    {
                        PrintMetadata(reader.GetMetadata());
                        metadataPending = false;
                    }
                    output.Write(frame.Span);
                }
                frames++;
                deadline = DeadlineAfter(settings.Timeout);
                continue;
            }
            if (status == ReadStatus.TimedOut)
            {
                if (Stopwatch.GetTimestamp() >= deadline)
                {
                    throw new TimeoutException($"no frame arrived in buffer '{settings.Name}' within {settings.Timeout!.Value.TotalSeconds:0.###} s.");
                }
                continue;
            }
            if (status == ReadStatus.WriterDied)
            {
                Console.Error.Write($"zerolane: the writer of buffer '{settings.Name}' died without disconnecting; the data may be incomplete.\n");
                exitCode = CliErrors.ExitCode;
            }
            break;
        }
        if (metadataPending && reader.HasMetadata)
        {
            PrintMetadata(reader.GetMetadata());
        }
        output.Flush();
        if (interactive)
        {
            Console.Error.Write($"Read {Units.Count(frames)} frames, {Units.Count(reader.BytesRead)} bytes.\n");
        }
        return exitCode;
    }

    private static long DeadlineAfter(TimeSpan? timeout) =>
        timeout is { } t ? Stopwatch.GetTimestamp() + (long)(t.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;

    private static TimeSpan Remaining(long deadline)
    {
        if (deadline == long.MaxValue)
        {
            return Timeout.InfiniteTimeSpan;
        }
        long ticks = deadline - Stopwatch.GetTimestamp();
        return ticks <= 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(0, ticks);
    }

    /// <summary>Metadata as text when it is printable UTF-8, otherwise as hex.</summary>
    private static void PrintMetadata(ReadOnlySpan<byte> metadata)
    {
        string shown;
        try
        {
            string text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(metadata);
            shown = text.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t'))
                ? $"metadata ({metadata.Length} bytes, hex): {Convert.ToHexString(metadata)}"
                : $"metadata ({metadata.Length} bytes): {text}";
        }
        catch (DecoderFallbackException)
        {
            shown = $"metadata ({metadata.Length} bytes, hex): {Convert.ToHexString(metadata)}";
        }
        Console.Error.Write(shown + "\n");
    }
}
