using System.Net;
using System.Net.Sockets;
using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Cli;

/// <summary>Each end of a bridge that cannot do its job exits with code 1 and one line saying why.</summary>
public sealed class BridgeFailuresAreOneLineErrors : BufferTest
{
    [Fact]
    public async Task SendFailsWhenNothingListensAtTheGivenAddress()
    {
        string near = NewName("br-nolisten");
        int port = BridgeProcesses.FreePort();

        ToolResult result = await ToolProcess.RunAsync("bridge", "send", near, "--to", $"127.0.0.1:{port}", "--connect-timeout", "0.3");

        ToolProcess.AssertOneLineError(result, $"could not connect to 127.0.0.1:{port}");
        Assert.Empty(TestBuffers.Leftovers(near));
    }

    [Fact]
    public async Task ReceiveFailsWhenNoReaderCreatesItsBuffer()
    {
        string far = NewName("br-nobuffer");
        int port = BridgeProcesses.FreePort();
        using ToolProcess receive = ToolProcess.Start("bridge", "receive", far, "--listen", $"127.0.0.1:{port}", "--connect-timeout", "0.3");
        using Socket client = await ConnectWithRetryAsync(port, receive);

        ToolResult result = await receive.WaitAsync();

        ToolProcess.AssertOneLineError(result, $"buffer '{far}' did not appear");
    }

    [Fact]
    public async Task ReceiveFailsWhenTheSenderDiesBeforeTheEndOfTheStream()
    {
        string near = NewName("br-kill");
        string far = NewName("br-kill-far");
        using var farReader = new RingReader(far, new ReaderOptions { PayloadSize = 64 * 1024 });
        using BridgeProcesses bridge = await BridgeProcesses.StartAsync(near, far, "64K");
        using var nearWriter = new RingWriter(near);
        nearWriter.Write(Patterns.Create(100, 0), Safety.Timeout);
        // The frame crossing the bridge is the signal that the connection is up.
        using (Frame first = farReader.Read(Safety.Timeout))
        {
            Patterns.AssertMatches(first.Span, 100, 0);
        }

        bridge.Send.Kill();
        ToolResult result = await bridge.Receive.WaitAsync();

        ToolProcess.AssertOneLineError(result, "sender closed the connection before the end of the stream");
        Assert.Equal(ReadStatus.WriterDisconnected, farReader.TryRead(out _, Safety.Timeout));
    }

    [Theory]
    [InlineData("receive", "--listen", "localhost:x", "is not PORT or ADDRESS:PORT")]
    [InlineData("send", "--to", "127.0.0.1", "is not HOST:PORT")]
    [InlineData("send", "--to", "127.0.0.1:70000", "is not HOST:PORT")]
    public async Task AnAddressThatCannotBeParsedIsRefused(string side, string option, string value, string expected)
    {
        ToolResult result = await ToolProcess.RunAsync("bridge", side, NewName("br-parse"), option, value);

        ToolProcess.AssertOneLineError(result, expected);
    }

    private static async Task<Socket> ConnectWithRetryAsync(int port, ToolProcess listener)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
                return socket;
            }
            catch (SocketException) when (deadline.Elapsed < ToolProcess.SafetyTimeout && !listener.HasExited)
            {
                socket.Dispose();
                await Task.Delay(20);
            }
        }
    }
}
