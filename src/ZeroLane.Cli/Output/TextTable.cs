using System.Text;

namespace ZeroLane.Cli.Output;

/// <summary>A plain-text table: a header row, then rows, columns padded to their widest cell.</summary>
internal sealed class TextTable
{
    private readonly string[] _headers;
    private readonly bool[] _rightAligned;
    private readonly List<string[]> _rows = new();

    /// <param name="columns">Header texts; a header ending in '>' marks a right-aligned (numeric) column, the '>' is not shown.</param>
    internal TextTable(params string[] columns)
    {
        _headers = columns.Select(c => c.TrimEnd('>')).ToArray();
        _rightAligned = columns.Select(c => c.EndsWith('>')).ToArray();
    }

    internal void AddRow(params string[] cells)
    {
        if (cells.Length != _headers.Length)
        {
            throw new ArgumentException($"Expected {_headers.Length} cells, got {cells.Length}.", nameof(cells));
        }
        _rows.Add(cells);
    }

    public override string ToString()
    {
        int[] widths = new int[_headers.Length];
        foreach (string[] row in _rows.Prepend(_headers))
        {
            for (int i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }
        var text = new StringBuilder();
        foreach (string[] row in _rows.Prepend(_headers))
        {
            for (int i = 0; i < row.Length; i++)
            {
                if (i > 0)
                {
                    text.Append("  ");
                }
                bool last = i == row.Length - 1;
                text.Append(_rightAligned[i] ? row[i].PadLeft(widths[i]) : last ? row[i] : row[i].PadRight(widths[i]));
            }
            text.Append('\n');
        }
        return text.ToString();
    }
}
