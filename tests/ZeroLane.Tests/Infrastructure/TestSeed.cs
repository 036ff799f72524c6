using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;
using Xunit.Abstractions;

namespace ZeroLane.Tests.Infrastructure;

/// <summary>
/// The seed of a randomized test, so that any run of it can be replayed: <see cref="VariableName"/> when it is set,
/// otherwise a fresh seed per test. The test writes its seed to its output (shown with a failure), with the command
/// that replays it: <c>ZEROLANE_TEST_SEED=N dotnet test --filter NAME</c>.
/// </summary>
/// <remarks>
/// Design: every random choice a test makes (inputs, chunk sizes, cancellation points, pauses before a kill, FsCheck's
/// generators) comes from its one seed. A test that needs independent streams takes them from
/// <see cref="NewRandom"/> with a stream number, each a fixed function of seed and stream, so replaying the seed replays
/// every stream. Fixed byte patterns made from constant seeds (<c>Patterns.CreateRandom(length, seed: 3)</c>) are
/// not random choices: they are the same in every run.
/// </remarks>
internal sealed class TestSeed
{
    /// <summary>The environment variable that sets the seed of every randomized test, to replay a run.</summary>
    internal const string VariableName = "ZEROLANE_TEST_SEED";

    private TestSeed(int value) => Value = value;

    /// <summary>The seed: non-negative, as <see cref="Random.Next()"/> gives it or as the variable sets it.</summary>
    internal int Value { get; }

    /// <summary>The seed of the calling test, written to <paramref name="output"/> with the way to replay it.</summary>
    internal static TestSeed For(ITestOutputHelper output)
    {
        var seed = new TestSeed(FromEnvironment() ?? Random.Shared.Next());
        output.WriteLine($"{seed}; replay with {VariableName}={seed.Value}");
        return seed;
    }

    /// <summary>A generator for stream <paramref name="stream"/> of this seed; the same seed and stream give the same numbers.</summary>
    internal Random NewRandom(int stream = 0) => new(Mix(Value, stream));

    /// <summary>FsCheck's configuration for <paramref name="maxTest"/> cases, starting from this seed (FsCheck's Replay), throwing on failure.</summary>
    internal Config FsCheckConfig(int maxTest) =>
        Config.QuickThrowOnFailure
            .WithMaxTest(maxTest)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd((ulong)Value), FSharpOption<int>.None)));

    public override string ToString() => $"seed {Value}";

    private static int? FromEnvironment()
    {
        string? text = Environment.GetEnvironmentVariable(VariableName);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value))
        {
            Assert.Fail($"{VariableName}='{text}' is not a seed: use the number a test printed (0 to {int.MaxValue}).");
        }
        return value;
    }

    /// <summary>A well-spread non-negative seed for stream <paramref name="stream"/> (the SplitMix64 finaliser), the same in every process.</summary>
    private static int Mix(int seed, int stream)
    {
        ulong z = ((ulong)(uint)seed << 32 | (uint)stream) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & int.MaxValue);
    }
}
