using ZeroLane.Buffers;

namespace ZeroLane.Bench;

/// <summary>The names the bench uses for each <see cref="WaitStrategy"/>, in its output and on its command lines.</summary>
public static class BenchWait
{
    /// <summary>Every strategy, in the order the bench measures them.</summary>
    public static readonly WaitStrategy[] All = [WaitStrategy.BusySpin, WaitStrategy.SpinThenBlock, WaitStrategy.Blocking];

    public static string NameOf(WaitStrategy wait) => wait switch
    {
        WaitStrategy.BusySpin => "busy-spin",
        WaitStrategy.SpinThenBlock => "spin-then-block",
        WaitStrategy.Blocking => "blocking",
        _ => throw new ArgumentOutOfRangeException(nameof(wait), wait, null),
    };

    /// <summary>Every name a command line takes: the three above, and the short aliases <c>busy</c> and <c>spin</c>.</summary>
    public static readonly string[] AcceptedNames = ["busy-spin", "spin-then-block", "blocking", "busy", "spin"];

    /// <summary>A strategy by its name or alias (see <see cref="AcceptedNames"/>), the same for every command.</summary>
    public static WaitStrategy Parse(string name) => name switch
    {
        "busy-spin" or "busy" => WaitStrategy.BusySpin,
        "spin-then-block" or "spin" => WaitStrategy.SpinThenBlock,
        "blocking" => WaitStrategy.Blocking,
        _ => throw new ArgumentException($"--wait takes busy-spin, spin-then-block or blocking (or busy, spin), not '{name}'."),
    };
}
