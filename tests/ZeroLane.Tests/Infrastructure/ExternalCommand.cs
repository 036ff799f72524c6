using System.Diagnostics;
using System.Globalization;

namespace ZeroLane.Tests.Infrastructure;

/// <summary>Runs a system command as a separate process (what another program on the machine would do) and checks it succeeded.</summary>
internal static class ExternalCommand
{
    /// <summary>Runs <paramref name="program"/> with <paramref name="arguments"/> and fails the test, with its stderr, unless it exits 0.</summary>
    internal static void Run(string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardError = true })!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error}");
    }

    /// <summary>What another process might do to a file we have mapped: coreutils' truncate to <paramref name="length"/> bytes.</summary>
    internal static void Truncate(string path, long length)
    {
        Run("truncate", "-s", length.ToString(CultureInfo.InvariantCulture), path);
        Assert.Equal(length, new FileInfo(path).Length);
    }
}
