using System.Buffers;
using ZeroLane.Buffers;
using ZeroLane.Messages;
using ZeroLane.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ZeroLane.Tests.Messages.Ring;

/// <summary>
/// A <see cref="MessageBuilder"/> reused with <see cref="MessageBuilder.Reset"/> refills the message it built before once
/// that one is disposed, so building a message of several parts, sending it through the ring and reading it back allocates
/// nothing in steady state.
/// </summary>
public sealed class ReusedBuildersBuildAndSendWithoutAllocating(ITestOutputHelper output) : BufferTest
{
    private readonly ITestOutputHelper _output = output;

    [Fact]
    public void BuildingAndSendingAMessageOfSeveralPartsAllocatesNothingOnceWarm()
    {
        string name = NewName("reuse-alloc");
        using var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 1 << 20 });
        using var writer = new RingWriter(name);
        byte[] body = Patterns.Create(24, 7);
        byte[][] parts = [Patterns.Create(4096, 8), Patterns.Create(100, 9), Patterns.Create(8192, 10), Patterns.Create(1, 11)];
        var builder = new MessageBuilder();
        long bytesRead = 0;

        void Cycle()
        {
            builder.Reset();
            builder.WithBody(body);
            foreach (byte[] part in parts)
            {
                builder.AddPart(part);
            }
            using (Message message = builder.Build())
            {
                if (writer.TryWriteMessage(message, Safety.Timeout) != WriteStatus.Success)
                {
                    throw new InvalidOperationException("The message was not written.");
                }
            }
            if (reader.TryReadMessageView(out MessageView view, Safety.Timeout) != ReadStatus.Success)
            {
                throw new InvalidOperationException("No message although one was written.");
            }
            bytesRead += view.GetPart(2).Length;
            view.Dispose();
        }

        long allocated = SteadyState.AllocatedBytes(Cycle, warmup: 1_000, measured: 5_000);

        Assert.Equal(0, allocated);
        Assert.Equal((1_000 + 2 * 5_000) * 8192L, bytesRead);
    }

    [Fact]
    public void ANewBuilderPerMessageAllocatesEveryTimeAndAReusedOneNever()
    {
        byte[][] parts = Enumerable.Range(0, 8).Select(i => new byte[128]).ToArray();
        var reused = new MessageBuilder();
        const int Measured = 1_000;

        long fresh = SteadyState.AllocatedBytes(() => Build(new MessageBuilder()), warmup: 100, measured: Measured);
        long refilled = SteadyState.AllocatedBytes(() => Build(reused), warmup: 100, measured: Measured);

        _output.WriteLine($"message of 8 parts: a new builder each time allocates {fresh / Measured} B per message, a reused one {refilled / Measured} B");
        Assert.True(fresh >= Measured, $"a new builder per message allocated only {fresh} B over {Measured} messages");
        Assert.Equal(0, refilled);

        void Build(MessageBuilder builder)
        {
            builder.Reset();
            foreach (byte[] part in parts)
            {
                builder.AddPart(part);
            }
            builder.Build().Dispose();
        }
    }

    [Fact]
    public void TheBuilderRefillsItsDisposedMessageAndMakesANewOneWhileTheOldIsStillHeld()
    {
        var builder = new MessageBuilder();
        Message first = builder.WithBody(new byte[] { 1 }).AddPart(new byte[] { 2, 2 }).AddPart(new byte[] { 3, 3, 3 }).Build();
        first.Dispose();

        builder.Reset();
        Message second = builder.WithBody(new byte[] { 4 }).AddPart(new byte[] { 5 }).AddPart(new byte[] { 6 }).AddPart(new byte[] { 7, 7 }).Build();
        Assert.Same(first, second);
        Assert.False(second.IsDisposed);
        Assert.Equal(3, second.PartCount);
        Assert.Equal(5, second.Length);
        Assert.Equal([4], second.Body.ToArray());
        Assert.Equal([7, 7], second.GetPart(2).ToArray());
        Assert.Equal([4, 5, 6, 7, 7], second.ToSequence().ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => second.GetPart(3));

        builder.Reset();
        Message third = builder.AddPart(new byte[] { 8 }).Build();
        Assert.NotSame(second, third);
        Assert.Equal([6], second.GetPart(1).ToArray());
        Assert.Equal(1, third.PartCount);
        Assert.True(third.Body.IsEmpty);
        second.Dispose();
        third.Dispose();
    }

    [Fact]
    public void OwnersAreReleasedByTheMessageTheyWentIntoOrByResetIfNoneWasBuilt()
    {
        var builder = new MessageBuilder();
        var built = new CountingOwner(16);
        var dropped = new CountingOwner(16);

        Message message = builder.AddPart(built).Build();
        builder.Reset();
        Assert.Equal(0, built.Disposals);
        message.Dispose();
        Assert.Equal(1, built.Disposals);

        builder.AddPart(dropped);
        builder.Reset();
        Assert.Equal(1, dropped.Disposals);

        // The refilled message holds only its own owners.
        Message next = builder.AddPart(new byte[4]).Build();
        Assert.Same(message, next);
        next.Dispose();
        Assert.Equal(1, built.Disposals);
        Assert.Equal(1, dropped.Disposals);
    }

    [Fact]
    public void BuildingTwiceWithoutResetSaysToCallReset()
    {
        var builder = new MessageBuilder();
        using Message message = builder.AddPart(new byte[1]).Build();

        var error = Assert.Throws<InvalidOperationException>(() => builder.Build());
        Assert.Equal("This builder already built its message; call Reset() to build another with it.", error.Message);
        Assert.Throws<InvalidOperationException>(() => builder.AddPart(new byte[1]));
    }

    private sealed class CountingOwner(int length) : IMemoryOwner<byte>
    {
        private readonly byte[] _bytes = new byte[length];

        public int Disposals { get; private set; }

        public Memory<byte> Memory => _bytes;

        public void Dispose() => Disposals++;
    }
}
