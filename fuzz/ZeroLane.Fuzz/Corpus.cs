namespace ZeroLane.Fuzz;

/// <summary>The checked-in seed inputs: <c>fuzz/corpus/TARGET/*</c> in the repository.</summary>
public static class Corpus
{
    /// <summary>The corpus directory of <paramref name="target"/>, found from the repository that holds this build.</summary>
    public static string DirectoryOf(FuzzTarget target) => Path.Combine(Root(), target.Name);

    /// <summary>The seed inputs of <paramref name="target"/>, in name order (so a run over them is the same everywhere).</summary>
    public static IReadOnlyList<(string Path, byte[] Bytes)> Load(FuzzTarget target) =>
        [.. Directory.GetFiles(DirectoryOf(target)).Order(StringComparer.Ordinal).Select(p => (p, File.ReadAllBytes(p)))];

    /// <summary><c>fuzz/corpus</c>, looked for upward from the build output.</summary>
    public static string Root()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "fuzz", "corpus");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException($"No fuzz/corpus directory above {AppContext.BaseDirectory}; run from a build inside the repository.");
    }
}
