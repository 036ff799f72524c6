using ZeroLane.Bench;

namespace ZeroLane.Tests.Bench;

/// <summary>
/// The bench table sizes every column to its widest cell, so a transport name longer than any heading (issue 10, point 4:
/// <c>message-unix-batched</c> and the like used to push the rest of their row out of line) never breaks the alignment.
/// </summary>
public sealed class BenchTableRendering
{
    private const string LongTransport = "a-transport-name-far-longer-than-any-column-heading-of-the-table";

    private static readonly BenchResult[] s_rows =
    [
        new() { Transport = "zerolane", Mode = "throughput", Wait = "busy-spin", Cpus = "0,1", CrossCoreNs = 64.6, FrameBytes = 64, FramesPerSec = 11_234_567, BytesPerSec = 11_234_567 * 64.0 },
        new() { Transport = LongTransport, Mode = "latency", FrameBytes = 1 << 20, FramesPerSec = 3_000, BytesPerSec = 3_000.0 * (1 << 20), P50Ns = 123_456, P99Ns = 200_000, P999Ns = 300_000, MaxNs = 9_876_543 },
        new() { Transport = "x", Mode = "open", FrameBytes = 4L << 30, FramesPerSec = 1, P50Ns = 7, P99Ns = 8, P999Ns = 9, MaxNs = 10 },
    ];

    private readonly IReadOnlyList<string> _lines = BenchTable.Render(s_rows);

    [Fact]
    public void TheTableIsAHeadingARuleAndOneLinePerRow()
    {
        Assert.Equal(2 + s_rows.Length, _lines.Count);
        Assert.Matches("^-+$", _lines[1]);
        Assert.Contains(LongTransport, _lines[3]);
    }

    [Theory]
    [InlineData("mode", new[] { "throughput", "latency", "open" })]
    [InlineData("wait", new[] { "busy-spin", "-", "-" })]
    [InlineData("cpus", new[] { "0,1", "-", "-" })]
    public void LeftAlignedCellsStartWhereTheirHeadingStartsDespiteALongTransportName(string heading, string[] cells)
    {
        int column = StartOf(_lines[0], heading);
        for (int row = 0; row < cells.Length; row++)
        {
            Assert.Equal(column, StartOf(_lines[2 + row], cells[row], from: column - 1));
        }
    }

    [Theory]
    [InlineData("frames/s", new[] { "11,234,567", "3,000", "1" })]
    [InlineData("p50 ns", new[] { "-", "123,456", "7" })]
    [InlineData("max ns", new[] { "-", "9,876,543", "10" })]
    [InlineData("x-core ns", new[] { "65", "-", "-" })]
    public void RightAlignedCellsEndWhereTheirHeadingEndsDespiteALongTransportName(string heading, string[] cells)
    {
        int end = StartOf(_lines[0], heading) + heading.Length;
        for (int row = 0; row < cells.Length; row++)
        {
            string line = _lines[2 + row];
            Assert.Equal(cells[row], line[(end - cells[row].Length)..end]);
            Assert.True(end == line.Length || line[end] == ' ', line);
            Assert.Equal(' ', line[end - cells[row].Length - 1]);
        }
    }

    [Fact]
    public void TheRuleIsAsLongAsTheHeading()
    {
        Assert.Equal(_lines[0].Length, _lines[1].Length);
    }

    /// <summary>Index of <paramref name="text"/> as a whole cell (spaces or the line's ends around it), searching from <paramref name="from"/>.</summary>
    private static int StartOf(string line, string text, int from = 0)
    {
        for (int index = line.IndexOf(text, Math.Max(0, from), StringComparison.Ordinal); index >= 0; index = line.IndexOf(text, index + 1, StringComparison.Ordinal))
        {
            bool startsCell = index == 0 || line[index - 1] == ' ';
            bool endsCell = index + text.Length == line.Length || line[index + text.Length] == ' ';
            if (startsCell && endsCell)
            {
                return index;
            }
        }
        return -1;
    }
}
