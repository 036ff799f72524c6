using ZeroLane.Messages;

namespace ZeroLane.Tests.Messages.Framing;

/// <summary>
/// ReadPrefix checks the announced length before anything is allocated for the frame: an accepted prefix
/// allocates nothing at all, and a refused one allocates only its exception, whatever length it announced.
/// </summary>
public sealed class MaximumFrameLengthIsEnforcedWithoutAllocating
{
    [Fact]
    public void ReadingAnAcceptedPrefixAllocatesNothing()
    {
        byte[] prefix = HandMadeFrame.Prefix(200UL << 20);
        MessageLimits limits = MessageLimits.Default;
        MessageEncoding.ReadPrefix(prefix, limits);

        long before = GC.GetAllocatedBytesForCurrentThread();
        long length = MessageEncoding.ReadPrefix(prefix, limits);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(200L << 20, length);
        Assert.Equal(0, allocated);
    }

    [Theory]
    [InlineData(256UL * 1024 * 1024 + 1)]
    [InlineData(1UL << 40)]
    [InlineData(ulong.MaxValue)]
    public void RefusingAHugeAnnouncedLengthAllocatesOnlyTheException(ulong announced)
    {
        byte[] prefix = HandMadeFrame.Prefix(announced);
        MessageLimits limits = MessageLimits.Default;
        Assert.Throws<MessageFormatException>(() => MessageEncoding.ReadPrefix(prefix, limits));

        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            MessageEncoding.ReadPrefix(prefix, limits);
        }
        catch (MessageFormatException)
        {
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // The exception, its message and its stack trace: a few kilobytes, never anything near the announced length.
        Assert.InRange(allocated, 1, 16 * 1024);
    }
}
