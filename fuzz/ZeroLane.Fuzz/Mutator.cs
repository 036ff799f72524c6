using System.Buffers.Binary;

namespace ZeroLane.Fuzz;

/// <summary>
/// A small deterministic mutator in the manner of AFL's havoc stage: bit flips, interesting numbers written over 1, 2, 4
/// or 8 bytes in either byte order, inserted, deleted and duplicated ranges, splices with another seed, and dictionary
/// tokens. The same seed gives the same inputs, so an in-process run is reproducible and its budget is a count of inputs,
/// not a time.
/// </summary>
public sealed class Mutator(int seed, IReadOnlyList<byte[]> tokens, int maxLength = 64 * 1024)
{
    private readonly Random _random = new(seed);

    private static readonly long[] s_interesting =
    [
        0, 1, 2, 7, 8, 15, 16, 17, 24, 31, 32, 63, 64, 100, 127, 128, 255, 256, 512, 1000, 1024, 4095, 4096, 32767, 32768,
        65535, 65536, 100_000, int.MaxValue, int.MaxValue + 1L, uint.MaxValue, uint.MaxValue + 1L, long.MaxValue,
        long.MinValue, -1, -2, -16, -128, -32768, 1L << 40, 1L << 46, 16 << 20, 256 << 20,
    ];

    /// <summary>A new input made from <paramref name="seedInput"/> (and perhaps <paramref name="other"/>, to splice).</summary>
    public byte[] Mutate(byte[] seedInput, byte[] other)
    {
        var data = new List<byte>(seedInput);
        int rounds = 1 << _random.Next(0, 4);
        for (int i = 0; i < rounds; i++)
        {
            MutateOnce(data, other);
        }
        if (data.Count > maxLength)
        {
            data.RemoveRange(maxLength, data.Count - maxLength);
        }
        return [.. data];
    }

    private void MutateOnce(List<byte> data, byte[] other)
    {
        switch (_random.Next(0, 11))
        {
            case 0 when data.Count > 0:
                data[Index(data)] ^= (byte)(1 << _random.Next(0, 8));
                break;
            case 1 when data.Count > 0:
                data[Index(data)] = (byte)_random.Next(0, 256);
                break;
            case 2 when data.Count > 0:
                int at = Index(data);
                data[at] = (byte)(data[at] + _random.Next(-35, 36));
                break;
            case 3 or 4:
                WriteInteresting(data);
                break;
            case 5 when data.Count > 1:
                int start = Index(data);
                data.RemoveRange(start, _random.Next(1, Math.Min(data.Count - start, 64) + 1));
                break;
            case 6 when data.Count > 0:
                int from = Index(data);
                int length = _random.Next(1, Math.Min(data.Count - from, 256) + 1);
                data.InsertRange(_random.Next(0, data.Count + 1), data.GetRange(from, length));
                break;
            case 7:
                data.InsertRange(_random.Next(0, data.Count + 1), RandomBytes(_random.Next(1, 17)));
                break;
            case 8 when other.Length > 0:
                // Splice: our head, the other's tail.
                int cut = data.Count == 0 ? 0 : _random.Next(0, data.Count);
                int otherCut = _random.Next(0, other.Length);
                data.RemoveRange(cut, data.Count - cut);
                data.AddRange(other.AsSpan(otherCut).ToArray());
                break;
            case 9 or 10 when tokens.Count > 0:
                byte[] token = tokens[_random.Next(0, tokens.Count)];
                int position = _random.Next(0, data.Count + 1);
                if (_random.Next(0, 2) == 0 || position + token.Length > data.Count)
                {
                    data.InsertRange(position, token);
                }
                else
                {
                    for (int i = 0; i < token.Length; i++)
                    {
                        data[position + i] = token[i];
                    }
                }
                break;
            default:
                data.Add((byte)_random.Next(0, 256));
                break;
        }
    }

    private void WriteInteresting(List<byte> data)
    {
        int width = 1 << _random.Next(0, 4);
        if (data.Count < width)
        {
            data.AddRange(new byte[width - data.Count]);
        }
        // Mostly at aligned offsets, where the formats keep their fields.
        int offset = _random.Next(0, 2) == 0 ? _random.Next(0, (data.Count - width) / width + 1) * width : _random.Next(0, data.Count - width + 1);
        long value = s_interesting[_random.Next(0, s_interesting.Length)] + (_random.Next(0, 4) == 0 ? _random.Next(-2, 3) : 0);
        Span<byte> bytes = stackalloc byte[8];
        if (_random.Next(0, 2) == 0)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        }
        else
        {
            BinaryPrimitives.WriteInt64BigEndian(bytes, value);
            bytes = bytes[(8 - width)..];
        }
        for (int i = 0; i < width; i++)
        {
            data[offset + i] = bytes[i];
        }
    }

    private int Index(List<byte> data) => _random.Next(0, data.Count);

    private byte[] RandomBytes(int length)
    {
        byte[] bytes = new byte[length];
        _random.NextBytes(bytes);
        return bytes;
    }
}
