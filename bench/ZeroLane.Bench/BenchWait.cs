using ZeroLane.Buffers;

namespace ZeroLane.Bench;

/// <summary>The names the bench uses for each <see cref="WaitStrategy"/>, in its output and on its command lines.</summary>
internal static class BenchWait
{
    /// <summary>Every strategy, in the order the bench measures them.</summary>
    internal static readonly WaitStrategy[] All = [WaitStrategy.BusySpin, WaitStrategy.SpinThenBlock, WaitStrategy.Blocking];

    internal static string NameOf(WaitStrategy wait) => wait switch
    {
        WaitStrategy.BusySpin => "busy-spin",
        WaitStrategy.SpinThenBlock => "spin-then-block",
        WaitStrategy.Blocking => "blocking",
        _ => throw new ArgumentOutOfRangeException(nameof(wait), wait, null),
    };

    internal static WaitStrategy Parse(string name) => name switch
    {
        "busy-spin" => WaitStrategy.BusySpin,
        "spin-then-block" => WaitStrategy.SpinThenBlock,
        "blocking" => WaitStrategy.Blocking,
        _ => throw new ArgumentException($"--wait takes busy-spin, spin-then-block or blocking (comma-separated), not '{name}'."),
    };
}
