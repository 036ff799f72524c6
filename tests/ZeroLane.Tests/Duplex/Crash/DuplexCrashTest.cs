using System.Globalization;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;

namespace ZeroLane.Tests.Duplex.Crash;

/// <summary>
/// Base for the duplex crash tests: seeded trials whose failures name the seed and the trial (so a failure can be
/// replayed with <c>ZEROLANE_TEST_SEED</c>), and the crash server peer.
/// </summary>
public abstract class DuplexCrashTest : DuplexTest
{
    private readonly TestSeed _seed;

    protected DuplexCrashTest(ITestOutputHelper output)
    {
        _seed = TestSeed.For(output);
    }

    /// <summary>
    /// Runs <paramref name="trials"/> trials, each with its own random stream of the test's seed; a failure is reported
    /// with the seed, the trial and what the trial chose (what <paramref name="trial"/> last passed to its describe callback).
    /// </summary>
    protected void RunTrials(int trials, Action<int, Random, Action<string>> trial)
    {
        for (int number = 1; number <= trials; number++)
        {
            string chosen = "(nothing chosen yet)";
            try
            {
                trial(number, _seed.NewRandom(stream: number), text => chosen = text);
            }
            catch (Exception e)
            {
                throw new XunitException(
                    $"Trial {number} of {trials} failed ({_seed}; replay with {TestSeed.VariableName}={_seed.Value}): {chosen}.\n{e.GetType().Name}: {e.Message}",
                    e);
            }
        }
    }

    /// <summary>Starts <c>duplex-crash-server</c> on <paramref name="channel"/> with the setup's peer arguments and waits for READY.</summary>
    internal PeerProcess StartCrashServer(string channel, DuplexCrashSetup setup, bool writesInPlace)
    {
        PeerProcess server = StartPeer(
        [
            "duplex-crash-server", channel, "--payload", RingSize.ToString(CultureInfo.InvariantCulture), "--check-ms", "50",
            "--lock-dir", LockDirectory, .. writesInPlace ? ["--loan"] : Array.Empty<string>(), .. setup.PeerArguments,
        ]);
        string line = server.WaitForAnyLine(PeerOutput.Ready, PeerOutput.Error);
        Assert.True(PeerOutput.Is(line, PeerOutput.Ready), server.Describe());
        return server;
    }

    /// <summary>The (sequence, id) of every <c>HANDLING</c> line a crash server printed, in order.</summary>
    internal static List<(ulong Sequence, ulong Id)> HandledRequests(PeerProcess server)
    {
        var handled = new List<(ulong, ulong)>();
        foreach (string line in server.Output)
        {
            if (!PeerOutput.Is(line, DuplexCrashRequests.HandlingLine))
            {
                continue;
            }
            string[] words = line.Split(' ');
            handled.Add((ulong.Parse(words[1]["seq=".Length..], CultureInfo.InvariantCulture), ulong.Parse(words[2]["id=".Length..], CultureInfo.InvariantCulture)));
        }
        return handled;
    }
}
