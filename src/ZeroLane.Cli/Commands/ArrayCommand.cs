using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ZeroLane.Arrays;
using ZeroLane.Cli.Output;

namespace ZeroLane.Cli.Commands;

/// <summary><c>zerolane array info FILE</c>: what a mapped-array (.npy) file holds, read from its header only.</summary>
internal static class ArrayCommand
{
    internal static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The .npy file." };
        var info = new Command("info", "Print dtype, shape, order, size and metadata of a .npy file (reads the header only).") { file };
        info.SetAction(parseResult => Info(parseResult.GetValue(file)!));
        return new Command("array", "Inspect mapped arrays (.npy files).") { info };
    }

    private static int Info(string path)
    {
        CliErrors.Require(File.Exists(path), $"No file '{path}'.");
        NpyHeader header = MappedArray.ReadHeader(path);
        CultureInfo culture = CultureInfo.InvariantCulture;
        string shape = "(" + string.Join(", ", header.Shape.Select(d => d.ToString(culture))) + (header.Rank == 1 ? ",)" : ")");
        var lines = new List<(string, string)>
        {
            ("file", path),
            ("format", $".npy version {header.MajorVersion}.{header.MinorVersion}"),
            ("dtype", $"{header.Descr} ({header.ElementType.Name}, {header.ItemSize} bytes)"),
            ("shape", shape),
            ("order", header.Order == ArrayOrder.C ? "C (row-major)" : "Fortran (column-major)"),
            ("elements", header.ElementCount.ToString("N0", culture)),
            ("data", $"{Units.Bytes(header.DataLength)} at offset {header.DataOffset.ToString(culture)}" +
                (header.DataOffset % NpyHeader.DataAlignment == 0 ? " (64-byte aligned)" : " (not 64-byte aligned)")),
            ("metadata room", $"{header.MetadataCapacity.ToString("N0", culture)} bytes in the header"),
        };
        int width = lines.Max(line => line.Item1.Length);
        foreach ((string label, string value) in lines)
        {
            Console.Out.WriteLine($"{label.PadRight(width)}  {value}");
        }
        JsonNode? metadata = header.GetMetadata();
        Console.Out.WriteLine($"{"metadata".PadRight(width)}  {(metadata is null ? "none" : metadata.ToJsonString(new JsonSerializerOptions { WriteIndented = true }))}");
        return 0;
    }
}
