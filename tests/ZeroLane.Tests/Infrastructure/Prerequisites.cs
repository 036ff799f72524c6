using System.Diagnostics;
using ZeroLane.Arrays;

namespace ZeroLane.Tests.Infrastructure;

/// <summary>
/// Everything some tests need beyond the .NET SDK, declared here and nowhere else. A test that needs one calls
/// <see cref="Requirement.Require"/> before it does anything; when the prerequisite is missing the test fails with a
/// message that names what is missing and how to get it. No test skips or passes without its prerequisites:
/// <c>.ci/run</c> installs NumPy, pytest, a C compiler and iceoryx, and CI runs as root.
/// </summary>
/// <remarks>
/// Design: each check runs once per test process (lazily, so a test run that needs none of them pays for none), and
/// describes what it found, so the failure says why the machine does not qualify, not only that it does not.
/// </remarks>
internal static class Prerequisites
{
    /// <summary>The system Python the NumPy tests run (the python3 first on PATH may be another one, without NumPy).</summary>
    internal const string SystemPython = "/usr/bin/python3";

    /// <summary>
    /// Root with CAP_SYS_ADMIN: tests mount tmpfs filesystems of their own and run peers in private mount namespaces
    /// (<c>unshare --mount</c>) with a /dev/shm of their own.
    /// </summary>
    internal static readonly Requirement Root = new(
        "Root (with CAP_SYS_ADMIN, for tmpfs mounts and private mount namespaces)",
        "run the tests as root, as CI does (sudo -E bash .ci/run); in a container, also give it CAP_SYS_ADMIN (docker run --privileged)",
        FindRootProblem);

    /// <summary>NumPy for <see cref="SystemPython"/>: the interoperability tests of mapped arrays run real NumPy.</summary>
    internal static readonly Requirement NumPy = new(
        $"NumPy (for {SystemPython})",
        "apt-get install python3-numpy (.ci/run installs it)",
        FindNumPyProblem);

    /// <summary>pytest for <see cref="SystemPython"/>: the Python client's tests (python/tests) run under it (tests/ZeroLane.Tests/Python).</summary>
    internal static readonly Requirement Pytest = new(
        $"pytest (for {SystemPython})",
        "apt-get install python3-pytest (.ci/run installs it)",
        () => FindModuleProblem("pytest"));

    /// <summary>
    /// The fault guard (<see cref="MappedArray.IsFaultGuardActive"/>), which the library builds from its C file with the
    /// machine's cc: tests that truncate mapped files under the process need it, or the SIGBUS would end the test run.
    /// </summary>
    internal static readonly Requirement FaultGuard = new(
        "The fault guard (MappedArray.IsFaultGuardActive)",
        "apt-get install gcc libc6-dev (.ci/run installs them), rebuild, and leave ZEROLANE_FAULT_GUARD unset",
        () => MappedArray.IsFaultGuardActive ? null : MappedArray.FaultGuardInactiveReason ?? "inactive, no reason given");

    /// <summary>
    /// Eclipse iceoryx 2.0 (Debian 12's <c>iceoryx</c>: RouDi; <c>libiceoryx-binding-c-dev</c>: the C binding's headers and
    /// library) and a C compiler: <c>zerolane bench --only iceoryx</c> builds its C peer against the binding and starts RouDi.
    /// </summary>
    /// <summary>A NATS server (Debian's nats-server): the gateway tests start real servers on loopback ports of their own.</summary>
    internal static readonly Requirement NatsServer = new(
        "nats-server (/usr/sbin/nats-server)",
        "apt-get install nats-server (.ci/run installs it)",
        () => File.Exists(NatsServerPath) ? null : $"{NatsServerPath} does not exist");

    /// <summary>Where Debian's nats-server package puts the server.</summary>
    internal const string NatsServerPath = ZeroLane.Bench.BenchNatsServer.Path;

    internal static readonly Requirement Iceoryx = new(
        "iceoryx 2.0 with its C binding, and a C compiler",
        "apt-get install iceoryx libiceoryx-binding-c-dev gcc (.ci/run installs them)",
        FindIceoryxProblem);

