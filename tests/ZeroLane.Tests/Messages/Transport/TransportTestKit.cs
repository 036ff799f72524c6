using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using ZeroLane.Messages;
using ZeroLane.Messages.Transport;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Messages.Transport;

public enum SocketKind
{
    Tcp,
    Unix,
}

/// <summary>A listener of either kind (Unix sockets in a private temp directory), removed on dispose.</summary>
internal sealed class TestListener : IDisposable
{
    private readonly TempDirectory? _directory;

    internal TestListener(SocketKind kind, MessageLimits? limits = null)
    {
        Kind = kind;
        if (kind == SocketKind.Tcp)
        {
            Listener = MessageListener.ListenTcp(0, limits: limits);
        }
        else
        {
            _directory = new TempDirectory();
            Listener = MessageListener.ListenUnix(Path.Combine(_directory.Path, "s.sock"), limits: limits);
        }
    }

    internal SocketKind Kind { get; }

    internal MessageListener Listener { get; }

    internal ValueTask<MessageConnection> ConnectAsync(MessageLimits? limits = null) =>
        Kind == SocketKind.Tcp
            ? MessageConnection.ConnectTcpAsync("127.0.0.1", Listener.Port, limits, HangGuard.Token)
            : MessageConnection.ConnectUnixAsync(Listener.Path!, limits, HangGuard.Token);

    /// <summary>A plain socket connected to the listener, for writing raw bytes at the reader.</summary>
    internal Socket ConnectRaw()
    {
        if (Kind == SocketKind.Tcp)
        {
            var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            tcp.Connect(IPAddress.Loopback, Listener.Port);
            return tcp;
        }
        var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        unix.Connect(new UnixDomainSocketEndPoint(Listener.Path!));
        return unix;
    }

    /// <summary>Both ends of one connection: (client, server).</summary>
    internal async Task<(MessageConnection Client, MessageConnection Server)> PairAsync()
    {
        ValueTask<MessageConnection> accept = Listener.AcceptAsync(HangGuard.Token);
        MessageConnection client = await ConnectAsync();
        MessageConnection server = await accept;
        return (client, server);
    }

    public void Dispose()
    {
        Listener.Dispose();
        _directory?.Dispose();
    }
}

internal static class HangGuard
{
    /// <summary>A safety net against hangs only; no test relies on it to pass.</summary>
    internal static CancellationToken Token => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;
}

internal static class TestMessages
{
    /// <summary>A message whose body is its 8-byte sequence number followed by <paramref name="bodyExtra"/> pattern bytes, with parts of the given lengths.</summary>
    internal static Message Numbered(ulong sequence, int bodyExtra = 0, params int[] partLengths)
    {
        var body = new byte[8 + bodyExtra];
        BinaryPrimitives.WriteUInt64BigEndian(body, sequence);
        Patterns.Fill(body.AsSpan(8), sequence);
        var parts = new ReadOnlyMemory<byte>[partLengths.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            parts[i] = Patterns.Create(partLengths[i], sequence * 1000 + (ulong)i);
        }
        return Message.Create(body, parts);
    }

    internal static ulong SequenceOf(Message message) => BinaryPrimitives.ReadUInt64BigEndian(message.Body.Span);

    /// <summary>Asserts that <paramref name="received"/> is what <see cref="Numbered"/> made for its sequence number.</summary>
    internal static void AssertNumbered(Message received, ulong sequence, int bodyExtra, params int[] partLengths)
    {
        Assert.Equal(sequence, SequenceOf(received));
        Patterns.AssertMatches(received.Body.Span[8..], bodyExtra, sequence);
        Assert.Equal(partLengths.Length, received.PartCount);
        for (int i = 0; i < partLengths.Length; i++)
        {
            Patterns.AssertMatches(received.GetPart(i).Span, partLengths[i], sequence * 1000 + (ulong)i);
        }
    }

    /// <summary>The bytes of <paramref name="message"/>'s frame as they appear on the wire.</summary>
    internal static byte[] FrameBytes(Message message)
    {
        var bytes = new byte[MessageEncoding.TotalLength(message)];
        int offset = MessageEncoding.WriteHeader(message, bytes);
        foreach (ReadOnlyMemory<byte> segment in message.ToSequence())
        {
            segment.Span.CopyTo(bytes.AsSpan(offset));
            offset += segment.Length;
        }
        return bytes;
    }

    internal static void AssertSameContent(Message expected, Message actual)
    {
        Assert.True(expected.Body.Span.SequenceEqual(actual.Body.Span), "body differs");
        Assert.Equal(expected.PartCount, actual.PartCount);
        for (int i = 0; i < expected.PartCount; i++)
        {
            Assert.True(expected.GetPart(i).Span.SequenceEqual(actual.GetPart(i).Span), $"part {i} differs");
        }
    }
}
