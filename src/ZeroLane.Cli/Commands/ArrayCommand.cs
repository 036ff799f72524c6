using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ZeroLane.Arrays;
using ZeroLane.Cli.Output;

namespace ZeroLane.Cli.Commands;

/// <summary><c>zerolane array info FILE</c>: what a mapped-array (.npy) file holds, read from its header only.</summary>
/// <remarks>
/// Design: info describes every valid .npy header, also of dtypes ZeroLane cannot map (strings, objects, structured,
/// big-endian): it prints what the header says and a last line that the file cannot be opened as a mapped array, and
/// why. Only a file that is not a valid .npy file is an error.
/// </remarks>
internal static class ArrayCommand
{
    internal static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The .npy file." };
        var info = new Command("info", "Print dtype, shape, order, size and metadata of a .npy file (reads the header only), and whether it can be mapped.") { file };
        info.SetAction(parseResult => Info(parseResult.GetValue(file)!));
        return new Command("array", "Inspect mapped arrays (.npy files).") { info };
    }

    private static int Info(string path)
    {
        CliErrors.Require(!Directory.Exists(path), $"'{path}' is a directory, not an .npy file.");
        CliErrors.Require(File.Exists(path), $"no file '{path}': check the path.");
        NpyHeaderFacts header = NpyHeader.Describe(path);
        CultureInfo culture = CultureInfo.InvariantCulture;
        string shape = "(" + string.Join(", ", header.Shape.Select(d => d.ToString(culture))) + (header.Shape.Length == 1 ? ",)" : ")");
        string dtype = header.ElementType is { } type ? $"{header.Descr} ({type.Name}, {header.ItemSize} bytes)"
            : header.ItemSize is { } size ? $"{header.Descr} ({size} bytes)"
            : header.Descr;
        string alignment = header.DataOffset % NpyHeader.DataAlignment == 0 ? " (64-byte aligned)" : " (not 64-byte aligned)";
        var lines = new List<(string, string)>
        {
            ("file", path),
            ("format", $".npy version {header.MajorVersion}.0"),
            ("dtype", dtype),
            ("shape", shape),
            ("order", header.Order == ArrayOrder.C ? "C (row-major)" : "Fortran (column-major)"),
            ("elements", header.ElementCount.ToString("N0", culture)),
            ("data", (header.DataLength is { } length ? Units.Bytes(length) : "size unknown") +
                $" at offset {header.DataOffset.ToString(culture)}{alignment}"),
            ("metadata room", $"{header.MetadataCapacity.ToString("N0", culture)} bytes in the header"),
        };
        int width = Math.Max(lines.Max(line => line.Item1.Length), "mapping".Length);
        foreach ((string label, string value) in lines)
        {
            Console.Out.WriteLine($"{label.PadRight(width)}  {value}");
        }
        Console.Out.WriteLine($"{"metadata".PadRight(width)}  {DescribeMetadata(header.MetadataJson)}");
        Console.Out.WriteLine($"{"mapping".PadRight(width)}  " + (header.CannotMapReason is { } reason
            ? "cannot be opened as a mapped array: " + reason
            : $"can be opened as MappedArray<{header.ElementType!.Name}>"));
        return 0;
    }

    /// <summary>The metadata indented, "none", or the text as found when it is not JSON (another tool wrote the comment).</summary>
    private static string DescribeMetadata(string? json)
    {
        if (json is null)
        {
            return "none";
        }
        try
        {
            return JsonNode.Parse(json)?.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) ?? "null";
        }
        catch (JsonException exception)
        {
            return $"{json} (not valid JSON: {exception.Message})";
        }
    }
}
