using System.Diagnostics;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Arrays;

/// <summary>
/// Runs Python scripts with NumPy in /usr/bin/python3 (the system Python; the python3 on PATH may lack NumPy).
/// A missing NumPy fails the test with the command that installs it (<see cref="Prerequisites.NumPy"/>): these tests
/// must never pass by skipping.
/// </summary>
internal static class NumPy
{
    internal const string Python = Prerequisites.SystemPython;

    /// <summary>Hang guard only; never a pass/fail criterion.</summary>
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    /// <summary>Python definitions shared by the scripts: <c>expected(dtype, shape, order)</c> builds the formula of <see cref="ArrayTypes"/>.</summary>
    internal const string Prelude = """
        import sys, json
        import numpy as np

        def expected(dt, shape, order):
            dt = np.dtype(dt)
            n = int(np.prod(shape, dtype=np.int64))
            v = (np.arange(n, dtype=np.int64) * 7 + 3) % 100
            if dt.kind == 'b':
                a = v % 2 == 1
            elif dt.kind in 'iu':
                a = v.astype(dt)
            elif dt.kind == 'f':
                a = (v + 0.5).astype(dt)
            else:
                a = ((v + 0.5) - 1j * v).astype(dt)
            a = a.reshape(shape)
            return np.asfortranarray(a) if order == 'F' else np.ascontiguousarray(a)

        """;

    /// <summary>Runs <paramref name="script"/> (after <see cref="Prelude"/>) and returns its stdout; fails the test if it fails.</summary>
    internal static string Run(string script, params string[] arguments)
    {
        Prerequisites.NumPy.Require();
        var startInfo = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add(Prelude + script);
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        using var process = Process.Start(startInfo)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(s_timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{Python} did not finish within {s_timeout.TotalSeconds} s.");
        }
        process.WaitForExit();
        string error = stderr.Result;
        if (process.ExitCode != 0)
        {
            Assert.Fail($"{Python} failed with exit code {process.ExitCode}:\n{error}\n{stdout.Result}");
        }
        return stdout.Result;
    }

    internal static string OrderLetter(ZeroLane.Arrays.ArrayOrder order) => order == ZeroLane.Arrays.ArrayOrder.Fortran ? "F" : "C";

    internal static string ShapeJson(long[] shape) => "[" + string.Join(",", shape) + "]";
}
