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
    public async Task ReceiveFailsWhenNoReaderCreatesItsBufferAndTellsItsPeerWhy()
    {
        string far = NewName("br-nobuffer");
        int port = BridgeProcesses.FreePort();
        using ToolProcess receive = ToolProcess.Start("bridge", "receive", far, "--listen", $"127.0.0.1:{port}", "--connect-timeout", "0.3");
        string reply;
        using (Socket client = await ConnectWithRetryAsync(port, receive))
        {
            // What the receiving end says before it closes: the "failed" reply with its reason.
            reply = await ReadToEndAsync(client);
        }
        ToolResult result = await receive.WaitAsync();

        ToolProcess.AssertOneLineError(result, $"buffer '{far}' did not appear within 0.3 s: start its reader on this host first");
        Assert.Contains("FAIL", reply);
        Assert.Contains($"buffer '{far}' did not appear on the receiving host within 0.3 s", reply);
    }

    [Fact]
    public async Task SendFailsAndNeverCreatesItsBufferWhenTheFarBufferDoesNotAppear()
    {
        string near = NewName("br-farmissing");
        string far = NewName("br-farmissing-far");
        int port = BridgeProcesses.FreePort();
        using ToolProcess receive = ToolProcess.Start("bridge", "receive", far, "--listen", $"127.0.0.1:{port}", "--connect-timeout", "0.3");
        using ToolProcess send = ToolProcess.Start("bridge", "send", near, "--to", $"127.0.0.1:{port}", "--payload-size", "64K");

        ToolResult sent = await send.WaitAsync();
        ToolResult received = await receive.WaitAsync();

        ToolProcess.AssertOneLineError(sent, $"The receiving end failed: buffer '{far}' did not appear on the receiving host within 0.3 s");
        Assert.Contains($"Buffer '{near}' was not created, so nothing could be written to it.", sent.Error);
        ToolProcess.AssertOneLineError(received, $"buffer '{far}' did not appear within 0.3 s");
        Assert.Empty(TestBuffers.Leftovers(near));
    }

    [Fact]
    public async Task SendCreatesNoBufferBeforeTheReceivingEndIsReady()
    {
        string near = NewName("br-notready");
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        using ToolProcess send = ToolProcess.Start("bridge", "send", near, "--to", $"127.0.0.1:{port}", "--payload-size", "64K");

        // Connected, but this end never says it is ready: no buffer, so no writer can put frames where they would be lost.
        using (Socket accepted = await listener.AcceptAsync().WaitAsync(ToolProcess.SafetyTimeout))
        {
            Assert.Equal(ConnectStatus.TimedOut, RingWriter.TryConnect(near, out _, TimeSpan.Zero));
        }
        ToolResult sent = await send.WaitAsync();

        ToolProcess.AssertOneLineError(sent, "The receiving end closed the connection without confirming delivery");
        Assert.Contains($"Buffer '{near}' was not created", sent.Error);
        Assert.Empty(TestBuffers.Leftovers(near));
    }

    [Fact]
    public async Task SendExitsWithTheCountOfFramesNotDeliveredWhenTheFarReaderLeaves()
    {
        string near = NewName("br-farleft");
        string far = NewName("br-farleft-far");
        var farReader = new RingReader(far, new ReaderOptions { PayloadSize = 64 * 1024 });
        try
        {
            using BridgeProcesses bridge = await BridgeProcesses.StartAsync(near, far, "64K");
            using var nearWriter = new RingWriter(near);
            for (int i = 1; i <= 5; i++)
            {
                nearWriter.Write(Patterns.Create(100, (ulong)i), Safety.Timeout);
            }
            for (int i = 1; i <= 5; i++)
            {
                using Frame frame = farReader.Read(Safety.Timeout);
            }

            farReader.Dispose();
            nearWriter.Write(Patterns.Create(100, 6), Safety.Timeout);
            ToolResult sent = await bridge.Send.WaitAsync();
            ToolResult received = await bridge.Receive.WaitAsync();

            ToolProcess.AssertOneLineError(sent, "The receiving end failed: ");
            Assert.Contains($"1 of the 6 frames taken from buffer '{near}' were not delivered (5 were).", sent.Error);
            ToolProcess.AssertOneLineError(received, "reader");
            // The near buffer went with its sender: its writer is told at once instead of writing into a dead end.
            Assert.Equal(WriteStatus.ReaderGone, nearWriter.TryWrite(Patterns.Create(100, 7), Safety.Timeout));
        }
        finally
        {
            farReader.Dispose();
        }
    }

    [Fact]
    public async Task SendFailsWhenTheReceivingEndIsKilled()
    {
        string near = NewName("br-recvkill");
        string far = NewName("br-recvkill-far");
        using var farReader = new RingReader(far, new ReaderOptions { PayloadSize = 64 * 1024 });
        using BridgeProcesses bridge = await BridgeProcesses.StartAsync(near, far, "64K");
        using var nearWriter = new RingWriter(near);
        for (int i = 1; i <= 3; i++)
        {
            nearWriter.Write(Patterns.Create(100, (ulong)i), Safety.Timeout);
        }
        for (int i = 1; i <= 3; i++)
        {
            using Frame frame = farReader.Read(Safety.Timeout);
        }

        bridge.Receive.Kill();
        ToolResult sent = await bridge.Send.WaitAsync();

        // No confirmation came: the frames the far reader happened to get are not claimed as delivered.
        ToolProcess.AssertOneLineError(sent, $"None of the 3 frames taken from buffer '{near}' was confirmed delivered.");
        Assert.Equal(WriteStatus.ReaderGone, nearWriter.TryWrite(Patterns.Create(100, 4), Safety.Timeout));
    }

    private static async Task<string> ReadToEndAsync(Socket socket)
    {
        var received = new MemoryStream();
        byte[] buffer = new byte[4096];
        int count;
        while ((count = await socket.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(ToolProcess.SafetyTimeout)) > 0)
        {
            received.Write(buffer, 0, count);
        }
        return System.Text.Encoding.UTF8.GetString(received.ToArray());
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

    [Theory]
    [InlineData("send", "--to", "127.0.0.1:1", "--user", "alice")]
    [InlineData("send", "--to", "127.0.0.1:1", "--creds", "/nonexistent.creds")]
    [InlineData("receive", "--listen", "1", "--tls-ca", "/nonexistent.pem")]
    public async Task NatsCredentialsGivenToATcpBridgeAreRefusedNotIgnored(string side, string option, string value, string natsOption, string natsValue)
    {
        ToolResult result = await ToolProcess.RunAsync("bridge", side, NewName("br-tcpcreds"), option, value, natsOption, natsValue);

        ToolProcess.AssertOneLineError(result, $"{natsOption} applies to --nats only");
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
