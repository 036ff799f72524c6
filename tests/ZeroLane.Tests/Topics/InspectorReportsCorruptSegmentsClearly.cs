using ZeroLane.Ipc;
using ZeroLane.Posix;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Topics;

/// <summary>
/// <see cref="TopicInspector"/> on segments that are not what they claim: foreign files named like publishers, a live
/// publisher's header or subscriber entry overwritten with garbage, a link, a file too small. Each becomes a clear error
/// for that publisher or entry; the inspection itself never throws, and the other publishers of the topic still read.
/// </summary>
public sealed class InspectorReportsCorruptSegmentsClearly : TopicTest
{
    /// <summary>Header bytes 88 to 127, reserved in this layout version.</summary>
    private const int ReservedOffset = 88;

    private const int ReservedLength = TopicLayout.FullWrites - ReservedOffset;
    private static string SegmentOf(string topic, Publisher publisher) => $"zlt.{topic}.p.{Environment.ProcessId}.{publisher.Id:x16}";

    private static string ForeignSegment(string topic, ulong id) => $"zlt.{topic}.p.{Environment.ProcessId}.{id:x16}";

    [Fact]
    public void AFileOfGarbageNamedLikeAPublisherIsUnreadableAndTheRealPublisherStillReads()
    {
        string topic = NewTopic("tp-garb");
        using var publisher = new Publisher(topic);
        using (RawSegment garbage = RawSegment.Create(ForeignSegment(topic, 0x1234), 8192))
        {
            garbage.Bytes(0, 8192).Fill(0xFF);
        }

        Assert.True(TopicInspector.TryGetTopic(topic, out TopicInfo? info));

        Assert.Equal(2, info.Publishers.Count);
        TopicPublisherInfo bad = Assert.Single(info.Publishers, p => p.Id == 0x1234);
        Assert.Equal(TopicPublisherState.Unreadable, bad.State);
        Assert.False(bad.Alive);
        Assert.Contains("magic", bad.Error);
        TopicPublisherInfo good = Assert.Single(info.Publishers, p => p.Id == publisher.Id);
        Assert.Equal(TopicPublisherState.Open, good.State);
        Assert.Null(good.Error);
    }

    [Fact]
    public void ALivePublishersHeaderWithAnImpossibleSlotCountIsReportedAsCorrupted()
    {
        string topic = NewTopic("tp-hdr");
        using var publisher = new Publisher(topic);
        using var segment = new LiveSegment(SegmentOf(topic, publisher));
        uint slots = segment.U32(TopicLayout.SlotCount);
        segment.SetU32(TopicLayout.SlotCount, 0x7FFF_FFFF);
        try
        {
            Assert.True(TopicInspector.TryGetTopic(topic, out TopicInfo? info));

            TopicPublisherInfo found = Assert.Single(info.Publishers);
            Assert.Equal(TopicPublisherState.Unreadable, found.State);
            Assert.Contains("is corrupted", found.Error);
            Assert.Contains("2147483647 slots", found.Error);
            Assert.Empty(found.Subscribers);
        }
        finally
        {
            segment.SetU32(TopicLayout.SlotCount, slots);
        }
    }

