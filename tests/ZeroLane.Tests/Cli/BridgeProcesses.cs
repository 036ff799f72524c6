using System.Net;
using System.Net.Sockets;
using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Cli;

/// <summary>
/// Both ends of a <c>zerolane bridge</c> as child processes over loopback: <c>receive FAR</c> listening on a
/// free port and writing into buffer FAR (whose reader the test creates first), and <c>send NEAR</c> creating
/// buffer NEAR and forwarding it. Kills both on dispose if they are still running.
/// </summary>
internal sealed class BridgeProcesses : IDisposable
{
    private BridgeProcesses(ToolProcess receive, ToolProcess send)
    {
        Receive = receive;
        Send = send;
    }

    internal ToolProcess Receive { get; }

    internal ToolProcess Send { get; }

    /// <summary>Starts both ends and waits until buffer <paramref name="near"/> exists with the sender as its reader.</summary>
    internal static async Task<BridgeProcesses> StartAsync(string near, string far, string nearPayloadSize)
    {
        int port = FreePort();
        ToolProcess receive = ToolProcess.Start("bridge", "receive", far, "--listen", $"127.0.0.1:{port}");
        ToolProcess? send = null;
        try
        {
            send = ToolProcess.Start("bridge", "send", near, "--to", $"127.0.0.1:{port}", "--payload-size", nearPayloadSize);
            await ToolProcess.WaitForReaderAsync(near, send);
            return new BridgeProcesses(receive, send);
        }
        catch
        {
            send?.Dispose();
            receive.Dispose();
            throw;
        }
    }

    /// <summary>A loopback port nobody listens on right now (bind port 0, note the port, close).</summary>
    internal static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>Waits for both ends to exit and asserts they exited with 0.</summary>
    internal async Task AssertBothSucceedAsync()
    {
        ToolResult sent = await Send.WaitAsync();
        ToolResult received = await Receive.WaitAsync();
        Assert.True(sent.ExitCode == 0, "bridge send: " + sent);
        Assert.True(received.ExitCode == 0, "bridge receive: " + received);
    }

    public void Dispose()
    {
        Send.Dispose();
        Receive.Dispose();
    }
}

/// <summary>Reads the far buffer on a dedicated thread, checking that every frame follows the test's pattern, in order.</summary>
internal static class FarReader
{
    /// <summary>Length of frame <paramref name="index"/> (0-based) of the test streams.</summary>
    internal static int LengthOf(int index, int largest) => index * 7_919 % largest + 1;

    /// <summary>
    /// Reads frames until the writer disconnects, holding up to <paramref name="hold"/> frames before releasing the
    /// oldest; checks sequence numbers and content; returns the number of frames.
    /// </summary>
    internal static Task<int> ReadAllAsync(RingReader reader, int largest, int hold = 0, ManualResetEventSlim? resume = null) => Safety.OnThread(() =>
    {
        resume?.Wait(Safety.Timeout * 4);
        var held = new Queue<Frame>();
        int count = 0;
        try
        {
            while (true)
            {
                ReadStatus status = reader.TryRead(out Frame frame, Safety.Timeout);
                if (status == ReadStatus.WriterDisconnected)
                {
                    return count;
                }
                Assert.True(status == ReadStatus.Success, $"frame {count + 1}: {status}");
                Assert.Equal((ulong)count + 1, frame.Sequence);
                Patterns.AssertMatches(frame.Span, LengthOf(count, largest), (ulong)count);
                count++;
                held.Enqueue(frame);
                while (held.Count > hold)
                {
                    held.Dequeue().Dispose();
                }
            }
        }
        finally
        {
            while (held.Count > 0)
            {
                held.Dequeue().Dispose();
            }
        }
    });
}
