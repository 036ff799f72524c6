using System.CommandLine;
using System.Text;
using ZeroLane.Buffers;
using ZeroLane.Cli.Output;

namespace ZeroLane.Cli.Commands;

/// <summary>
/// <c>zerolane write NAME</c>: connects to a buffer as its writer and sends standard input (or a file) as
/// frames of a fixed size, each read straight into loaned buffer space.
/// </summary>
internal static class WriteCommand
{
    private sealed record Settings(string Name, string? InPath, long FrameSize, string? Metadata, WaitStrategy Wait, TimeSpan ConnectTimeout);

    internal static Command Create()
    {
        Argument<string> name = CommonOptions.CreateNameArgument();
        var input = new Option<string?>("--in", "-i") { Description = "Read this file instead of standard input.", HelpName = "file" };
        Option<long> frameSize = CommonOptions.CreateSizeOption("--frame-size", "Bytes per frame (the last frame may be shorter).", 1L << 20);
        var metadata = new Option<string?>("--metadata", "-m") { Description = "Write this metadata first: TEXT, or @FILE for a file's bytes.", HelpName = "text|@file" };
        Option<string> wait = CommonOptions.CreateWaitOption();
        Option<double> connectTimeout = CommonOptions.CreateConnectTimeoutOption("connect, while no reader has created the buffer", 0);
        var command = new Command("write", "Connect to a buffer as its writer and send standard input as frames.")
        {
            name, input, frameSize, metadata, wait, connectTimeout,
        };
        command.SetAction((parseResult, cancellationToken) => Task.FromResult(Run(
            new Settings(
                parseResult.GetValue(name)!,
                parseResult.GetValue(input),
                parseResult.GetValue(frameSize),
                parseResult.GetValue(metadata),
                CommonOptions.ParseWait(parseResult.GetValue(wait)),
                CommonOptions.ParseConnectTimeout(parseResult.GetValue(connectTimeout))),
            cancellationToken)));
        return command;
    }

    /// <summary>How long to go on trying once the buffer's figures are there (its reader may still be finishing it).</summary>
    private static readonly TimeSpan s_connectAfterStats = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The buffer's figures, waiting up to the connect timeout for a reader to create it; null if it did not appear (the
    /// connect that follows then says so).
    /// </summary>
    private static BufferStats? WaitForStats(Settings settings, CancellationToken cancellationToken)
    {
        long deadline = Environment.TickCount64 + (long)settings.ConnectTimeout.TotalMilliseconds;
        bool told = false;
        while (true)
        {
            if (BufferInspector.TryGetStats(settings.Name, out BufferStats? stats))
            {
                return stats;
            }
            if (Environment.TickCount64 >= deadline)
            {
                return null;
            }
            if (!told && !Console.IsErrorRedirected)
            {
                Console.Error.Write($"Waiting for a reader to create buffer '{settings.Name}'...\n");
                told = true;
            }
            if (cancellationToken.WaitHandle.WaitOne(s_statsPollInterval))
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }

    private static readonly TimeSpan s_statsPollInterval = TimeSpan.FromMilliseconds(50);

    private static int Run(Settings settings, CancellationToken cancellationToken)
    {
        CliErrors.Require(settings.FrameSize is >= 1 and <= int.MaxValue, $"--frame-size must be between 1 and {int.MaxValue} bytes.");
        // Open the input first: a missing file should not connect (and disconnect) a writer.
        using Stream input = settings.InPath is null ? Console.OpenStandardInput() : File.OpenRead(settings.InPath);
        byte[]? metadata = settings.Metadata is null ? null : LoadMetadata(settings.Metadata);
        int frameSize = (int)settings.FrameSize;
        // Check against the buffer's figures before connecting: a writer that connects and leaves ends the reader's session.
        BufferStats? stats = WaitForStats(settings, cancellationToken);
        if (stats is not null)
        {
            long maxFrameLength = Math.Min(int.MaxValue, stats.PayloadCapacity - 16);
            CliErrors.Require(frameSize <= maxFrameLength,
                $"--frame-size {frameSize} does not fit buffer '{settings.Name}': its {Units.Bytes(stats.PayloadCapacity)} payload block takes frames of at most {maxFrameLength} bytes.");
            CliErrors.Require(metadata is null || stats.MetadataCapacity > 8,
                $"buffer '{settings.Name}' has no room for metadata (its metadata block is {stats.MetadataCapacity} bytes).");
            CliErrors.Require(metadata is null || (metadata.Length > 0 && metadata.Length <= stats.MetadataCapacity - 8),
                $"the metadata must be 1 to {stats.MetadataCapacity - 8} bytes for buffer '{settings.Name}'; it is {metadata?.Length}.");
        }
        var options = new WriterOptions { WaitStrategy = settings.Wait };
        // No buffer: the constructor says so (start the reader first). A buffer: its reader may still be finishing it.
        using RingWriter writer = stats is null
            ? new RingWriter(settings.Name, options)
            : RingWriter.Connect(settings.Name, s_connectAfterStats, options, cancellationToken);
        if (metadata is not null)
        {
            writer.SetMetadata(metadata);
        }
        while (true)
        {
            // Read the next frame's first byte before reserving space for it: at the end of the input nothing is
            // reserved, so a reader that leaves right after the last frame is no error.
            int first = input.ReadByte();
            if (first < 0)
            {
                break;
            }
            FrameLoan loan = writer.Loan(frameSize, cancellationToken);
            try
            {
                loan.Span[0] = (byte)first;
                int filled = 1 + Fill(input, loan.Span[1..]);
                loan.Commit(filled);
                if (filled < frameSize)
                {
                    // Fill stops short only at the end of the input.
                    break;
                }
            }
            finally
            {
                loan.Dispose();
            }
        }
        if (!Console.IsErrorRedirected)
        {
            Console.Error.Write($"Wrote {Units.Count(writer.FramesWritten)} frames, {Units.Count(writer.BytesWritten)} bytes.\n");
        }
        return 0;
    }

    /// <summary>Reads until <paramref name="destination"/> is full or the input ends; returns the bytes read.</summary>
    private static int Fill(Stream input, Span<byte> destination)
    {
        int filled = 0;
        while (filled < destination.Length)
        {
            int read = input.Read(destination[filled..]);
            if (read == 0)
            {
                break;
            }
            filled += read;
        }
        return filled;
    }

    private static byte[] LoadMetadata(string value)
    {
        if (!value.StartsWith('@'))
        {
            return Encoding.UTF8.GetBytes(value);
        }
        CliErrors.Require(value.Length > 1, "--metadata @ needs the file's name after the '@' (--metadata @FILE).");
        return File.ReadAllBytes(value[1..]);
    }
}
