using System.Diagnostics;
using System.Globalization;
using Xunit;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Cli;

/// <summary>
/// <c>zerolane serve --exec</c> stopped by SIGTERM while its command runs: the command and every process it started are
/// killed, the waiting <c>zerolane call</c> gets the server's one-line failure at once (not its own timeout), and
/// neither ring is left behind.
/// </summary>
/// <remarks>
/// The failure this guards against: serve used to kill the command with <c>Process.Kill(entireProcessTree: true)</c>,
/// which reads every process on the host first (seconds on a busy host). Meanwhile the server was alive and silent, so
/// a call with a short timeout timed out ("the server is alive but has not answered yet"), and a stop that outlasted the
/// server's 5-second stop timeout exited with the command still running (stopped by SIGSTOP, its children orphaned)
/// and the rings left behind. How long that took depended on the host's load, so no assertion here is about time: the
/// call's timeout is far longer than any stop, and the processes of the command must be gone.
/// </remarks>
public sealed class ServeStopsItsCommandWhenTerminated : BufferTest
{
    private readonly string _directory = Directory.CreateTempSubdirectory("zltest-serveterm-").FullName;
    private readonly List<string> _channels = [];
    private readonly List<ToolProcess> _tools = [];
    private readonly List<(int Pid, ulong StartTime)> _commandProcesses = [];

    [Fact]
    public async Task ASigtermWhileACommandRunsKillsItsProcessesAndTheCallFailsWithOneLine()
    {
        string channel = NewName("cli-term");
        _channels.Add(channel);
        string started = Path.Combine(_directory, "started"), shellPid = Path.Combine(_directory, "sh.pid"), sleepPid = Path.Combine(_directory, "sleep.pid");
        ToolProcess server = Start("serve", channel, "--exec",
            $"echo $$ > '{shellPid}'; sleep 600 & echo $! > '{sleepPid}'; touch '{started}'; wait");
        await ToolProcess.WaitForReaderAsync(channel + "_request", server);
        ToolProcess call = Start("call", channel, "--timeout", "600");
        await call.WriteInputAsync("tile"u8.ToArray());
        Assert.True(SpinWait.SpinUntil(() => File.Exists(started) || server.HasExited || call.HasExited, ToolProcess.SafetyTimeout),
            "the command did not start");
        Assert.True(File.Exists(started), $"the command did not start: server {(server.HasExited ? "exited" : "runs")}, call {(call.HasExited ? "exited" : "runs")}");
        (int Pid, ulong StartTime) shell = Identify(shellPid), sleep = Identify(sleepPid);
        _commandProcesses.AddRange([shell, sleep]);

        using (Process kill = Process.Start("kill", ["-s", "TERM", server.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
            Assert.Equal(0, kill.ExitCode);
        }
        ToolResult stopped = await server.WaitAsync();
        ToolResult called = await call.WaitAsync();

        Assert.True(stopped.ExitCode == 143, stopped.ToString());
        ToolProcess.AssertOneLineError(called, "zerolane: the server failed the request: ExecFailed: the server stopped while the command ran.");
        Assert.Empty(TestBuffers.Leftovers(channel + "_request"));
        Assert.Empty(TestBuffers.Leftovers(channel + "_response"));
        // SIGKILL is delivered asynchronously; the orphaned sleep is reaped by init whenever init gets to it.
        Assert.True(SpinWait.SpinUntil(() => IsGone(shell) && IsGone(sleep), ToolProcess.SafetyTimeout),
            $"the command's processes outlived the server: sh {shell.Pid} ({State(shell.Pid)}), sleep {sleep.Pid} ({State(sleep.Pid)})");
    }

    private ToolProcess Start(params string[] arguments)
    {
        ToolProcess tool = ToolProcess.Start(arguments);
        _tools.Add(tool);
        return tool;
    }

    /// <summary>The PID a file holds and that process's start time, so a reused PID is not taken for it.</summary>
    private static (int Pid, ulong StartTime) Identify(string pidFile)
    {
        string text = "";
        // The shell writes the file before it creates the "started" file, but a write may still be in flight.
        Assert.True(SpinWait.SpinUntil(() => (text = File.ReadAllText(pidFile).Trim()).Length > 0, ToolProcess.SafetyTimeout), $"{pidFile} stayed empty");
        int pid = int.Parse(text, CultureInfo.InvariantCulture);
        return (pid, StartTime(pid));
    }

    /// <summary>Dead: no such process, a zombie, or another process that has since taken the PID.</summary>
    private static bool IsGone((int Pid, ulong StartTime) process) =>
        State(process.Pid) is null or 'Z' or 'X' || StartTime(process.Pid) != process.StartTime;

    private static char? State(int pid) => StatFields(pid)?[0][0];

    private static ulong StartTime(int pid) =>
        StatFields(pid) is { Length: > 19 } fields ? ulong.Parse(fields[19], CultureInfo.InvariantCulture) : 0;

    /// <summary>Fields 3 onwards of /proc/PID/stat (field 22, the start time, is index 19), or null if there is no such process.</summary>
    private static string[]? StatFields(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    }

    public override void Dispose()
    {
        foreach (ToolProcess tool in _tools)
        {
            tool.Dispose();
        }
        foreach ((int Pid, ulong StartTime) process in _commandProcesses)
        {
            // A failed run must not leave the command behind.
            if (!IsGone(process))
            {
                try
                {
                    Process.GetProcessById(process.Pid).Kill();
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // It ended meanwhile.
                }
            }
        }
        foreach (string channel in _channels)
        {
            TestBuffers.Remove(channel + "_request");
            TestBuffers.Remove(channel + "_response");
        }
        Directory.Delete(_directory, recursive: true);
        base.Dispose();
    }
}
