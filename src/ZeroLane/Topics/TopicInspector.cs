using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using ZeroLane.Ipc;
using ZeroLane.Posix;

namespace ZeroLane.Topics;

/// <summary>
/// Looks at topics from outside, without joining any: lists every topic on the host, each one's publishers (from their
/// segments) and subscriber processes (from their semaphores), with liveness, queue fill, drops and counts, and takes
/// snapshots whose differences are rates.
/// </summary>
/// <remarks>
/// Design: discovery is a listing of /dev/shm (the names carry topic, PID and ID, see <see cref="TopicNames"/>). Each
/// publisher segment is opened and mapped read-only, so nothing of a topic can be changed from here, and no lock is taken,
/// so an inspection never gets in a participant's way. Every value is read once and checked before it is used: the header
/// through <see cref="TopicSegment.Validate"/> (sizes that fit the mapping), the rest here (process IDs, states, queue
/// positions). A segment that fails a check becomes one <see cref="TopicPublisherState.Unreadable"/> entry with the reason,
/// and an entry with an impossible value carries its own error; nothing read from shared memory can make an inspection
/// throw, read outside a mapping, or wait. Fields this version does not know (reserved bytes, unknown entry flags) are
/// ignored, so that segments of a newer writer of the same layout version still read. The figures are read while the
/// participants run: each is a value it had during the read, not all at one instant.
/// </remarks>
public static class TopicInspector
{
    private const string DeviceDirectory = "/dev/shm";
    private const string PublisherPrefix = "zlt.";
    private const string SubscriberPrefix = "sem.zlt.";

    /// <summary>Every topic in /dev/shm now, by name (topics of other users show what this user may read of them).</summary>
    public static IReadOnlyList<TopicInfo> List() => Snapshot().Topics;

    /// <summary>Every topic in /dev/shm now, with the time, for rates (<see cref="TopicSnapshot.RatesSince"/>).</summary>
    public static TopicSnapshot Snapshot() => Take(IpcPlatform.Current, onlyTopic: null);

    /// <summary>Reads topic <paramref name="topic"/>; false if no publisher or subscriber of it is in /dev/shm.</summary>
    /// <exception cref="InvalidNameException">The name is not allowed.</exception>
    public static bool TryGetTopic(string topic, [NotNullWhen(true)] out TopicInfo? info)
    {
        TopicNames.Create(topic);
        info = Take(IpcPlatform.Current, topic).Topics.FirstOrDefault();
        return info is not null;
    }

    /// <summary>
    /// Removes the objects (segments, semaphores) of the topic's publishers and subscribers whose processes are gone; the
    /// only call here that changes anything. Returns how many participants' objects went. Live participants are untouched.
    /// </summary>
    /// <exception cref="InvalidNameException">The name is not allowed.</exception>
    public static int Clean(string topic) => TopicCleaner.RemoveStale(IpcPlatform.Current, TopicNames.Create(topic));

    private static TopicSnapshot Take(IIpcPlatform platform, string? onlyTopic)
    {
        DateTime takenAt = DateTime.UtcNow;
        long timestamp = Stopwatch.GetTimestamp();
        var publishers = new SortedDictionary<string, List<TopicPublisherInfo>>(StringComparer.Ordinal);
        var subscribers = new SortedDictionary<string, List<TopicSubscriberInfo>>(StringComparer.Ordinal);
        foreach (string file in ListDevice())
        {
            if (file.StartsWith(SubscriberPrefix, StringComparison.Ordinal))
            {
                if (TryParseName(file.AsSpan(SubscriberPrefix.Length), 's', out string? topic, out int pid, out ulong id) && (onlyTopic is null || topic == onlyTopic))
                {
                    ListOf(subscribers, topic).Add(new TopicSubscriberInfo { Pid = pid, Id = id, Alive = platform.IsAlive(new ProcessIdentity(pid, 0)) });
                }
            }
            else if (file.StartsWith(PublisherPrefix, StringComparison.Ordinal))
            {
                if (TryParseName(file.AsSpan(PublisherPrefix.Length), 'p', out string? topic, out int pid, out ulong id) && (onlyTopic is null || topic == onlyTopic) &&
                    ReadPublisher(platform, file, pid, id) is { } publisher)
                {
                    ListOf(publishers, topic).Add(publisher);
                }
            }
        }
        var topics = new List<TopicInfo>();
        foreach (string topic in publishers.Keys.Union(subscribers.Keys).Order(StringComparer.Ordinal))
        {
            List<TopicPublisherInfo> ofTopic = publishers.GetValueOrDefault(topic) ?? [];
            List<TopicSubscriberInfo> subscribersOfTopic = subscribers.GetValueOrDefault(topic) ?? [];
            ofTopic.Sort((a, b) => a.Pid != b.Pid ? a.Pid.CompareTo(b.Pid) : a.Id.CompareTo(b.Id));
            subscribersOfTopic.Sort((a, b) => a.Pid != b.Pid ? a.Pid.CompareTo(b.Pid) : a.Id.CompareTo(b.Id));
            topics.Add(new TopicInfo { Topic = topic, Publishers = ofTopic, Subscribers = subscribersOfTopic });
        }
        return new TopicSnapshot { TakenAt = takenAt, Timestamp = timestamp, Topics = topics };
    }

