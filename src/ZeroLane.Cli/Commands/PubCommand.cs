using System.Buffers.Binary;
using System.CommandLine;
using System.Diagnostics;
using ZeroLane.Cli.Demo;
using ZeroLane.Cli.Output;
using ZeroLane.Topics;

namespace ZeroLane.Cli.Commands;

/// <summary>
/// <c>zerolane pub TOPIC</c>: publishes samples on a topic: each line of standard input (with its newline), standard input
/// or a file cut into <c>--size</c> chunks, a whole file as one sample, or synthetic samples at <c>--rate</c>.
/// </summary>
/// <remarks>
/// Design: one buffer, sized to the largest sample, is filled from the input and published with a copy into a slot, so
/// the loop allocates nothing per sample. Synthetic samples are filled in place in a loaned slot. The publisher leaves
/// when the input ends (subscribers read what is queued, then see it gone).
/// </remarks>
internal static class PubCommand
{
    private const int DefaultSyntheticSize = 64;

    private sealed record Settings(
        string Topic, string? InPath, long? ChunkSize, double? Rate, long? Count, int Subscribers, long? MaxSampleSize,
        int Slots, int QueueDepth, int History, TimeSpan AcknowledgeTimeout, WaitStrategy Wait);

    internal static Command Create()
    {
        var topic = new Argument<string>("topic") { Description = "The topic's name: 1 to 200 letters, digits, '.', '_' or '-', not starting with '.'." };
        var input = new Option<string?>("--in", "-i") { Description = "Publish this file: whole as one sample, or in --size chunks.", HelpName = "file" };
        Option<long?> size = CommonOptions.CreateOptionalSizeOption("--size",
            "Cut the input (stdin or --in) into samples of this many bytes (the last may be shorter) instead of lines; with --rate, the synthetic samples' size (default 64).");
        var rate = new Option<double?>("--rate") { Description = "Publish synthetic samples (no input) at this many per second; 0 = as fast as possible.", HelpName = "hz" };
        var count = new Option<long?>("--count", "-n") { Description = "Stop after this many samples.", HelpName = "n" };
        var subscribers = new Option<int>("--subscribers") { Description = "Wait until this many subscribers have joined before publishing.", HelpName = "n" };
        Option<long?> maxSample = CommonOptions.CreateOptionalSizeOption("--max-sample-size",
            "Largest sample (slot size). Default: the --size, the --in file's size, or 1M for lines.");
        var slots = new Option<int>("--slots") { Description = "Samples that can exist at once (queued or held by subscribers).", DefaultValueFactory = _ => 8, HelpName = "n" };
        var depth = new Option<int>("--queue-depth") { Description = "Samples queued per subscriber before its oldest is dropped (or, for a blocking subscriber, the publisher waits).", DefaultValueFactory = _ => 4, HelpName = "n" };
        var history = new Option<int>("--history") { Description = "Samples kept for subscribers that join later (0 to 26).", HelpName = "n" };
        var ackTimeout = new Option<double>("--ack-timeout") { Description = "How long a write waits for subscribers to free a slot or (blocking subscribers) take a sample.", DefaultValueFactory = _ => 1, HelpName = "seconds" };
        Option<string> wait = CommonOptions.CreateWaitOption();
        var command = new Command("pub", "Publish samples on a topic: stdin lines (default), stdin or a file in --size chunks, a whole file, or synthetic samples at --rate.")
        {
            topic, input, size, rate, count, subscribers, maxSample, slots, depth, history, ackTimeout, wait,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            long? chunk = parseResult.GetValue(size);
            double? hz = parseResult.GetValue(rate);
            long? samples = parseResult.GetValue(count);
            double ack = parseResult.GetValue(ackTimeout);
            int waitFor = parseResult.GetValue(subscribers);
            string? file = parseResult.GetValue(input);
            CliErrors.Require(chunk is null or (>= 1 and <= int.MaxValue / 2), "--size must be from 1 byte to 1 GiB.");
            CliErrors.Require(hz is null or (>= 0 and <= 1e9), "--rate must be 0 (as fast as possible) or a positive number of samples per second.");
            CliErrors.Require(hz is null || file is null, "--rate publishes synthetic samples; it cannot be combined with --in.");
            CliErrors.Require(samples is null or >= 1, "--count must be at least 1.");
            CliErrors.Require(waitFor is >= 0 and <= 63, "--subscribers must be from 0 to 63.");
            CliErrors.Require(ack is >= 0 and <= 86_400, "--ack-timeout must be from 0 to 86400 seconds.");
            return Task.FromResult(Run(
                new Settings(parseResult.GetValue(topic)!, file, chunk, hz, samples, waitFor, parseResult.GetValue(maxSample),
                    parseResult.GetValue(slots), parseResult.GetValue(depth), parseResult.GetValue(history), TimeSpan.FromSeconds(ack),
                    CommonOptions.ParseWait(parseResult.GetValue(wait))),
                cancellationToken));
        });
        return command;
    }

    private static int Run(Settings settings, CancellationToken cancellationToken)
    {
        Stream? input = null;
        long maxSample;
        if (settings.Rate is not null)
        {
            maxSample = settings.MaxSampleSize ?? settings.ChunkSize ?? DefaultSyntheticSize;
        }
        else if (settings.InPath is not null)
        {
            input = OpenInput(settings.InPath);
            long length = input.Length;
            CliErrors.Require(length > 0 || settings.ChunkSize is not null, $"'{settings.InPath}' is empty: a sample holds at least one byte.");
            CliErrors.Require(settings.ChunkSize is not null || length <= int.MaxValue / 2,
                $"'{settings.InPath}' has {length} bytes, more than one sample can hold (1 GiB): publish it in chunks with --size.");
            maxSample = settings.MaxSampleSize ?? settings.ChunkSize ?? length;
        }
        else
        {
            input = Console.OpenStandardInput();
            maxSample = settings.MaxSampleSize ?? settings.ChunkSize ?? 1 << 20;
        }
        using (input)
        {
            long needed = settings.ChunkSize ?? (settings.Rate is not null ? DefaultSyntheticSize : settings.InPath is not null ? input!.Length : 1);
            CliErrors.Require(maxSample >= needed && maxSample <= int.MaxValue / 2,
                $"--max-sample-size must be at least {needed} bytes (the samples' size) and at most 1 GiB.");
            using var publisher = new Publisher(settings.Topic, new PublisherOptions
            {
                MaxSampleSize = (int)maxSample,
                Slots = settings.Slots,
                QueueDepth = settings.QueueDepth,
                History = settings.History,
                AcknowledgeTimeout = settings.AcknowledgeTimeout,
                WaitStrategy = settings.Wait,
            });
            bool interactive = !Console.IsErrorRedirected;
            if (interactive)
            {
                Console.Error.Write($"Publishing on topic '{publisher.Topic}' as publisher {publisher.Id:x16} (samples up to {Units.Bytes(publisher.MaxSampleSize)}). Ctrl+C to stop.\n");
            }
            WaitForSubscribers(publisher, settings.Subscribers, cancellationToken);
            long published = settings.Rate is { } rate
                ? PublishSynthetic(publisher, (int)(settings.ChunkSize ?? DefaultSyntheticSize), rate, settings.Count, cancellationToken)
                : settings.ChunkSize is { } chunk ? PublishChunks(publisher, input!, (int)chunk, settings.Count, cancellationToken)
                : settings.InPath is not null ? PublishWhole(publisher, input!, cancellationToken)
                : PublishLines(publisher, input!, settings.Count, cancellationToken);
            if (interactive)
            {
                Console.Error.Write($"Published {Units.Count(published)} samples; {Units.Count(publisher.SamplesDropped)} dropped from subscribers' queues.\n");
            }
        }
        return 0;
    }

    private static FileStream OpenInput(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        }
        catch (FileNotFoundException)
        {
            throw new CommandException($"no file '{path}': give an existing file to --in.");
        }
        catch (DirectoryNotFoundException)
        {
            throw new CommandException($"no file '{path}': give an existing file to --in.");
        }
    }

    private static void WaitForSubscribers(Publisher publisher, int subscribers, CancellationToken cancellationToken)
    {
        if (subscribers > 0 && !Console.IsErrorRedirected)
        {
            Console.Error.Write($"Waiting for {subscribers} subscriber(s) to join.\n");
        }
        while (publisher.SubscriberCount < subscribers)
        {
            cancellationToken.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(5));
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Each line, with its newline, is one sample (the last line may have none), so subscribers can write them back to back.</summary>
    private static long PublishLines(Publisher publisher, Stream input, long? count, CancellationToken cancellationToken)
    {
        byte[] line = new byte[publisher.MaxSampleSize];
        byte[] chunk = new byte[64 * 1024];
        int lineLength = 0;
        long published = 0;
        long lineNumber = 1;
        int read;
        while ((count is null || published < count) && (read = input.Read(chunk)) > 0)
        {
            ReadOnlySpan<byte> data = chunk.AsSpan(0, read);
            while (data.Length > 0 && (count is null || published < count))
            {
                int newline = data.IndexOf((byte)'\n');
                int take = newline < 0 ? data.Length : newline + 1;
                if (lineLength + take > line.Length)
                {
                    throw new CommandException(
                        $"line {lineNumber} is longer than the largest sample ({line.Length} bytes): raise --max-sample-size, or send binary data in --size chunks.");
                }
                data[..take].CopyTo(line.AsSpan(lineLength));
                lineLength += take;
                data = data[take..];
                if (newline >= 0)
                {
                    publisher.Write(line.AsSpan(0, lineLength), cancellationToken);
                    published++;
                    lineNumber++;
                    lineLength = 0;
                }
            }
        }
        if (lineLength > 0 && (count is null || published < count))
        {
            publisher.Write(line.AsSpan(0, lineLength), cancellationToken);
            published++;
        }
        return published;
    }

    private static long PublishChunks(Publisher publisher, Stream input, int size, long? count, CancellationToken cancellationToken)
    {
        byte[] sample = new byte[size];
        long published = 0;
        while (count is null || published < count)
        {
            int filled = input.ReadAtLeast(sample, size, throwOnEndOfStream: false);
            if (filled == 0)
            {
                break;
            }
            cancellationToken.ThrowIfCancellationRequested();
            publisher.Write(sample.AsSpan(0, filled), cancellationToken);
            published++;
        }
        return published;
    }

    private static long PublishWhole(Publisher publisher, Stream input, CancellationToken cancellationToken)
    {
        byte[] sample = new byte[input.Length];
        input.ReadExactly(sample);
        publisher.Write(sample, cancellationToken);
        return 1;
    }

    /// <summary>
    /// Samples of <paramref name="size"/> bytes filled in place: the sequence number, then the demo's pattern; on a fixed
    /// schedule of <paramref name="rate"/> per second (sleeping when ahead), or back to back when it is 0.
    /// </summary>
    private static long PublishSynthetic(Publisher publisher, int size, double rate, long? count, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        double ticksPerSample = rate > 0 ? Stopwatch.Frequency / rate : 0;
        long published = 0;
        Span<byte> number = stackalloc byte[sizeof(ulong)];
        for (ulong sequence = 1; count is null || published < count; sequence++)
        {
            if (ticksPerSample > 0)
            {
                long due = start + (long)(published * ticksPerSample);
                long ahead = due - Stopwatch.GetTimestamp();
                if (ahead > 0 && cancellationToken.WaitHandle.WaitOne(Stopwatch.GetElapsedTime(0, ahead)))
                {
                    break;
                }
            }
            cancellationToken.ThrowIfCancellationRequested();
            FrameLoan loan = publisher.Loan(size, cancellationToken);
            try
            {
                Span<byte> sample = loan.Span[..size];
                if (size >= FramePattern.MinimumFrameLength)
                {
                    FramePattern.Fill(sample, sequence);
                    BinaryPrimitives.WriteUInt64LittleEndian(sample, sequence);
                }
                else
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(number, sequence);
                    number[..Math.Min(size, number.Length)].CopyTo(sample);
                }
                loan.Commit(size);
            }
            finally
            {
                loan.Dispose();
            }
            published++;
        }
        cancellationToken.ThrowIfCancellationRequested();
        return published;
    }
}
