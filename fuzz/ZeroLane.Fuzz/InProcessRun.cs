namespace ZeroLane.Fuzz;

/// <summary>
/// A bounded fuzzing run without AFL: every seed input, then <c>inputs</c> mutations of them (<see cref="Mutator"/>, fixed
/// seed), each run through the target. Not coverage-guided, but deterministic and independent of time: the same seed and
/// budget run the same inputs everywhere.
/// </summary>
public static class InProcessRun
{
    /// <summary>The first input that escaped the target with an undocumented exception, or null if none did.</summary>
    public sealed record Finding(byte[] Input, string Origin, Exception Exception);

    /// <summary>Runs the seeds and <paramref name="inputs"/> mutations of them; stops at the first finding.</summary>
    public static Finding? Run(FuzzTarget target, IReadOnlyList<(string Path, byte[] Bytes)> seeds, int inputs, int seed)
    {
        foreach ((string path, byte[] bytes) in seeds)
        {
            if (Attempt(target, bytes, path) is { } finding)
            {
                return finding;
            }
        }
        if (seeds.Count == 0)
        {
            seeds = [("(empty)", [])];
        }
        var mutator = new Mutator(seed, target.Tokens);
        var random = new Random(seed);
        for (int i = 0; i < inputs; i++)
        {
            (string path, byte[] bytes) = seeds[random.Next(seeds.Count)];
            byte[] input = mutator.Mutate(bytes, seeds[random.Next(seeds.Count)].Bytes);
            if (Attempt(target, input, $"mutation {i} of {Path.GetFileName(path)} (seed {seed})") is { } finding)
            {
                return finding;
            }
        }
        return null;
    }

    private static Finding? Attempt(FuzzTarget target, byte[] input, string origin)
    {
        try
        {
            target.Run(input);
            return null;
        }
        catch (Exception exception)
        {
            return new Finding(input, origin, exception);
        }
    }
}
