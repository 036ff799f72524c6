namespace ZeroLane.Tests.Infrastructure;

/// <summary>Deterministic frame contents, so a reader can check every byte it received without a copy of what was sent.</summary>
internal static class Patterns
{
    /// <summary>Byte <paramref name="index"/> of the pattern for <paramref name="seed"/>; differs between neighbouring seeds and offsets.</summary>
    internal static byte At(ulong seed, int index) => (byte)((seed * 131) + ((ulong)index * 7) + ((ulong)index >> 8) + 1);

    internal static void Fill(Span<byte> destination, ulong seed)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = At(seed, i);
        }
    }

    internal static byte[] Create(int length, ulong seed)
    {
        var bytes = new byte[length];
        Fill(bytes, seed);
        return bytes;
    }

    /// <summary>Index of the first byte that does not follow the pattern, or -1.</summary>
    internal static int FirstMismatch(ReadOnlySpan<byte> actual, ulong seed)
    {
        for (int i = 0; i < actual.Length; i++)
        {
            if (actual[i] != At(seed, i))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Asserts that <paramref name="actual"/> has the expected length and follows the pattern for <paramref name="seed"/>.</summary>
    internal static void AssertMatches(ReadOnlySpan<byte> actual, int expectedLength, ulong seed)
    {
        Xunit.Assert.Equal(expectedLength, actual.Length);
        int mismatch = FirstMismatch(actual, seed);
        Xunit.Assert.True(mismatch < 0, $"byte {mismatch} of the frame with seed {seed} differs from the pattern");
    }

    /// <summary>Seeded pseudo-random bytes: fast to make for frames of many megabytes, compared with SequenceEqual.</summary>
    internal static byte[] CreateRandom(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
