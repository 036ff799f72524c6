using System.Text;
using ZeroLane.Arrays;

namespace ZeroLane.Fuzz;

/// <summary>
/// The .npy header parser (<see cref="NpyHeader"/>): the input is the start of a file, prelude and header text, and as
/// long as the file. Corrupt input may only be refused with <see cref="MappedArrayFormatException"/>.
/// </summary>
/// <remarks>
/// A header that parses must describe data inside the file, and must read back the same when ZeroLane writes it again in
/// place (same descr, order and shape at the same data offset). Its metadata, if any, must parse as JSON or be refused
/// with the same exception.
/// </remarks>
public sealed class NpyHeaderTarget : FuzzTarget
{
    private const string Path = "fuzz-input.npy";

    public override string Name => "npy-header";

    public override string Description => "NpyHeader.Parse on the start of a .npy file (prelude, header text, metadata comment)";

    public override IReadOnlyList<byte[]> Tokens { get; } =
    [
        .. new[]
        {
            "\x93NUMPY", "{'descr': ", "'fortran_order': ", "'shape': ", "True", "False", "'<f4'", "'<f8'", "'|u1'", "'<i8'",
            "'>i2'", "'<c8'", "'|b1'", "[('a', '<f4')]", "(", ")", "(3,)", "()", ", ", "}", "\n", "#", "#zerolane-metadata:",
            "{\"a\": 1}", "9223372036854775807", "18446744073709551616", "L",
        }.Select(t => Encoding.Latin1.GetBytes(t)),
        [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0],
        [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 2, 0],
        [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 3, 0],
        [0xC3, 0xA9], [0xFF, 0xFE], [0xE2, 0x82],
    ];

    protected override void Execute(ReadOnlySpan<byte> input)
    {
        NpyHeader header = NpyHeader.Parse(input, input.Length, Path);
        Check(header.MajorVersion is >= 1 and <= 3 && header.MinorVersion == 0, $"version {header.MajorVersion}.{header.MinorVersion} accepted");
        Check(header.DataOffset > 0 && header.DataOffset <= input.Length, $"data offset {header.DataOffset} outside a {input.Length}-byte file");
        Check(header.Rank <= 64, $"rank {header.Rank} accepted");
        long count = 1;
        foreach (long dimension in header.Shape)
        {
            Check(dimension >= 0, $"negative dimension {dimension}");
            count *= dimension;
        }
        Check(count == header.ElementCount, $"element count {header.ElementCount}, not the product of the shape {count}");
        Check(header.ItemSize > 0 && header.DataLength >= 0 && header.DataOffset + header.DataLength <= input.Length,
            $"{header.DataLength} data bytes at {header.DataOffset} do not fit a {input.Length}-byte file");
        Check(header.MetadataCapacity >= 0, $"metadata capacity {header.MetadataCapacity}");

        // Written again in place (as UpdateMetadata does) it reads back the same.
        byte[]? again = NpyHeader.EncodeInPlace(header.Descr, header.Shape, header.Order, null, (int)header.DataOffset, header.MajorVersion);
        if (again is not null)
        {
            NpyHeader reread = NpyHeader.Parse(again, again.Length, Path);
            Check(reread.Descr == header.Descr && reread.Order == header.Order && reread.Shape.AsSpan().SequenceEqual(header.Shape) &&
                reread.DataOffset == header.DataOffset, "the header written again in place reads back differently");
        }
        header.GetMetadata();
    }

    protected override bool IsDocumented(Exception exception) => exception is MappedArrayFormatException;
}