    /// <summary>AFL++ (<c>afl-fuzz</c>): the fuzz tests run each fuzz target under it for a few seconds (tests/ZeroLane.Tests/Fuzz).</summary>
    internal static readonly Requirement Afl = new(
        "AFL++ (afl-fuzz)",
        "apt-get install afl++ (.ci/run installs it)",
        () => RunQuietly("/bin/sh", "-c", "command -v afl-fuzz").ExitCode == 0 ? null : "no afl-fuzz on PATH");

    /// <summary>One prerequisite: what it is, how to get it, and a check that returns what is wrong, or null if nothing.</summary>
    internal sealed class Requirement(string what, string howToGet, Func<string?> findProblem)
    {
        private readonly Lazy<string?> _problem = new(findProblem);

        /// <summary>Null if the prerequisite is present, else the message a test that needs it fails with.</summary>
        internal string? MissingMessage => _problem.Value is { } problem ? $"{what} is missing ({problem}): {howToGet}." : null;

        /// <summary>Fails the calling test, naming what is missing and how to get it, unless the prerequisite is present.</summary>
        internal void Require()
        {
            if (MissingMessage is { } message)
            {
                Assert.Fail(message);
            }
        }
    }

    private static string? FindRootProblem()
    {
        // /proc/self/status: "Uid:\treal\teffective\tsaved\tfilesystem".
        string? uidLine = File.ReadLines("/proc/self/status").FirstOrDefault(line => line.StartsWith("Uid:", StringComparison.Ordinal));
        string effective = uidLine?.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(2) ?? "unknown";
        if (effective != "0")
        {
            return $"the tests run with effective user id {effective}";
        }
        // Root in a container may still lack CAP_SYS_ADMIN: try what the tests do, in a namespace of its own.
        (int exitCode, string error) = RunQuietly("unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", "mount -t tmpfs -o size=4k tmpfs /dev/shm");
        return exitCode == 0 ? null : $"mounting a tmpfs in a private mount namespace failed with exit code {exitCode}: {error.Trim()}";
    }

    private static string? FindNumPyProblem() => FindModuleProblem("numpy");

    private static string? FindModuleProblem(string module)
    {
        if (!File.Exists(SystemPython))
        {
            return $"{SystemPython} does not exist";
        }
        (int exitCode, string error) = RunQuietly(SystemPython, "-c", $"import {module}");
        return exitCode == 0 ? null : $"{SystemPython} -c \"import {module}\" failed: {error.Trim().Split('\n').Last()}";
    }

    private static string? FindIceoryxProblem()
    {
        var problems = new List<string>();
        if (!File.Exists("/usr/bin/iox-roudi"))
        {
            problems.Add("/usr/bin/iox-roudi does not exist");
        }
        bool headers = Directory.Exists("/usr/include/iceoryx")
            && Directory.EnumerateDirectories("/usr/include/iceoryx", "v2.*").Any(version => File.Exists(Path.Combine(version, "iceoryx_binding_c", "runtime.h")));
        if (!headers)
        {
            problems.Add("no /usr/include/iceoryx/v2.*/iceoryx_binding_c/runtime.h");
        }
        bool library = Directory.EnumerateFiles("/usr/lib", "libiceoryx_binding_c.so").Any()
            || Directory.EnumerateDirectories("/usr/lib", "*-linux-*").Any(directory => File.Exists(Path.Combine(directory, "libiceoryx_binding_c.so")));
        if (!library)
        {
            problems.Add("no libiceoryx_binding_c.so under /usr/lib");
        }
        (int exitCode, _) = RunQuietly("/bin/sh", "-c", "command -v cc");
        if (exitCode != 0)
        {
            problems.Add("no cc on PATH");
        }
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    /// <summary>Runs a short check command; a command that cannot start counts as failed (exit code -1).</summary>
    private static (int ExitCode, string Error) RunQuietly(string program, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        try
        {
            using Process process = Process.Start(startInfo)!;
            Task<string> error = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            // A hang guard only: the checks finish at once or not at all.
            if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
            {
                process.Kill(entireProcessTree: true);
                return (-1, $"{program} did not finish within a minute");
            }
            process.WaitForExit();
            return (process.ExitCode, error.Result);
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            return (-1, $"{program} could not be started: {exception.Message}");
        }
    }
}
