using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ZeroLane.Duplex;
using ZeroLane.Messages;
using ZeroLane.Messages.Transport;
using ZeroLane.TestPeer;
using Xunit;

namespace ZeroLane.Tests.Duplex.Sockets;

/// <summary>
/// PROTOCOL.md section 15 byte by byte: requests and responses built and checked here by hand on raw sockets, so the
/// format is pinned independently of the client's and server's own code.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class WireFormatOnSockets : SocketDuplexTest
{
    private const byte KindRequest = 1, KindAnswer = 2, KindFailure = 3, KindGoodbye = 4;

    [Fact]
    public void AHandBuiltRequestIsAnsweredWithTheDocumentedBytes()
    {
        (_, Endpoint endpoint) = StartServerPeer(DuplexTransport.Tcp);
        using Socket raw = ConnectRaw(endpoint.Port);

        byte[] request = Frame(KindRequest, 0x0102030405060708, "hello", "xyz");
        raw.Send(request);
        byte[] answer = ReadFrame(raw);
        // An echo: the same bytes, but for the kind (offset 8 + 16 + 2 * 8 + 5).
        byte[] expected = (byte[])request.Clone();
        expected[45] = KindAnswer;
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(answer));
        Assert.Equal(56UL, BinaryPrimitives.ReadUInt64BigEndian(answer));

        raw.Send(Frame(KindRequest, 9, SocketDuplexScenarios.Fail));
        byte[] failure = ReadFrame(raw);
        Assert.Equal(Convert.ToHexString(Frame(KindFailure, 9, $"InvalidOperationException: {DuplexScenarios.FailureText}")), Convert.ToHexString(failure));
    }

    [Fact]
    public void APeerThatIsNotADuplexClientGetsAGoodbyeThatSaysSoAndIsDisconnected()
    {
        (_, Endpoint endpoint) = StartServerPeer(DuplexTransport.Tcp);
        using Socket raw = ConnectRaw(endpoint.Port);

        // A plain message (MessageEncoding, section 7) with a 3-byte body and no parts.
        raw.Send([0, 0, 0, 0, 0, 0, 0, 19, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, (byte)'a', (byte)'b', (byte)'c']);
        byte[] goodbye = ReadFrame(raw);
        Assert.Equal(1U, BinaryPrimitives.ReadUInt32BigEndian(goodbye.AsSpan(8)));
        Assert.Equal(16UL, BinaryPrimitives.ReadUInt64BigEndian(goodbye.AsSpan(16)));
        ReadOnlySpan<byte> envelope = goodbye.AsSpan(32, 16);
        Assert.Equal("5A4C4458", Convert.ToHexString(envelope[..4]));
        Assert.Equal(1, envelope[4]);
        Assert.Equal(KindGoodbye, envelope[5]);
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(envelope[6..]));
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64BigEndian(envelope[8..]));
        string reason = Encoding.UTF8.GetString(goodbye.AsSpan(48));
        Assert.Contains("not a ZeroLane duplex call", reason);
        Assert.Equal((long)goodbye.Length - 48, (long)BinaryPrimitives.ReadUInt64BigEndian(goodbye.AsSpan(24)));
        Assert.Equal(0, raw.Receive(new byte[16]));
    }

    [Fact]
    public async Task TheClientSendsTheDocumentedBytesAndReadsHandBuiltResponses()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        Task<Socket> accept = listener.AcceptAsync();
        DuplexSocketClient client = await ConnectAsync(new Endpoint(DuplexTransport.Tcp, ((IPEndPoint)listener.LocalEndPoint!).Port, null));
        using Socket raw = await accept.WaitAsync(HangGuard);
        raw.ReceiveTimeout = (int)HangGuard.TotalMilliseconds;

        using Message first = Message.Create("ab"u8.ToArray(), "c"u8.ToArray());
        Task<Message> firstCall = client.RequestAsync(first, HangGuard).AsTask();
        Assert.Equal(Convert.ToHexString(Frame(KindRequest, 1, "ab", "c")), Convert.ToHexString(ReadFrame(raw)));
        raw.Send(Frame(KindAnswer, 1, "answer", "p1", "p22"));
        using (Message response = await firstCall.WaitAsync(HangGuard))
        {
            Assert.Equal("answer", Encoding.ASCII.GetString(response.Body.Span));
            Assert.Equal(["p1", "p22"], response.Parts.ToArray().Select(part => Encoding.ASCII.GetString(part.Span)));
            Assert.Equal(11, response.Length);
        }

        using Message second = Message.Create("x"u8.ToArray());
        Task<Message> secondCall = client.RequestAsync(second, HangGuard).AsTask();
        Assert.Equal(Convert.ToHexString(Frame(KindRequest, 2, "x")), Convert.ToHexString(ReadFrame(raw)));
        raw.Send(Frame(KindFailure, 2, "Boom: it broke"));
        var failed = await Assert.ThrowsAsync<DuplexRequestFailedException>(() => secondCall.WaitAsync(HangGuard));
        Assert.Equal("Boom: it broke", failed.RemoteError);

        Task<Message> thirdCall = client.RequestAsync(second, HangGuard).AsTask();
        ReadFrame(raw);
        byte[] newer = Frame(KindAnswer, 3, "x");
        newer[36] = 2;
        raw.Send(newer);
        var faulted = await Assert.ThrowsAsync<ZeroLane.MessageConnectionFaultedException>(() => thirdCall.WaitAsync(HangGuard));
        Assert.Contains("version 2", Assert.IsType<MessageFormatException>(faulted.InnerException).Message);
    }

    [Fact]
    public async Task AServerThatAnswersPlainMessagesIsToldApartClearly()
    {
        using MessageListener listener = MessageListener.ListenTcp(0);
        ValueTask<MessageConnection> accept = listener.AcceptAsync(CancellationToken.None);
        DuplexSocketClient client = await ConnectAsync(new Endpoint(DuplexTransport.Tcp, listener.Port, null));
        using MessageConnection plain = await accept;

        using Message request = Message.Create("hi"u8.ToArray());
        Task<Message> call = client.RequestAsync(request, HangGuard).AsTask();
        (await plain.ReceiveAsync(HangGuard)).Dispose();
        using Message notAnEnvelope = Message.Create("plain answer"u8.ToArray(), "part"u8.ToArray());
        await plain.SendAsync(notAnEnvelope, HangGuard);

        var faulted = await Assert.ThrowsAsync<ZeroLane.MessageConnectionFaultedException>(() => call.WaitAsync(HangGuard));
        Assert.Contains("not a ZeroLane duplex call", faulted.Message);
        Assert.Contains("DuplexSocketServer", faulted.Message);
    }

    /// <summary>One message of a duplex stream, built byte by byte as section 15 (and section 7 around it) describes.</summary>
    private static byte[] Frame(byte kind, ulong correlationId, params string[] bodyAndParts) =>
        FrameOf(kind, correlationId, Encoding.UTF8.GetBytes(bodyAndParts[0]), [.. bodyAndParts.Skip(1).Select(Encoding.UTF8.GetBytes)]);

    private static byte[] FrameOf(byte kind, ulong correlationId, byte[] body, byte[][] parts)
    {
        // The wire message: body = envelope; part 0 = the carried body; parts 1.. = the carried parts.
        byte[][] wireParts = [body, .. parts];
        int headerLength = 16 + 8 * wireParts.Length;
        int length = headerLength + 16 + wireParts.Sum(part => part.Length);
        var frame = new byte[8 + length];
        BinaryPrimitives.WriteUInt64BigEndian(frame, (ulong)length);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), (uint)wireParts.Length);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(12), 0);
        BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(16), 16);
        for (int i = 0; i < wireParts.Length; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(24 + 8 * i), (ulong)wireParts[i].Length);
        }
        int offset = 8 + headerLength;
        "ZLDX"u8.CopyTo(frame.AsSpan(offset));
        frame[offset + 4] = 1;
        frame[offset + 5] = kind;
        BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(offset + 8), correlationId);
        offset += 16;
        foreach (byte[] part in wireParts)
        {
            part.CopyTo(frame.AsSpan(offset));
            offset += part.Length;
        }
        return frame;
    }

    private static Socket ConnectRaw(int port)
    {
        var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        raw.Connect(IPAddress.Loopback, port);
        raw.ReceiveTimeout = (int)HangGuard.TotalMilliseconds;
        return raw;
    }

    /// <summary>Reads one whole message (prefix included) off a raw socket.</summary>
    private static byte[] ReadFrame(Socket raw)
    {
        byte[] prefix = ReadExactly(raw, 8);
        long length = (long)BinaryPrimitives.ReadUInt64BigEndian(prefix);
        Assert.InRange(length, 16, 1 << 20);
        return [.. prefix, .. ReadExactly(raw, (int)length)];
    }

    private static byte[] ReadExactly(Socket raw, int count)
    {
        var bytes = new byte[count];
        int read = 0;
        while (read < count)
        {
            int got = raw.Receive(bytes, read, count - read, SocketFlags.None);
            Assert.True(got > 0, $"the peer closed after {read} of {count} bytes");
            read += got;
        }
        return bytes;
    }
}
