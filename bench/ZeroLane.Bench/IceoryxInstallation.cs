namespace ZeroLane.Bench;

/// <summary>
/// Where this machine's iceoryx is: RouDi, the C binding's headers and library (Debian 12: packages <c>iceoryx</c> and
/// <c>libiceoryx-binding-c-dev</c>, version 2.0.3), and the C compiler that builds the bench's peer against them.
/// </summary>
/// <param name="RouDiPath">The <c>iox-roudi</c> binary.</param>
/// <param name="IncludeDirectory">The directory that holds <c>iceoryx_binding_c/</c> (e.g. <c>/usr/include/iceoryx/v2.0.3</c>).</param>
/// <param name="Version">The iceoryx version, from the name of <paramref name="IncludeDirectory"/>.</param>
/// <param name="CompilerPath">The C compiler (<c>cc</c>).</param>
internal sealed record IceoryxInstallation(string RouDiPath, string IncludeDirectory, string Version, string CompilerPath)
{
    /// <summary>The note printed instead of rows when iceoryx is missing.</summary>
    internal const string NotInstalledNote = "iceoryx: skipped (not installed: apt-get install iceoryx libiceoryx-binding-c-dev)";

    /// <summary>The note printed instead of rows when no C compiler can build the peer.</summary>
    internal const string NoCompilerNote = "iceoryx: skipped (no C compiler to build its peer: apt-get install gcc)";

    private const string BindingLibrary = "libiceoryx_binding_c.so";

    private static readonly string[] s_includeRoots = ["/usr/include/iceoryx", "/usr/local/include/iceoryx"];
    private static readonly string[] s_libraryRoots = ["/usr/lib", "/usr/local/lib", "/usr/lib64"];

    /// <summary>Finds iceoryx and a C compiler; when something is missing, <paramref name="missingNote"/> says what and how to get it.</summary>
    internal static bool TryFind(out IceoryxInstallation? installation, out string? missingNote)
    {
        installation = null;
        string? rouDi = FindOnPath("iox-roudi") ?? (File.Exists("/usr/bin/iox-roudi") ? "/usr/bin/iox-roudi" : null);
        (string Directory, System.Version Version)? headers = FindHeaders();
        if (rouDi is null || headers is null || !LibraryExists())
        {
            missingNote = NotInstalledNote;
            return false;
        }
        if (FindOnPath("cc") is not string compiler)
        {
            missingNote = NoCompilerNote;
            return false;
        }
        missingNote = null;
        installation = new IceoryxInstallation(rouDi, headers.Value.Directory, headers.Value.Version.ToString(), compiler);
        return true;
    }

    /// <summary>The newest <c>ROOT/vX.Y.Z</c> directory with the C binding's headers.</summary>
    private static (string Directory, System.Version Version)? FindHeaders()
    {
        (string Directory, System.Version Version)? newest = null;
        foreach (string root in s_includeRoots.Where(Directory.Exists))
        {
            foreach (string directory in Directory.EnumerateDirectories(root, "v*"))
            {
                if (System.Version.TryParse(Path.GetFileName(directory)[1..], out System.Version? version)
                    && File.Exists(Path.Combine(directory, "iceoryx_binding_c", "runtime.h"))
                    && (newest is null || version > newest.Value.Version))
                {
                    newest = (directory, version!);
                }
            }
        }
        return newest;
    }

    /// <summary>The C binding's library in a library directory or one multiarch level below it (<c>/usr/lib/x86_64-linux-gnu</c>).</summary>
    private static bool LibraryExists() =>
        s_libraryRoots.Where(Directory.Exists).Any(root =>
            File.Exists(Path.Combine(root, BindingLibrary))
            || Directory.EnumerateDirectories(root, "*-linux-*").Any(directory => File.Exists(Path.Combine(directory, BindingLibrary))));

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, program))
            .FirstOrDefault(File.Exists);
}
