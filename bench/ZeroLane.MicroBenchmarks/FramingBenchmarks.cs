using System.Buffers;
using BenchmarkDotNet.Attributes;
using ZeroLane.Messages;

namespace ZeroLane.MicroBenchmarks;

/// <summary>
/// The message framing of <see cref="MessageFrame"/> for a message of a 64-byte body and 8 parts of 1 KiB:
/// writing its prefix and header, reading a prefix, and decoding a whole frame into a message whose body and
/// parts are slices of the frame (the header is validated, nothing is copied).
/// </summary>
[MemoryDiagnoser]
public class FramingBenchmarks
{
    private const int Parts = 8;
    private const int PartBytes = 1024;

    private Message _message = null!;
    private byte[] _header = null!;
    private byte[] _frame = null!;
    private ReadOnlyMemory<byte> _afterPrefix;

    [GlobalSetup]
    public void Setup()
    {
        MessageBuilder builder = Message.CreateBuilder().WithBody(new byte[64]);
        for (int i = 0; i < Parts; i++)
        {
            byte[] part = new byte[PartBytes];
            part.AsSpan().Fill((byte)i);
            builder.AddPart(part);
        }
        _message = builder.Build();
        _header = new byte[MessageEncoding.HeaderSize(Parts)];
        _frame = new byte[MessageEncoding.TotalLength(_message)];
        int headerSize = MessageEncoding.WriteHeader(_message, _frame);
        _message.ToSequence().CopyTo(_frame.AsSpan(headerSize));
        _afterPrefix = _frame.AsMemory(MessageEncoding.PrefixSize);
    }

    [GlobalCleanup]
    public void Cleanup() => _message.Dispose();

    /// <summary>The 8-byte prefix and the 88-byte header (part count, flags, body and part lengths).</summary>
    [Benchmark]
    public int WriteHeader() => MessageEncoding.WriteHeader(_message, _header);

    /// <summary>The length prefix, checked against the default limits.</summary>
    [Benchmark]
    public long ReadPrefix() => MessageEncoding.ReadPrefix(_frame, MessageLimits.Default);

    /// <summary>The frame after its prefix, validated and sliced into a message, which is then disposed.</summary>
    [Benchmark]
    public int Decode()
    {
        using Message message = MessageEncoding.Decode(_afterPrefix, MessageLimits.Default);
        return message.PartCount;
    }
}
