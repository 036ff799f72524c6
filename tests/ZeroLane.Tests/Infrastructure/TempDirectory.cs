namespace ZeroLane.Tests.Infrastructure;

/// <summary>A fresh directory under /tmp (for example a private lock directory), deleted with everything in it on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    internal TempDirectory(bool create = true)
    {
        Path = System.IO.Path.Combine("/tmp", $"zltest-dir-{Environment.ProcessId}-{Guid.NewGuid():N}");
        if (create)
        {
            Directory.CreateDirectory(Path);
        }
    }

    internal string Path { get; }

    public void Dispose()
    {
        try
        {
            if (new FileInfo(Path).LinkTarget is not null)
            {
                File.Delete(Path);
            }
            else if (Directory.Exists(Path))
            {
                // Recursive delete removes symbolic links inside, never their targets.
                Directory.Delete(Path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }
}
