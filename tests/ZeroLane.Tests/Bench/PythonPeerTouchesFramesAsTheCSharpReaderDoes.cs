using System.Diagnostics;
using System.Globalization;
using ZeroLane.Bench;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Bench;

/// <summary>
/// The python part's peer (bench/ZeroLane.Bench/python/python_peer.py) touches a frame exactly as the C# reader does
/// (<see cref="FrameToucher.Touch"/>: one 8-byte word per 4 KiB page plus the last 8 bytes): the same sum for the same
/// bytes, at every size where the page words and the last word meet differently. So its rows do the work the C# rows do.
/// </summary>
public sealed class PythonPeerTouchesFramesAsTheCSharpReaderDoes : IDisposable
{
    private static readonly int[] s_sizes = [1, 7, 8, 9, 64, 4095, 4096, 4100, 4104, 4105, 8200, 1 << 20, BenchSettings.VideoFrameBytes];

    private readonly string _scratch = Directory.CreateTempSubdirectory("zerolane-python-touch-").FullName;

    [Fact]
    public async Task EverySizeSumsToTheSameChecksum()
    {
        Assert.True(PythonPeer.TryFind(_scratch, out PythonPeer? peer, out string? missing), missing);
        string sizes = string.Join(',', s_sizes.Select(size => size.ToString(CultureInfo.InvariantCulture)));
        string code = $$"""
            import sys
            sys.path.insert(0, {{Quote(_scratch)}})
            import python_peer
            period = bytes((i * 31 + 7) & 0xFF for i in range(256))
            for n in ({{sizes}},):
                data = (period * (n // 256 + 1))[:n]
                print(n, python_peer.make_toucher(n)(memoryview(data).toreadonly()) & 0xFFFFFFFFFFFFFFFF)
            """;
        var startInfo = new ProcessStartInfo(Prerequisites.SystemPython) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add(code);
        if (peer!.PackageRoot is string root)
        {
            startInfo.Environment["PYTHONPATH"] = root;
        }
        startInfo.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        using Process python = Process.Start(startInfo)!;
        Task<string> error = python.StandardError.ReadToEndAsync();
        string output = await python.StandardOutput.ReadToEndAsync();
        Assert.True(python.WaitForExit(TimeSpan.FromMinutes(1)), "python did not finish within a minute");
        Assert.True(python.ExitCode == 0, $"python exited with code {python.ExitCode}: {await error}");

        var expected = new List<string>();
        foreach (int size in s_sizes)
        {
            byte[] frame = new byte[size];
            FrameToucher.FillPattern(frame);
            expected.Add(string.Create(CultureInfo.InvariantCulture, $"{size} {FrameToucher.Touch(frame)}"));
        }
        Assert.Equal(expected, output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    private static string Quote(string text) => "'" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    public void Dispose()
    {
        try
        {
            Directory.Delete(_scratch, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
