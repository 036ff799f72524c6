using System.CommandLine;
using System.Diagnostics;
using ZeroLane.Buffers;
using ZeroLane.Duplex;

namespace ZeroLane.Cli.Commands;

/// <summary>
/// <c>zerolane serve NAME --echo | --exec CMD</c>: the server of duplex channel NAME (PROTOCOL.md section 14). It answers
/// each request with the request's own bytes (<c>--echo</c>), or with the standard output of <c>/bin/sh -c CMD</c> run
/// once per request with the request on its standard input (<c>--exec</c>), until Ctrl+C or SIGTERM.
/// </summary>
/// <remarks>
/// Design: a command that exits with a non-zero code, or prints nothing, fails the request: the library's server answers
/// it with its failure frame (section 14.4), whose text is the command's exit code and standard error. The server answers
/// one request at a time, in order, so one command runs at a time.
/// </remarks>
internal static class ServeCommand
{
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>How much of a failed command's standard error goes into the failure answer (the frame holds 1 KiB of text).</summary>
    private const int MaxErrorText = 900;

    internal static Command Create()
    {
        Argument<string> name = CommonOptions.CreateNameArgument();
        name.Description = "The duplex channel's name; its rings are NAME_request (created here) and NAME_response (created by each client).";
        var echo = new Option<bool>("--echo") { Description = "Answer each request with its own bytes." };
        var exec = new Option<string?>("--exec")
        {
            Description = "Answer each request with the standard output of this command, run by /bin/sh -c with the request on its standard input; " +
                "a non-zero exit code or no output fails the request with the command's standard error.",
            HelpName = "command",
        };
        Option<long> payloadSize = CommonOptions.CreateSizeOption("--payload-size", "Size of the request ring's payload block (the largest request is 16 bytes less).", 64L << 20);
        Option<string> wait = CommonOptions.CreateWaitOption();
        var timeout = new Option<double?>("--timeout")
        {
            Description = "Give up (exit code 1) when no request arrives for this many seconds. Default: serve until Ctrl+C.",
            HelpName = "seconds",
        };
        var concurrency = new Option<int>("--concurrency")
        {
            Description = "Requests handled at once (with --exec: commands running at once), 1 to 1024. A ZeroLane client gets each answer " +
                "as soon as it is ready; a reference client still gets them in order.",
            DefaultValueFactory = _ => 1,
            HelpName = "count",
        };
        var command = new Command("serve", "Serve a duplex channel: answer each request with its own bytes (--echo) or a command's output (--exec).")
        {
            name, echo, exec, payloadSize, wait, timeout, concurrency,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            bool isEcho = parseResult.GetValue(echo);
            string? commandText = parseResult.GetValue(exec);
            double? seconds = parseResult.GetValue(timeout);
            CliErrors.Require(isEcho != (commandText is not null), "give either --echo or --exec COMMAND (one of them).");
            CliErrors.Require(commandText is null || !string.IsNullOrWhiteSpace(commandText), "--exec needs a command, e.g. --exec 'tr a-z A-Z'.");
            CliErrors.Require(seconds is null or (> 0 and < 1e9), "--timeout must be a positive number of seconds.");
            int handledAtOnce = parseResult.GetValue(concurrency);
            CliErrors.Require(handledAtOnce is >= 1 and <= DuplexServerOptions.MaxMaxConcurrency,
                $"--concurrency takes 1 to {DuplexServerOptions.MaxMaxConcurrency} requests at once, not {handledAtOnce}.");
            return Task.FromResult(Run(
                parseResult.GetValue(name)!,
                commandText,
                parseResult.GetValue(payloadSize),
                CommonOptions.ParseWait(parseResult.GetValue(wait)),
                seconds is { } s ? TimeSpan.FromSeconds(s) : null,
                handledAtOnce,
                cancellationToken));
        });
        return command;
    }

    private static int Run(string name, string? commandText, long payloadSize, WaitStrategy wait, TimeSpan? idleTimeout, int concurrency,
        CancellationToken cancellationToken)
    {
        var options = new DuplexServerOptions
        {
            RequestRing = new ReaderOptions { PayloadSize = payloadSize, WaitStrategy = wait },
            ResponseWriter = new WriterOptions { WaitStrategy = wait },
            MaxConcurrency = concurrency,
        };
        using var stopCommands = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Requests in progress: a command that runs longer than --timeout is not mistaken for an idle server.
        int[] inProgress = [0];
        DuplexRequestHandler handler = commandText is null
            ? static request => request.Span
            : request =>
            {
                Interlocked.Increment(ref inProgress[0]);
                try
                {
                    return RunCommand(commandText, request.Span.ToArray(), stopCommands.Token);
                }
                finally
                {
                    Interlocked.Decrement(ref inProgress[0]);
                }
            };
        var server = new DuplexServer(name, handler, options);
        try
        {
            if (!Console.IsErrorRedirected)
            {
                Console.Error.Write($"Serving duplex channel '{name}' ({(commandText is null ? "echo" : "exec: " + commandText)}). Ctrl+C to stop.\n");
            }
            long lastSeen = -1;
            long idleSince = Stopwatch.GetTimestamp();
            while (true)
            {
                if (cancellationToken.WaitHandle.WaitOne(s_pollInterval))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
                if (server.Fault is { } fault)
                {
                    throw new CommandException($"the server of duplex channel '{name}' stopped: {fault.Message}");
                }
                long seen = server.RequestsAnswered + server.RequestsDropped;
                if (seen != lastSeen || Volatile.Read(ref inProgress[0]) > 0)
                {
                    lastSeen = seen;
                    idleSince = Stopwatch.GetTimestamp();
                }
                else if (idleTimeout is { } limit && Stopwatch.GetElapsedTime(idleSince) >= limit)
                {
                    throw new TimeoutException($"no request arrived on duplex channel '{name}' within {limit.TotalSeconds:0.###} s.");
                }
            }
        }
        finally
        {
            // Stop a command in progress rather than wait for it: its request is then answered as failed, or not at all.
            stopCommands.Cancel();
            server.Dispose();
            if (!Console.IsErrorRedirected)
            {
                Console.Error.Write($"Answered {server.RequestsAnswered} requests ({server.RequestsFailed} failed).\n");
            }
        }
    }

    /// <summary>Runs <c>/bin/sh -c COMMAND</c> with <paramref name="request"/> on its standard input; returns its standard output.</summary>
    private static byte[] RunCommand(string commandText, byte[] request, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add(commandText);
        using Process process = Process.Start(startInfo) ?? throw new InvalidOperationException("could not start /bin/sh.");
        Task<byte[]> output = Task.Run(async () =>
        {
            using var buffer = new MemoryStream();
            await process.StandardOutput.BaseStream.CopyToAsync(buffer, CancellationToken.None).ConfigureAwait(false);
            return buffer.ToArray();
        }, CancellationToken.None);
        Task<string> error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        Task input = Task.Run(async () =>
        {
            try
            {
                await process.StandardInput.BaseStream.WriteAsync(request, CancellationToken.None).ConfigureAwait(false);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The command exited without reading all of its input: its exit code and output decide.
            }
        }, CancellationToken.None);
        try
        {
            process.WaitForExitAsync(cancellationToken).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            // Not process.Kill(entireProcessTree: true): it reads every process on the host first, seconds on a busy one,
            // while the client waits and the server's stop timeout runs out (see ProcessTree).
            ProcessTree.Kill(process.Id);
            process.WaitForExit();
            throw new ExecFailed("the server stopped while the command ran.");
        }
        // The parameterless wait also waits for the redirected streams to end.
        process.WaitForExit();
        input.GetAwaiter().GetResult();
        byte[] answer = output.GetAwaiter().GetResult();
        string stderr = error.GetAwaiter().GetResult().Trim();
        if (stderr.Length > MaxErrorText)
        {
            stderr = stderr[..MaxErrorText] + "...";
        }
        stderr = stderr.Replace('\n', ' ').Replace('\r', ' ');
        if (process.ExitCode != 0)
        {
            throw new ExecFailed($"the command exited with code {process.ExitCode}{(stderr.Length > 0 ? ": " + stderr : "")}");
        }
        if (answer.Length == 0)
        {
            throw new ExecFailed($"the command printed nothing{(stderr.Length > 0 ? ": " + stderr : "")}");
        }
        return answer;
    }

    /// <summary>
    /// A command that failed a request. The server answers with its failure frame, whose text is this type's name and the
    /// message: "ExecFailed: the command exited with code 3: ...".
    /// </summary>
    private sealed class ExecFailed(string message) : Exception(message);
}
