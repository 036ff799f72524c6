namespace ZeroLane.Bench;

/// <summary>
/// In-band signals between bench peers. A control frame has a length no data frame has (data frames are all
/// exactly the measured size), and its first byte says what it means; so the hot loops only compare lengths.
/// </summary>
internal static class ControlFrame
{
    /// <summary>Ping-pong set-up: the initiator's buffers exist and it is connected.</summary>
    internal const byte Hello = 0;

    /// <summary>Warm-up is over: the measured window starts now.</summary>
    internal const byte Start = 1;

    /// <summary>The measured window is over; the peer reports and exits.</summary>
    internal const byte Stop = 2;

    /// <summary>Half of the measured window has passed (allocation is measured per half).</summary>
    internal const byte Half = 3;

    /// <summary>The length of control frames next to data frames of <paramref name="frameBytes"/>.</summary>
    internal static int LengthFor(int frameBytes) => frameBytes == 1 ? 2 : 1;

    /// <summary>A control frame with the code <paramref name="code"/>.</summary>
    internal static byte[] Create(int frameBytes, byte code)
    {
        var frame = new byte[LengthFor(frameBytes)];
        frame[0] = code;
        return frame;
    }

    /// <summary>Every control frame, indexed by code, made before anything is measured so sending one allocates nothing.</summary>
    internal static byte[][] CreateAll(int frameBytes) =>
        [Create(frameBytes, Hello), Create(frameBytes, Start), Create(frameBytes, Stop), Create(frameBytes, Half)];

    /// <summary>Throws when the peers are out of step: a control frame other than the one the protocol expects arrived.</summary>
    internal static void Expect(byte actual, byte expected)
    {
        if (actual != expected)
        {
            throw new InvalidOperationException($"Bench peers out of step: expected control frame {expected}, got {actual}.");
        }
    }
}
