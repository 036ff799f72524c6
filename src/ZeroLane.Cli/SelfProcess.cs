using System.Diagnostics;

namespace ZeroLane.Cli;

/// <summary>
/// Starts this same tool again as a child process, e.g. the demo's reader and writer or the benchmark's peers.
/// </summary>
/// <remarks>
/// Design: <see cref="Environment.ProcessPath"/> is the executable that runs us. When that is the apphost
/// (<c>zerolane</c>, the global-tool shim, a single-file or native build) it is started again with the
/// arguments. When it is the <c>dotnet</c> host (<c>dotnet zerolane.dll ...</c>, as tests run it), the host
/// needs the path of our entry assembly as its first argument. Arguments go through
/// <see cref="ProcessStartInfo.ArgumentList"/>, so no quoting is involved.
/// </remarks>
internal static class SelfProcess
{
    /// <summary>
    /// A start info that runs this tool with <paramref name="arguments"/>: no shell, standard input, output
    /// and error redirected (read output and error, or the child may block on a full pipe; closing its
    /// input is how a parent can tell a child to stop). Adjust the returned object before starting it if a
    /// caller needs otherwise.
    /// </summary>
    /// <param name="arguments">The command line after the program, e.g. <c>["demo-reader", "--name", "x"]</c>.</param>
    /// <exception cref="InvalidOperationException">The path of the running executable cannot be determined.</exception>
    internal static ProcessStartInfo CreateStartInfo(IEnumerable<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        string processPath = Environment.ProcessPath
            ?? throw new InvalidOperationException("Cannot relaunch zerolane: the path of the running executable is unknown.");
        var startInfo = new ProcessStartInfo(processPath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
        };
        if (IsDotnetHost(processPath))
        {
            string assembly = typeof(Program).Assembly.Location;
            if (assembly.Length == 0)
            {
                throw new InvalidOperationException("Cannot relaunch zerolane: running under the dotnet host but the entry assembly has no file path.");
            }
            startInfo.ArgumentList.Add(assembly);
        }
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        return startInfo;
    }

    /// <summary>True if <paramref name="processPath"/> is the <c>dotnet</c> muxer rather than our own executable.</summary>
    internal static bool IsDotnetHost(string processPath) =>
        Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase);
}
