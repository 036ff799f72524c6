using System.CommandLine;
using ZeroLane.Buffers;
using ZeroLane.Cli.Output;
using ZeroLane.Duplex;

namespace ZeroLane.Cli.Commands;

/// <summary>
/// <c>zerolane clean</c>: removes buffers whose reader is dead, after asking; without names, also the files of duplex
/// services (and of clients joining them) whose processes died.
/// </summary>
internal static class CleanCommand
{
    internal static Command Create()
    {
        var yes = new Option<bool>("--yes", "-y") { Description = "Remove without asking." };
        var names = new Argument<string[]>("names")
        {
            Description = "Consider only these buffers (default: every stale buffer on the host).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        Option<string?> lockDirectory = CommonOptions.CreateLockDirectoryOption();
        var command = new Command("clean", "Remove buffers left behind by dead readers (their shared memory, semaphores and lock file).") { names, yes, lockDirectory };
        command.SetAction(parseResult => Run(parseResult.GetValue(names) ?? [], parseResult.GetValue(yes), parseResult.GetValue(lockDirectory)));
        return command;
    }

    private static int Run(string[] only, bool yes, string? lockDirectory)
    {
        // A mistyped directory would find no lock files and quietly leave the stale ones behind.
        CliErrors.Require(lockDirectory is null || Directory.Exists(lockDirectory),
            $"--lock-dir '{lockDirectory}' is not a directory: give the one the readers were given (default /tmp/zerobuffer).");
        foreach (string name in only)
        {
            // Validates the name (clear error for a bad one) before anything is removed.
            BufferInspector.TryGetStats(name, out _);
        }
        IReadOnlyList<string> stale = BufferInspector.FindStale(lockDirectory);
        if (only.Length > 0)
        {
            foreach (string name in only.Where(n => !stale.Contains(n, StringComparer.Ordinal)))
            {
                Console.Out.Write(!BufferInspector.TryGetStats(name, out _)
                    ? $"{name}: no such buffer.\n"
                    : $"{name}: not stale, its reader is alive.\n");
            }
            stale = stale.Where(n => only.Contains(n, StringComparer.Ordinal)).ToList();
        }
        // A dead service's client rings are stale buffers above; its service file and its clients' join files are not.
        List<string> staleServices = only.Length > 0 ? [] : DuplexServiceInspector.List()
            .Where(s => !s.Alive || s.Clients.Any(c => c.Joining && !c.Alive))
            .Select(s => s.Name)
            .ToList();
        if (stale.Count == 0 && staleServices.Count == 0)
        {
            Console.Out.Write("No stale buffers.\n");
            return 0;
        }
        if (stale.Count == 0)
        {
            Console.Out.Write("No stale buffers.\n");
        }
        else
        {
            PrintStale(stale);
        }
        foreach (string service in staleServices)
        {
            Console.Out.Write($"Duplex service {service}: files of a dead service or of dead clients joining it (/dev/shm/zls.{service}.*)\n");
        }
        if (!yes && !Confirm(stale.Count, staleServices.Count))
        {
            return 0;
        }
        int failures = 0;
        foreach (string name in stale)
        {
            try
            {
                Console.Out.Write(BufferInspector.Clean(name, lockDirectory)
                    ? $"Removed {name}\n"
                    : $"Kept {name}: a live reader holds it again.\n");
            }
            catch (Exception exception) when (exception is UnauthorizedAccessException or IOException)
            {
                Console.Error.Write($"zerolane: could not remove {name}: {exception.Message}\n");
                failures++;
            }
        }
        foreach (string service in staleServices)
        {
            IReadOnlyList<string> removed = DuplexServiceInspector.Clean(service, lockDirectory);
            Console.Out.Write(removed.Count == 0
                ? $"Kept duplex service {service}: its processes hold its files again.\n"
                : $"Removed duplex service {service}'s files: {string.Join(", ", removed)}\n");
        }
        return failures == 0 ? 0 : CliErrors.ExitCode;
    }

    private static void PrintStale(IReadOnlyList<string> stale)
    {
        var table = new TextTable("NAME", "PAYLOAD>", "WRITTEN>", "READ>", "READER", "WRITER");
        foreach (string name in stale)
        {
            BufferInspector.TryGetStats(name, out BufferStats? stats);
            table.AddRow(stats is null
                ? [name, "-", "-", "-", "-", "(lock file only)"]
                : [name, Units.Bytes(stats.PayloadCapacity), Units.Count(stats.FramesWritten), Units.Count(stats.FramesRead),
                    StatsText.Peer(stats.ReaderPid, stats.ReaderAlive), StatsText.Peer(stats.WriterPid, stats.WriterAlive)]);
        }
        Console.Out.Write(table.ToString());
    }

    private static bool Confirm(int count, int services)
    {
        string what = services == 0 ? $"{count} buffer{(count == 1 ? "" : "s")}"
            : count == 0 ? $"the files of {services} duplex service{(services == 1 ? "" : "s")}"
            : $"{count} buffer{(count == 1 ? "" : "s")} and the files of {services} duplex service{(services == 1 ? "" : "s")}";
        Console.Out.Write($"Remove {what}? [y/N] ");
        string? answer = Console.In.ReadLine();
        if (answer is null)
        {
            Console.Out.Write("\n");
            throw new CommandException("no answer on standard input, nothing removed; use --yes to remove without asking.");
        }
        if (answer.Trim().ToLowerInvariant() is "y" or "yes")
        {
            return true;
        }
        Console.Out.Write("Nothing removed.\n");
        return false;
    }
}
