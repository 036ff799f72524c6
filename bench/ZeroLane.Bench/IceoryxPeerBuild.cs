using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace ZeroLane.Bench;

/// <summary>
/// Builds the iceoryx peer (<c>iceoryx/iceoryx_peer.c</c>, embedded in this assembly) with the machine's C compiler
/// against the C binding, once per source: the binary is cached under a name derived from a hash of the source, the
/// compiler and its flags.
/// </summary>
/// <remarks>
/// Design: the cache lives in the user's cache directory (<c>$XDG_CACHE_HOME/zerolane</c>, else
/// <c>~/.cache/zerolane</c>), not in /tmp: a predictable name in a world-writable directory would let another user
/// put a binary there first, which the bench (often run as root) would then execute. Without a home directory the
/// peer is built into the run's own scratch directory and removed with it. The compiler writes a temporary file that
/// is then renamed, so two runs building at once never execute a half-written binary.
/// </remarks>
internal static class IceoryxPeerBuild
{
    private const string ResourceName = "ZeroLane.Bench.iceoryx_peer.c";
    private const string BinaryName = "iceoryx_peer";
    private const string Library = "-liceoryx_binding_c";

    /// <summary>Returns the path of the built peer, building it first unless the cache has it.</summary>
    /// <param name="installation">The iceoryx headers and the compiler to use.</param>
    /// <param name="scratchDirectory">The run's private temporary directory, used when there is no cache directory.</param>
    /// <param name="cancellationToken">Stops a running compiler.</param>
    /// <exception cref="InvalidOperationException">The compiler failed; the message has its errors.</exception>
    internal static async Task<string> BuildAsync(IceoryxInstallation installation, string scratchDirectory, CancellationToken cancellationToken)
    {
        string source = ReadSource();
        string[] flags = ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-I", installation.IncludeDirectory];
        string key = string.Join('\n', [source, installation.CompilerPath, .. flags, Library]);
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
        string directory = CacheDirectory() is string cache ? Path.Combine(cache, $"iceoryx-peer-{hash}") : scratchDirectory;
        string binary = Path.Combine(directory, BinaryName);
        if (File.Exists(binary))
        {
            return binary;
        }

        if (!OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        string sourcePath = Path.Combine(directory, "iceoryx_peer.c");
        await File.WriteAllTextAsync(sourcePath, source, cancellationToken).ConfigureAwait(false);
        string temporary = $"{binary}.{Environment.ProcessId}.tmp";
        var startInfo = new ProcessStartInfo(installation.CompilerPath)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in (string[])[.. flags, "-o", temporary, sourcePath, Library])
        {
            startInfo.ArgumentList.Add(argument);
        }
        using Process compiler = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {installation.CompilerPath}.");
        Task<string> output = compiler.StandardOutput.ReadToEndAsync(CancellationToken.None);
        Task<string> errors = compiler.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await compiler.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            compiler.Kill(entireProcessTree: true);
            File.Delete(temporary);
            throw;
        }
        string messages = ((await output.ConfigureAwait(false)) + (await errors.ConfigureAwait(false))).Trim();
        if (compiler.ExitCode != 0)
        {
            File.Delete(temporary);
            throw new InvalidOperationException(
                $"Could not build the iceoryx peer ({installation.CompilerPath} exited with code {compiler.ExitCode}; is libiceoryx-binding-c-dev complete?): {messages}");
        }
        File.Move(temporary, binary, overwrite: true);
        return binary;
    }

    private static string ReadSource()
    {
        using Stream stream = typeof(IceoryxPeerBuild).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The bench assembly lacks its embedded {ResourceName}; rebuild it.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary><c>$XDG_CACHE_HOME/zerolane</c>, else <c>$HOME/.cache/zerolane</c>, else null.</summary>
    private static string? CacheDirectory()
    {
        if (Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg && Path.IsPathFullyQualified(xdg))
        {
            return Path.Combine(xdg, "zerolane");
        }
        return Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } home && Path.IsPathFullyQualified(home)
            ? Path.Combine(home, ".cache", "zerolane")
            : null;
    }
}