    [Fact]
    public void AGarbledSubscriberEntryIsFlaggedOnItsOwnAndUnknownReservedBytesAreIgnored()
    {
        string topic = NewTopic("tp-entry");
        using var publisher = new Publisher(topic, new PublisherOptions { MaxSubscribers = 4 });
        using var subscriber = new Subscriber(topic);
        Safety.Until(() => publisher.SubscriberCount == 1, "the subscriber joining");
        Assert.True(TopicInspector.TryGetTopic(topic, out TopicInfo? before));
        int entry = Assert.Single(Assert.Single(before.Publishers).Subscribers).Entry;
        long entryOffset = TopicLayout.HeaderSize + (long)entry * TopicLayout.EntrySize;
        using var segment = new LiveSegment(SegmentOf(topic, publisher));
        byte[] saved = segment.Bytes(entryOffset, TopicLayout.EntrySize).ToArray();
        byte[] savedReserved = segment.Bytes(ReservedOffset, ReservedLength).ToArray();
        segment.SetU32(entryOffset + TopicLayout.EntryState, 0xDEAD);
        segment.SetU64(entryOffset + TopicLayout.EntryHead, 100);
        segment.SetU64(entryOffset + TopicLayout.EntryTail, 1);
        // Reserved header bytes (a later version's field) and unknown entry flags are not errors.
        segment.SetU64(ReservedOffset, 0xABCD_EF01_2345_6789);
        segment.SetU32(entryOffset + TopicLayout.EntryFlags, 0x8000_0000);
        try
        {
            Assert.True(TopicInspector.TryGetTopic(topic, out TopicInfo? info));

            TopicPublisherInfo found = Assert.Single(info.Publishers);
            Assert.Equal(TopicPublisherState.Open, found.State);
            Assert.Null(found.Error);
            TopicSubscriberEntryInfo garbled = Assert.Single(found.Subscribers);
            Assert.Equal(TopicSubscriberState.Unreadable, garbled.State);
            Assert.Equal(0, garbled.Queued);
            Assert.Equal(OverflowPolicy.DropOldest, garbled.Overflow);
            Assert.Contains($"Subscriber entry {entry}", garbled.Error);
            Assert.Contains("state 57005", garbled.Error);
            Assert.Contains("head 100 is past its tail 1", garbled.Error);
        }
        finally
        {
            saved.CopyTo(segment.Bytes(entryOffset, TopicLayout.EntrySize));
            savedReserved.CopyTo(segment.Bytes(ReservedOffset, ReservedLength));
        }
    }

    [Fact]
    public void ALinkOrATinyFileNamedLikeAPublisherIsReportedWithoutBeingFollowed()
    {
        string topic = NewTopic("tp-link");
        string link = RawSegment.PathOf(ForeignSegment(topic, 0xAAAA));
        File.CreateSymbolicLink(link, "/etc/passwd");
        using (RawSegment.Create(ForeignSegment(topic, 0xBBBB), 10))
        {
        }

        Assert.True(TopicInspector.TryGetTopic(topic, out TopicInfo? info));

        TopicPublisherInfo linked = Assert.Single(info.Publishers, p => p.Id == 0xAAAA);
        Assert.Equal(TopicPublisherState.Unreadable, linked.State);
        Assert.Contains("not a regular file", linked.Error);
        TopicPublisherInfo tiny = Assert.Single(info.Publishers, p => p.Id == 0xBBBB);
        Assert.Equal(TopicPublisherState.Unreadable, tiny.State);
        Assert.Contains("10 bytes", tiny.Error);
    }

    [Fact]
    public void FilesThatOnlyLookLikeTopicsAreSkipped()
    {
        Assert.False(TopicInspector.TryParseName("x.p.12.0123456789abcdef", 's', out _, out _, out _));
        Assert.False(TopicInspector.TryParseName("x.p.12.0123", 'p', out _, out _, out _));
        Assert.False(TopicInspector.TryParseName(".p.12.0123456789abcdef", 'p', out _, out _, out _));
        Assert.False(TopicInspector.TryParseName("x.p.-1.0123456789abcdef", 'p', out _, out _, out _));
        Assert.True(TopicInspector.TryParseName("a.p.b.p.12.0123456789abcdef", 'p', out string? topic, out int pid, out ulong id));
        Assert.Equal(("a.p.b", 12, 0x0123456789abcdefUL), (topic, pid, id));
    }

    /// <summary>
    /// A live publisher's segment mapped writable through the library's own shared memory type (a FileStream would take a
    /// lock the publisher holds), to overwrite fields with garbage and put them back.
    /// </summary>
    private sealed class LiveSegment : IDisposable
    {
        private readonly SharedMemory _memory;
        private readonly MappedRegion _region;

        internal LiveSegment(string name)
        {
            _memory = SharedMemory.TryOpen(name, writable: true) ?? throw new FileNotFoundException($"No segment '{name}'.");
            _region = new MappedRegion(_memory.Mapping);
        }

        internal Span<byte> Bytes(long offset, int length) => _region.GetSpan(offset, length);

        internal uint U32(long offset) => _region.ReadUInt32Acquire(offset);

        internal void SetU32(long offset, uint value) => _region.WriteUInt32Release(offset, value);

        internal void SetU64(long offset, ulong value) => _region.WriteUInt64Release(offset, value);

        public void Dispose()
        {
            _region.Dispose();
            _memory.Dispose();
        }
    }
}
