using System.Buffers;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using ZeroLane.Messages;
using ZeroLane.Messages.Transport;

namespace ZeroLane.MicroBenchmarks;

/// <summary>
/// Sending a message of a 64-byte body and 8 parts of 128 KiB (1 MiB in all) over a connected Unix stream socket
/// whose other end a background thread drains: <see cref="MessageSender.SendAsync(Message, CancellationToken)"/>
/// hands header, body and parts to vectored <c>sendmsg</c> calls as they are, against copying the same bytes into
/// one array first and sending that with <see cref="Socket.Send(byte[], int, int, SocketFlags)"/> (the copy the
/// vectored send avoids), against sending an array that is already contiguous (the socket's own cost), and
/// against the writer sending the same bytes as one 1 MiB part (its own cost without the gather). Default socket
/// buffer sizes, so every send waits for the drain thread several times: the writer by handing the rest to
/// <see cref="Socket.SendAsync(ReadOnlyMemory{byte}, SocketFlags, CancellationToken)"/>, <c>Send</c> by blocking.
/// </summary>
[MemoryDiagnoser]
public class VectoredSendBenchmarks
{
    private const int Parts = 8;
    private const int PartBytes = 128 * 1024;

    private string _directory = null!;
    private Socket _sender = null!;
    private Socket _receiver = null!;
    private Thread _drain = null!;
    private MessageSender _writer = null!;
    private Message _message = null!;
    private Message _onePart = null!;
    private byte[] _contiguous = null!;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("zerolane-microbench-").FullName;
        var endpoint = new UnixDomainSocketEndPoint(Path.Combine(_directory, "send.sock"));
        using (var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            listener.Bind(endpoint);
            listener.Listen(1);
            _sender = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            _sender.Connect(endpoint);
            _receiver = listener.Accept();
        }
        _drain = new Thread(Drain) { IsBackground = true, Name = "drain" };
        _drain.Start();

        MessageBuilder builder = Message.CreateBuilder().WithBody(new byte[64]);
        for (int i = 0; i < Parts; i++)
        {
            byte[] part = new byte[PartBytes];
            part.AsSpan().Fill((byte)(i + 1));
            builder.AddPart(part);
        }
        _message = builder.Build();
        _writer = new MessageSender(_sender);
        _contiguous = new byte[MessageEncoding.TotalLength(_message)];
        Concatenate();
        _onePart = Message.Create(new byte[64], _message.ToSequence().Slice(64).ToArray());
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // The drain thread sees the end of the stream and returns.
        _sender.Shutdown(SocketShutdown.Both);
        _drain.Join();
        _sender.Dispose();
        _receiver.Dispose();
        _message.Dispose();
        _onePart.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>One frame: header, body and 8 parts as separate iovecs, no copy in user space.</summary>
    [Benchmark(Baseline = true)]
    public ValueTask FrameWriterSendAsync() => _writer.SendAsync(_message);

    /// <summary>The same body and 1 MiB of parts as one part: the writer without the gather.</summary>
    [Benchmark]
    public ValueTask FrameWriterSendAsyncOnePart() => _writer.SendAsync(_onePart);

    /// <summary>The same frame's bytes copied into one reused array, then sent with one blocking <c>Send</c> loop.</summary>
    [Benchmark]
    public int ConcatenateThenSocketSend()
    {
        Concatenate();
        return SendAll(_contiguous);
    }

    /// <summary>The already concatenated array sent again: the socket's cost without the copy.</summary>
    [Benchmark]
    public int SocketSendAlreadyContiguous() => SendAll(_contiguous);

    private void Concatenate()
    {
        Span<byte> destination = _contiguous;
        int offset = MessageEncoding.WriteHeader(_message, destination);
        _message.Body.Span.CopyTo(destination[offset..]);
        offset += _message.Body.Length;
        foreach (ReadOnlyMemory<byte> part in _message.Parts)
        {
            part.Span.CopyTo(destination[offset..]);
            offset += part.Length;
        }
    }

    private int SendAll(byte[] bytes)
    {
        int sent = 0;
        while (sent < bytes.Length)
        {
            sent += _sender.Send(bytes, sent, bytes.Length - sent, SocketFlags.None);
        }
        return sent;
    }

    private void Drain()
    {
        byte[] buffer = new byte[1 << 20];
        try
        {
            while (_receiver.Receive(buffer) > 0)
            {
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The benchmark is over.
        }
    }
}
