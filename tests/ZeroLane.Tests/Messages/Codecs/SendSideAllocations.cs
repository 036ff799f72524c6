using ZeroLane.Messages;
using ZeroLane.Messages.Codecs;
using Xunit.Abstractions;

namespace ZeroLane.Tests.Messages.Codecs;

/// <summary>
/// What the send side allocates per message in steady state. The codec and the header writer allocate nothing;
/// MessageBuilder and Message still do (a builder, its lists, the part and owner arrays, the message), which the
/// last test measures and reports (test output) without asserting, until a reusable builder removes it.
/// </summary>
public sealed class SendSideAllocations(ITestOutputHelper output)
{
    private const int Messages = 1000;

    private readonly byte[] _body = new byte[64];
    private readonly byte[] _part0 = new byte[4096];
    private readonly byte[] _part1 = new byte[65536];
    private readonly byte[] _header = new byte[MessageEncoding.HeaderSize(8)];

    [Fact]
    public void WritingTheHeaderOfAMessageAllocatesNothing()
    {
        using Message message = Message.Create(_body, _part0, _part1);
        MessageEncoding.WriteHeader(message, _header);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Messages; i++)
        {
            MessageEncoding.WriteHeader(message, _header);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void EncodingRawBytesIntoABuilderAllocatesNothing()
    {
        MessageBuilder builder = Message.CreateBuilder();
        ReadOnlyMemory<byte> body = _body;
        BytesCodec.Instance.Encode(body, builder);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Messages; i++)
        {
            BytesCodec.Instance.Encode(body, builder);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void BuildingAMessageAllocatesWhatMessageBuilderAndMessageNeedAndTheTestReportsHowMuch()
    {
        ReadOnlyMemory<byte>[] parts = [_part0, _part1];
        var multipart = new Multipart<ReadOnlyMemory<byte>>(_body, parts);
        ReadOnlyMemory<byte> body = _body;

        long bodyOnly = PerMessage(() =>
        {
            using Message message = BytesCodec.Instance.ToMessage(body);
            MessageEncoding.WriteHeader(message, _header);
        });
        long twoParts = PerMessage(() =>
        {
            using Message message = MultipartBytesCodec.Instance.ToMessage(multipart);
            MessageEncoding.WriteHeader(message, _header);
        });
        long unmanaged = PerMessage(() =>
        {
            using Message message = UnmanagedCodec<long>.Instance.ToMessage(42L);
            MessageEncoding.WriteHeader(message, _header);
        });

        output.WriteLine($"bytes allocated per message (encode + build + header + dispose): raw body {bodyOnly}, raw body + 2 parts {twoParts}, unmanaged long {unmanaged}");
    }

    private static long PerMessage(Action send)
    {
        for (int i = 0; i < 100; i++)
        {
            send();
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Messages; i++)
        {
            send();
        }
        return (GC.GetAllocatedBytesForCurrentThread() - before) / Messages;
    }
}
