using System.CommandLine;
using System.Diagnostics;
using ZeroLane.Buffers;
using ZeroLane.Cli.Output;
using ZeroLane.Duplex;

namespace ZeroLane.Cli.Commands;

/// <summary>
/// <c>zerolane call NAME</c>: the client of duplex channel NAME (PROTOCOL.md section 14). Sends standard input (or a file)
/// as one request, <c>--count</c> times, writes the last answer to standard output (only when there is one request) and
/// the round-trip times to standard error.
/// </summary>
internal static class CallCommand
{
    private sealed record Settings(
        string Name, string? InPath, long Count, TimeSpan Timeout, long PayloadSize, WaitStrategy Wait, TimeSpan ConnectTimeout);

    private static readonly TimeSpan s_statsPollInterval = TimeSpan.FromMilliseconds(50);

    internal static Command Create()
    {
        Argument<string> name = CommonOptions.CreateNameArgument();
        name.Description = "The duplex channel's name (a 'zerolane serve NAME' serves it).";
        var input = new Option<string?>("--in", "-i") { Description = "Send this file's bytes as the request instead of standard input.", HelpName = "file" };
        var count = new Option<long>("--count", "-n")
        {
            Description = "Send the request this many times (default 1); with more than one, the answer is not written to standard output.",
            DefaultValueFactory = _ => 1,
            HelpName = "n",
        };
        var timeout = new Option<double>("--timeout")
        {
            Description = "Give up (exit code 1) when an answer takes longer than this many seconds; default 30.",
            DefaultValueFactory = _ => 30,
            HelpName = "seconds",
        };
        Option<long> payloadSize = CommonOptions.CreateSizeOption("--payload-size", "Size of the response ring's payload block (the largest answer is 16 bytes less).", 64L << 20);
        Option<string> wait = CommonOptions.CreateWaitOption();
        Option<double> connectTimeout = CommonOptions.CreateConnectTimeoutOption("connect, while no server serves the channel", 0);
        var command = new Command("call", "Send a request to a duplex channel's server and write its answer to standard output, round-trip times to standard error.")
        {
            name, input, count, timeout, payloadSize, wait, connectTimeout,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            long n = parseResult.GetValue(count);
            double seconds = parseResult.GetValue(timeout);
            CliErrors.Require(n is >= 1 and <= int.MaxValue, $"--count must be between 1 and {int.MaxValue}.");
            CliErrors.Require(seconds is > 0 and < 1e9, "--timeout must be a positive number of seconds.");
            return Task.FromResult(Run(
                new Settings(
                    parseResult.GetValue(name)!,
                    parseResult.GetValue(input),
                    n,
                    TimeSpan.FromSeconds(seconds),
                    parseResult.GetValue(payloadSize),
                    CommonOptions.ParseWait(parseResult.GetValue(wait)),
                    CommonOptions.ParseConnectTimeout(parseResult.GetValue(connectTimeout))),
                cancellationToken));
        });
        return command;
    }

    private static int Run(Settings settings, CancellationToken cancellationToken)
    {
        byte[] request = ReadRequest(settings.InPath);
        CliErrors.Require(request.Length > 0, "the request is empty: give at least one byte on standard input or in --in FILE.");
        // Look for the server's request ring before creating our response ring: without a server nothing is created.
        WaitForServer(settings, cancellationToken);
        var options = new DuplexClientOptions
        {
            ResponseRing = new ReaderOptions { PayloadSize = settings.PayloadSize, WaitStrategy = settings.Wait },
            RequestWriter = new WriterOptions { WaitStrategy = settings.Wait },
        };
        using DuplexClient client = DuplexClient.Connect(settings.Name, TimeSpan.FromSeconds(5), options, cancellationToken);
        CliErrors.Require(request.Length <= client.MaxRequestLength,
            $"the {request.Length}-byte request does not fit duplex channel '{settings.Name}': its server takes requests of at most " +
            $"{client.MaxRequestLength} bytes (start it with a larger --payload-size).");
        long[] nanoseconds = new long[settings.Count];
        for (long i = 0; i < settings.Count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            Frame response;
            try
            {
                response = client.Request(request, settings.Timeout, cancellationToken);
            }
            catch (DuplexRequestFailedException failed)
            {
                // A ZeroLane server (extended mode) says a request failed apart from any answer.
                throw ServerFailed(failed.RemoteError);
            }
            using Frame answered = response;
            nanoseconds[i] = (long)(Stopwatch.GetElapsedTime(start).TotalMilliseconds * 1e6);
            if (DuplexFailure.TryGetMessage(response.Span, out string? message))
            {
                // A reference-mode server's failure frame.
                throw ServerFailed(message);
            }
            if (i == settings.Count - 1 && settings.Count == 1)
            {
                using Stream output = Console.OpenStandardOutput();
                output.Write(response.Span);
                output.Flush();
            }
        }
        Array.Sort(nanoseconds);
        Console.Error.Write(
            $"{Units.Count(settings.Count)} call{(settings.Count == 1 ? "" : "s")} of {Units.Bytes(request.Length)}: round trip " +
            $"min {Units.Nanoseconds(nanoseconds[0])}, p50 {Units.Nanoseconds(Percentile(nanoseconds, 0.50))}, " +
            $"p99 {Units.Nanoseconds(Percentile(nanoseconds, 0.99))}, max {Units.Nanoseconds(nanoseconds[^1])}\n");
        return 0;
    }

    private static CommandException ServerFailed(string text) =>
        new("the server failed the request: " + text.Replace('\n', ' ').Replace('\r', ' '));

    private static byte[] ReadRequest(string? path)
    {
        if (path is not null)
        {
            return File.ReadAllBytes(path);
        }
        using Stream stdin = Console.OpenStandardInput();
        using var buffer = new MemoryStream();
        stdin.CopyTo(buffer);
        return buffer.ToArray();
    }

    /// <summary>Waits up to the connect timeout for the server's request ring; fails with what to do if it does not appear.</summary>
    private static void WaitForServer(Settings settings, CancellationToken cancellationToken)
    {
        string requestRing = settings.Name + "_request";
        long deadline = Environment.TickCount64 + (long)settings.ConnectTimeout.TotalMilliseconds;
        while (!BufferInspector.TryGetStats(requestRing, out _))
        {
            if (Environment.TickCount64 >= deadline)
            {
                CliErrors.Fail(
                    $"no server serves duplex channel '{settings.Name}' (there is no buffer '{requestRing}'): start one first " +
                    $"('zerolane serve {settings.Name} --echo', or --exec COMMAND), or give --connect-timeout S to wait for it.");
            }
            if (cancellationToken.WaitHandle.WaitOne(s_statsPollInterval))
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }

    /// <summary>The nearest-rank percentile of sorted values.</summary>
    private static long Percentile(long[] sorted, double fraction) =>
        sorted[Math.Clamp((int)Math.Ceiling(fraction * sorted.Length) - 1, 0, sorted.Length - 1)];
}
