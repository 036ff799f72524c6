using System.Numerics;

namespace ZeroLane.Arrays;

/// <summary>Maps NumPy dtype descriptors ('&lt;f4', '|b1', ...) to the .NET element types ZeroLane supports.</summary>
internal static class NpyDType
{
    private static readonly (Type Type, char Kind, int Size)[] s_types =
    [
        (typeof(bool), 'b', 1),
        (typeof(sbyte), 'i', 1),
        (typeof(byte), 'u', 1),
        (typeof(short), 'i', 2),
        (typeof(ushort), 'u', 2),
        (typeof(int), 'i', 4),
        (typeof(uint), 'u', 4),
        (typeof(long), 'i', 8),
        (typeof(ulong), 'u', 8),
        (typeof(Half), 'f', 2),
        (typeof(float), 'f', 4),
        (typeof(double), 'f', 8),
        (typeof(Complex64), 'c', 8),
        (typeof(Complex), 'c', 16),
    ];

    /// <summary>The descriptor NumPy writes for <typeparamref name="T"/>.</summary>
    internal static string DescrOf<T>() where T : unmanaged
    {
        foreach (var (type, kind, size) in s_types)
        {
            if (type == typeof(T))
            {
                return $"{(size == 1 ? '|' : '<')}{kind}{size}";
            }
        }
        throw new NotSupportedException(
            $"{typeof(T)} is not a supported array element type. Supported: bool, sbyte, byte, short, ushort, int, uint, long, ulong, Half, float, double, Complex64, System.Numerics.Complex.");
    }

    /// <summary>The .NET type and item size of a descriptor; throws <see cref="MappedArrayFormatException"/> naming the descriptor otherwise.</summary>
    internal static (Type Type, int Size) Resolve(string descr)
    {
        (Type? type, int size, string? unsupported) = TryResolve(descr);
        return type is null ? throw new MappedArrayFormatException(unsupported!) : (type, size);
    }

    /// <summary>
    /// The .NET type and item size of a descriptor, or a null type and why ZeroLane cannot map it (the message
    /// <see cref="Resolve"/> throws).
    /// </summary>
    internal static (Type? Type, int Size, string? Unsupported) TryResolve(string descr)
    {
        if (descr.Length >= 3 && descr[0] is '<' or '|' or '>' or '=' &&
            int.TryParse(descr.AsSpan(2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int size))
        {
            char order = descr[0];
            char kind = descr[1];
            foreach (var (type, k, s) in s_types)
            {
                if (k == kind && s == size)
                {
                    // Byte order is meaningless for one-byte items; '=' is native, which is little-endian on every platform .NET runs ZeroLane on.
                    if (order == '>' && size > 1)
                    {
                        return (null, size,
                            $"The array's dtype '{descr}' is big-endian; only little-endian arrays are supported. Convert it in NumPy with a.astype(a.dtype.newbyteorder('<')).");
                    }
                    return (type, size, null);
                }
            }
        }
        return (null, 0,
            $"The array's dtype '{descr}' is not supported. Supported: bool, (u)int8/16/32/64, float16/32/64, complex64/128, little-endian; no structured, object, string or datetime dtypes.");
    }

    /// <summary>
    /// The item size NumPy gives a plain descriptor ZeroLane may not map ('&lt;U10': 40, '|S5': 5, '&lt;M8[ns]': 8), or null
    /// when it is not a fixed size of the data (an object array's data is a pickle) or not known from the descriptor alone.
    /// </summary>
    internal static int? ItemSizeOf(string descr)
    {
        if (descr.Length < 3 || descr[0] is not ('<' or '|' or '>' or '=') || !char.IsAsciiLetter(descr[1]))
        {
            return null;
        }
        int end = descr.IndexOf('[', 2) is int bracket and >= 0 ? bracket : descr.Length;
        if (!int.TryParse(descr.AsSpan(2, end - 2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int count))
        {
            return null;
        }
        // Unicode strings count characters of 4 bytes (UCS-4); every other kind counts bytes.
        return descr[1] == 'U' ? checked(count * 4) : count;
    }
}