    private static List<T> ListOf<T>(SortedDictionary<string, List<T>> byTopic, string topic)
    {
        if (!byTopic.TryGetValue(topic, out List<T>? list))
        {
            byTopic[topic] = list = new List<T>();
        }
        return list;
    }

    private static List<string> ListDevice()
    {
        var files = new List<string>();
        try
        {
            foreach (string path in Directory.EnumerateFiles(DeviceDirectory, "*zlt.*"))
            {
                files.Add(Path.GetFileName(path));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No /dev/shm, or not readable: no topics to see.
        }
        return files;
    }

    /// <summary>
    /// Takes <c>TOPIC.KIND.PID.ID</c> apart from the right (a topic's name may hold dots): ID is 16 hexadecimal digits, PID
    /// decimal, KIND the expected letter, TOPIC a valid name. False for anything else, so foreign files are skipped.
    /// </summary>
    internal static bool TryParseName(ReadOnlySpan<char> name, char kind, [NotNullWhen(true)] out string? topic, out int pid, out ulong id)
    {
        topic = null;
        pid = 0;
        id = 0;
        int idDot = name.LastIndexOf('.');
        if (idDot < 0 || name.Length - idDot - 1 != 16 ||
            !ulong.TryParse(name[(idDot + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out id))
        {
            return false;
        }
        ReadOnlySpan<char> rest = name[..idDot];
        int pidDot = rest.LastIndexOf('.');
        if (pidDot < 0 || !int.TryParse(rest[(pidDot + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out pid) || pid <= 0)
        {
            return false;
        }
        rest = rest[..pidDot];
        if (rest.Length < 3 || rest[^1] != kind || rest[^2] != '.')
        {
            return false;
        }
        string candidate = rest[..^2].ToString();
        if (!ObjectNames.IsValid(candidate))
        {
            return false;
        }
        topic = candidate;
        return true;
    }

    /// <summary>The publisher of segment <paramref name="segment"/>, read-only; null if the segment went meanwhile.</summary>
    private static TopicPublisherInfo? ReadPublisher(IIpcPlatform platform, string segment, int pid, ulong id)
    {
        FileStatus? status;
        try
        {
            status = FileDescriptor.PathStatus(TopicNames.SegmentPath(segment));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Unreadable(segment, pid, id, e.Message);
        }
        if (status is null)
        {
            return null;
        }
        if (!status.Value.IsRegularFile)
        {
            // Opening a FIFO would wait for a writer; a link may point anywhere. Neither is a publisher's.
            return Unreadable(segment, pid, id, $"'{TopicNames.SegmentPath(segment)}' is not a regular file, so not a topic segment; remove it");
        }
        SharedMemory? memory;
        try
        {
            memory = platform.OpenSharedMemory(segment, writable: false);
        }
        catch (UnauthorizedAccessException)
        {
            return Unreadable(segment, pid, id, "this user may not read it (another user's publisher, or permissions without read)");
        }
        catch (IOException e)
        {
            return Unreadable(segment, pid, id, e.Message);
        }
        if (memory is null)
        {
            return null;
        }
        using (memory)
        {
            if (memory.Length == 0)
            {
                return Creating(platform, segment, pid, id, 0);
            }
            if (memory.Length < TopicLayout.HeaderSize)
            {
                return Unreadable(segment, pid, id, $"it has {memory.Length} bytes, less than a topic segment's {TopicLayout.HeaderSize}-byte header, so it is not a topic segment; remove it") with
                {
                    SegmentSize = memory.Length,
                };
            }
            using var region = new MappedRegion(memory.Mapping);
            TopicPublisherInfo info;
            try
            {
                info = TopicSegment.Validate(region, segment) is { } geometry
                    ? Read(platform, new TopicSegment(region, geometry), segment, pid, id)
                    : Creating(platform, segment, pid, id, memory.Length);
            }
            catch (ZeroLaneException e)
            {
                return Unreadable(segment, pid, id, e.Message) with { SegmentSize = memory.Length };
            }
            if (region.HasLostPages)
            {
                return Unreadable(segment, pid, id, "its file shrank while it was read (truncated by another process); what was read is not trustworthy") with
                {
                    SegmentSize = memory.Length,
                };
            }
            return info;
        }
    }

    private static TopicPublisherInfo Creating(IIpcPlatform platform, string segment, int pid, ulong id, long size) => new()
    {
        Segment = segment,
        Pid = pid,
        Id = id,
        SegmentId = id,
        Alive = platform.IsAlive(new ProcessIdentity(pid, 0)),
        State = TopicPublisherState.Creating,
        SegmentSize = size,
    };

    private static TopicPublisherInfo Unreadable(string segment, int pid, ulong id, string why) => new()
    {
        Segment = segment,
        Pid = pid,
        Id = id,
        SegmentId = id,
        Alive = false,
        State = TopicPublisherState.Unreadable,
        Error = why,
    };

    /// <summary>Reads a validated segment (its geometry fits the mapping, so every offset below does too).</summary>
    /// <exception cref="BufferCorruptedException">The header names a process that its file name does not.</exception>
    private static TopicPublisherInfo Read(IIpcPlatform platform, TopicSegment segment, string name, int pid, ulong id)
    {
        MappedRegion region = segment.Region;
        TopicGeometry geometry = segment.Geometry;
        var state = (SegmentState)region.ReadUInt32Acquire(TopicLayout.State);
        // The header's publisher ID differs from the name's segment ID in a segment a publisher grew into.
        ulong publisherId = region.ReadUInt64Acquire(TopicLayout.PublisherId);
        ulong headerPid = region.ReadUInt64Acquire(TopicLayout.PublisherPid);
        if (headerPid != 0 && headerPid != (ulong)pid)
        {
            throw TopicSegment.Corrupt(name, $"its header names process {headerPid}, its name {pid}");
        }
        // A closed segment's publisher left (it clears its PID on the way out): alive no more, whatever its process does.
        bool alive = headerPid != 0 && segment.Publisher.IsHeldByLiveProcess(platform);
        int slotsInUse = 0;
        for (int slot = 0; slot < geometry.SlotCount; slot++)
        {
            if (region.ReadUInt64Acquire(segment.HoldersOffset(slot)) != 0)
            {
                slotsInUse++;
            }
        }
        bool forwarded = (region.ReadUInt32Acquire(TopicLayout.PublisherFlags) & TopicLayout.PublisherFlagForwarded) != 0;
        int historyCapacity = segment.HistoryCapacity;
        ulong historyHead = region.ReadUInt64Acquire(TopicLayout.HistoryHead);
        var subscribers = new List<TopicSubscriberEntryInfo>();
        for (int entry = 0; entry < geometry.MaxSubscribers; entry++)
        {
            if (ReadEntry(platform, segment, name, entry) is { } subscriber)
            {
                subscribers.Add(subscriber);
            }
        }
        return new TopicPublisherInfo
        {
            Segment = name,
            Pid = pid,
            Id = publisherId,
            SegmentId = id,
            Successor = region.ReadUInt64Acquire(TopicLayout.Successor),
            Predecessor = region.ReadUInt64Acquire(TopicLayout.Predecessor),
            Alive = alive,
            State = state == SegmentState.Closed ? TopicPublisherState.Closed : TopicPublisherState.Open,
            Forwarded = forwarded,
            ForwardedFrom = forwarded ? region.ReadUInt64Acquire(TopicLayout.ForwardedFrom) : 0,
            ForwardLost = forwarded ? region.ReadUInt64Acquire(TopicLayout.ForwardLost) : 0,
            SamplesPublished = region.ReadUInt64Acquire(TopicLayout.Published),
            FullWrites = region.ReadUInt64Acquire(TopicLayout.FullWrites),
            ModifiedWrites = region.ReadUInt64Acquire(TopicLayout.ModifiedWrites),
            SlotsInUse = slotsInUse,
            Slots = geometry.SlotCount,
            MaxSampleSize = geometry.SlotCapacity,
            QueueDepth = geometry.QueueDepth,
            MaxSubscribers = geometry.MaxSubscribers,
            HistoryCapacity = historyCapacity,
            HistoryKept = (int)Math.Min(historyHead, (ulong)historyCapacity),
            SegmentSize = region.Length,
            Subscribers = subscribers,
        };
    }

    /// <summary>Subscriber entry <paramref name="entry"/>, or null when it is free.</summary>
    private static TopicSubscriberEntryInfo? ReadEntry(IIpcPlatform platform, TopicSegment segment, string name, int entry)
    {
        MappedRegion region = segment.Region;
        long offset = segment.Geometry.EntryOffset(entry);
        ulong pid = region.ReadUInt64Acquire(offset + TopicLayout.EntryPid);
        uint stateWord = region.ReadUInt32Acquire(offset + TopicLayout.EntryState);
        if (pid == 0 && stateWord == (uint)EntryState.Free)
        {
            return null;
        }
        var problems = new List<string>();
        TopicSubscriberState state = stateWord switch
        {
            (uint)EntryState.Free => TopicSubscriberState.Joining,
            (uint)EntryState.Active => TopicSubscriberState.Active,
            (uint)EntryState.Leaving => TopicSubscriberState.Leaving,
            _ => TopicSubscriberState.Unreadable,
        };
        if (state == TopicSubscriberState.Unreadable)
        {
            problems.Add($"state {stateWord} is not one this library knows");
        }
        bool alive = false;
        if (pid > int.MaxValue)
        {
            problems.Add($"process ID {pid} is impossible");
            pid = 0;
        }
        else if (pid == 0)
        {
            problems.Add("it has a state but no process");
        }
        else
        {
            ulong startTime = region.ReadUInt64Acquire(offset + TopicLayout.EntryStartTime);
            alive = platform.IsAlive(new ProcessIdentity((int)pid, startTime));
        }
        // Head first: the tail only grows and the head never passes it, so a tail read after the head is at least the head.
        ulong head = region.ReadUInt64Acquire(segment.HeadOffset(entry));
        ulong tail = region.ReadUInt64Acquire(segment.TailOffset(entry));
        int depth = segment.Geometry.QueueDepth;
        int queued;
        if (head > tail)
        {
            problems.Add($"its queue's head {head} is past its tail {tail}");
            queued = 0;
        }
        else
        {
            // More than the depth only when the publisher queued more between the two reads: the queue was full.
            queued = (int)Math.Min(tail - head, (ulong)depth);
        }
        var flags = (EntryFlags)region.ReadUInt32Acquire(offset + TopicLayout.EntryFlags);
        return new TopicSubscriberEntryInfo
        {
            Entry = entry,
            Pid = (int)pid,
            Alive = alive,
            Id = segment.EntryId(entry),
            State = state,
            Head = head,
            Tail = tail,
            Queued = queued,
            QueueDepth = depth,
            Dropped = region.ReadUInt64Acquire(segment.DroppedOffset(entry)),
            // Other flag bits belong to later versions of the layout: ignored, not an error.
            Overflow = (flags & EntryFlags.BlockPublisher) != 0 ? OverflowPolicy.BlockPublisher : OverflowPolicy.DropOldest,
            Inherited = (flags & EntryFlags.Inherited) != 0,
            Error = problems.Count == 0 ? null : $"Subscriber entry {entry} of topic segment '{name}' looks corrupt: {string.Join("; ", problems)}. If it stays so, restart that publisher (it recreates its segment).",
        };
    }
}
