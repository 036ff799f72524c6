using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Xunit.Abstractions;
using ZeroLane.Posix;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.Topics;

namespace ZeroLane.Tests.Topics;

/// <summary>
/// Property test (FsCheck) over random interleavings of publishes (span, payload writer, abandoned payload writer), reads,
/// releases, joins (dropping the oldest or blocking the publisher, with an acknowledge timeout of 0), leaves and crashes of
/// subscribers (a made-up process that dies holding samples, see <see cref="SimulatedProcesses"/>), with one or two publishers on real /dev/shm segments. After every step the test reads
/// each publisher's segment word by word and checks the accounting against its own model of who holds what.
/// </summary>
/// <remarks>
/// Checked after every step: each slot's holders word is exactly the set of subscriber entries that have it queued or hold
/// its sample (held samples are tracked by the model, queues read from the segment), plus the history bit on exactly the
/// kept samples; a free entry has no bit anywhere; a live subscriber has an active entry in every publisher; every queued
/// and every held sample still has the bytes it was published with; per live subscriber and publisher, samples read plus
/// queued plus dropped (the entry's count) equal the samples published since it joined plus the kept ones it got. On
/// every read: sequences strictly increase per publisher (no duplicate) and the bytes are the published ones; a read finds
/// a sample exactly when one is queued. On every payload write: <see cref="IPayloadWriter.WriteModified"/> is called only
/// when the span holds the previous sample byte for byte, and it is called whenever the previous sample's slot was free
/// and the size is the same (no history). At the end, once every subscriber has left or died and the publisher's next
/// writes took their entries back, no slot has a holder but the history bit, and nothing of the topic is left in /dev/shm.
/// Each step runs to completion before the next (one thread), so every check sees a quiescent segment. Each case's
/// cases come from its <see cref="TestSeed"/>; replay a failure with ZEROLANE_TEST_SEED.
/// </remarks>
public sealed class SlotAccountingHoldsUnderAnyInterleaving(ITestOutputHelper output) : TopicTest
{
    private const int Cases = 100;
    private const int MaxSubscriberEntries = 16;
    private const int MaxJoins = 12;
    private static readonly int[] s_sizes = [24, 1, 100, 256];

    private readonly TestSeed _seed = TestSeed.For(output);

    // What the cases exercised, summed and written to the output, so a run that tests little shows it.
    private readonly Dictionary<string, int> _exercised = new();

    private void Count(string what) => _exercised[what] = _exercised.GetValueOrDefault(what) + 1;

    internal enum StepKind
    {
        Publish,
        Read,
        Release,
        Join,
        Leave,
        Crash,
    }

    /// <summary>One step: what, on which participant (modulo how many there are), and two free choices (size, variant).</summary>
    internal readonly record struct Step(StepKind Kind, int Who, int Choice, int Detail)
    {
        public override string ToString() => $"{Kind}({Who},{Choice},{Detail})";
    }

    internal sealed record Scenario(int Publishers, int Slots, int QueueDepth, int History, int MaxHeld, int ContentSeed, Step[] Steps)
    {
        public override string ToString() =>
            $"{Publishers} publisher(s), {Slots} slots, depth {QueueDepth}, history {History}, max held {MaxHeld}, content seed {ContentSeed}: " +
            string.Join(' ', Steps);
    }

    private static readonly Gen<Step> s_step =
        from kind in Gen.Frequency(
            (6, Gen.Constant(StepKind.Publish)),
            (5, Gen.Constant(StepKind.Read)),
            (3, Gen.Constant(StepKind.Release)),
            (2, Gen.Constant(StepKind.Join)),
            (1, Gen.Constant(StepKind.Leave)),
            (1, Gen.Constant(StepKind.Crash)))
        from who in Gen.Choose(0, 99)
        from choice in Gen.Choose(0, 99)
        from detail in Gen.Choose(0, 99)
        select new Step(kind, who, choice, detail);

    private static readonly Gen<Scenario> s_scenario =
        from publishers in Gen.Choose(1, 2)
        from slots in Gen.Choose(2, 6)
        from depth in Gen.Choose(1, 4)
        from history in Gen.Choose(0, 3)
        from maxHeld in Gen.Choose(1, 3)
        from contentSeed in Gen.Choose(0, int.MaxValue)
        from count in Gen.Choose(1, 60)
        from steps in Gen.ArrayOf(s_step, count)
        select new Scenario(publishers, slots, depth, Math.Min(history, slots - 1), maxHeld, contentSeed, steps);

    [Fact]
    public void EverySlotsHoldersMatchWhatIsQueuedHeldAndKept()
    {
        Property property = Prop.ForAll(Arb.From(s_scenario), scenario => new Run(this, scenario).Execute());
        Check.One(_seed.FsCheckConfig(Cases), property);
        output.WriteLine(string.Join(", ", _exercised.OrderBy(pair => pair.Key).Select(pair => $"{pair.Key} {pair.Value}")));
    }

    private sealed class PublisherModel(int index, Publisher publisher, PublisherSegmentView view)
    {
        internal int Index { get; } = index;

        internal Publisher Publisher { get; } = publisher;

        internal PublisherSegmentView View { get; } = view;

        /// <summary>The bytes of every sample published, by sequence.</summary>
        internal Dictionary<ulong, byte[]> Contents { get; } = new();

        /// <summary>What the slot of the previous write holds, when the publisher may rely on it (null after an abandoned write).</summary>
        internal byte[]? Previous { get; set; }

        internal ulong PreviousSequence { get; set; }

        internal int LastSize { get; set; } = s_sizes[0];
    }

    private enum Presence
    {
        Live,
        Left,
        Crashed,
    }

    private sealed class SubscriberModel(Subscriber subscriber, ProcessIdentity identity, int publishers)
    {
        internal Subscriber Subscriber { get; } = subscriber;

        internal ProcessIdentity Identity { get; } = identity;

        internal Presence Presence { get; set; }

        /// <summary>Samples held (for one that left or died: those it held then).</summary>
        internal List<(int Publisher, ulong Sequence, Sample Sample)> Held { get; } = new();

        internal ulong[] LastSequence { get; } = new ulong[publishers];

        internal long[] Received { get; } = new long[publishers];

        internal ulong[] PublishedAtJoin { get; } = new ulong[publishers];

        internal ulong[] KeptAtJoin { get; } = new ulong[publishers];
    }

    /// <summary>A payload writer that checks the WriteModified contract and changes a few bytes of the previous sample.</summary>
    private sealed class CheckingWriter(int size, byte[]? previous, Func<byte[]> fresh, bool abandon, ulong mark) : IPayloadWriter
    {
        internal bool FullCalled { get; private set; }

        internal bool ModifiedCalled { get; private set; }

        internal string? ContractBroken { get; private set; }

        internal byte[]? Written { get; private set; }

        public int GetSize() => size;

        public bool WriteFull(Span<byte> buffer)
        {
            FullCalled = true;
            if (abandon)
            {
                buffer[..((buffer.Length + 1) / 2)].Fill(0xEE);
                return false;
            }
            Written = fresh();
            Written.CopyTo(buffer);
            return true;
        }

        public bool WriteModified(Span<byte> buffer)
        {
            ModifiedCalled = true;
            if (previous is null || previous.Length != buffer.Length)
            {
                ContractBroken = $"WriteModified with a span of {buffer.Length} bytes when the previous sample is {(previous is null ? "unknown" : previous.Length + " bytes")}";
            }
            else if (!buffer.SequenceEqual(previous))
            {
                int at = buffer.CommonPrefixLength(previous);
                ContractBroken = $"WriteModified with a span that differs from the previous sample at byte {at} of {buffer.Length}";
            }
            if (abandon)
            {
                buffer[..((buffer.Length + 1) / 2)].Fill(0xEE);
                return false;
            }
            // Only the changed bytes are written: if the span did not hold the previous sample, readers see the difference.
            Written = (previous ?? new byte[buffer.Length]).ToArray();
            Written[(int)(mark % (ulong)Written.Length)] ^= 0x5A;
            Written[0] = (byte)mark;
            buffer[(int)(mark % (ulong)Written.Length)] = Written[(int)(mark % (ulong)Written.Length)];
            buffer[0] = Written[0];
            return true;
        }
    }

    /// <summary>One case: its participants, its model and its checks.</summary>
    private sealed class Run(SlotAccountingHoldsUnderAnyInterleaving test, Scenario scenario)
    {
        private readonly SimulatedProcesses _processes = new();
        private readonly List<PublisherModel> _publishers = new();
        private readonly List<SubscriberModel> _subscribers = new();
        private readonly StringBuilder _trace = new();
        private Random _content = new(scenario.ContentSeed);
        private string _topic = "";
        private ulong _marks;

        private IEnumerable<SubscriberModel> Live => _subscribers.Where(s => s.Presence == Presence.Live);

        internal void Execute()
        {
            _topic = test.NewTopic("tp-prop");
            _content = new Random(scenario.ContentSeed);
            try
            {
                for (int p = 0; p < scenario.Publishers; p++)
                {
                    var publisher = new Publisher(_topic, new PublisherOptions
                    {
                        MaxSampleSize = s_sizes.Max(),
                        Slots = scenario.Slots,
                        QueueDepth = scenario.QueueDepth,
                        History = scenario.History,
                        MaxSubscribers = MaxSubscriberEntries,
                        PeerCheckInterval = TimeSpan.FromMilliseconds(1),
                        // A subscriber that blocks the publisher makes a write to its full queue wait this long: not at all,
                        // so that every step completes at once (its oldest is then dropped, and counted, as for the others).
                        AcknowledgeTimeout = TimeSpan.Zero,
                    }, _processes.Real());
                    PublisherSegmentView view;
                    try
                    {
                        view = PublisherSegmentView.Of(publisher);
                    }
                    catch
                    {
                        publisher.Dispose();
                        throw;
                    }
                    _publishers.Add(new PublisherModel(p, publisher, view));
                }
                foreach (Step step in scenario.Steps)
                {
                    _trace.Append(step).Append(": ");
                    Do(step);
                    _trace.AppendLine();
                    CheckAccounting();
                }
                Finish();
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"{scenario}\nsteps done:\n{_trace}\n{e}");
            }
            finally
            {
                CleanUp();
            }
            Assert.Empty(Leftovers(_topic));
        }

        private void Do(Step step)
        {
            switch (step.Kind)
            {
                case StepKind.Publish:
                    Publish(_publishers[step.Who % _publishers.Count], step.Choice, step.Detail);
                    break;
                case StepKind.Read:
                    if (Pick(step.Who) is { } reader)
                    {
                        Read(reader, step.Choice);
                    }
                    break;
                case StepKind.Release:
                    if (Pick(step.Who) is { Held.Count: > 0 } holder)
                    {
                        Release(holder, step.Choice % holder.Held.Count);
                    }
                    break;
                case StepKind.Join:
                    if (_subscribers.Count < MaxJoins)
                    {
                        Join(step.Choice % 3 == 0 ? OverflowPolicy.BlockPublisher : OverflowPolicy.DropOldest);
                    }
                    break;
                case StepKind.Leave:
                    if (Pick(step.Who) is { } leaver)
                    {
                        Leave(leaver);
                    }
                    break;
                case StepKind.Crash:
                    if (Pick(step.Who) is { } victim)
                    {
                        victim.Presence = Presence.Crashed;
                        _processes.Kill(victim.Identity);
                        test.Count(victim.Held.Count > 0 ? "crashes holding samples" : "crashes holding nothing");
                        _trace.Append($"subscriber {_subscribers.IndexOf(victim)} dies holding {victim.Held.Count}");
                    }
                    break;
            }
        }

        private SubscriberModel? Pick(int who)
        {
            SubscriberModel[] live = Live.ToArray();
            return live.Length == 0 ? null : live[who % live.Length];
        }

        private byte[] Fresh(int size)
        {
            var bytes = new byte[size];
            _content.NextBytes(bytes);
            return bytes;
        }

        private void Publish(PublisherModel model, int choice, int detail)
        {
            int size = choice < 60 ? model.LastSize : s_sizes[choice % s_sizes.Length];
            Publisher publisher = model.Publisher;
            ulong before = (ulong)publisher.SamplesPublished;
            int variant = detail % 8;
            if (variant < 3)
            {
                byte[] bytes = Fresh(size);
                WriteStatus status = publisher.TryWrite(bytes, TimeSpan.Zero);
                _trace.Append($"P{model.Index} span {size} B: {status}");
                if (status == WriteStatus.Success)
                {
                    Published(model, before, bytes);
                }
                else
                {
                    AssertEverySlotHeld(model, status);
                }
                return;
            }
            bool abandon = variant == 7;
            int previousSlot = model.Previous is null ? -1 : model.View.SlotOf(model.PreviousSequence);
            bool previousFree = previousSlot >= 0 && model.View.Holders(previousSlot) == 0;
            var writer = new CheckingWriter(size, model.Previous, () => Fresh(size), abandon, ++_marks);
            WriteStatus written = publisher.TryWrite(writer, out bool published, TimeSpan.Zero);
            _trace.Append($"P{model.Index} writer {size} B{(abandon ? " (abandons)" : "")}: {written}, " +
                $"{(writer.ModifiedCalled ? "modified" : writer.FullCalled ? "full" : "not called")}");
            Assert.True(writer.ContractBroken is null, writer.ContractBroken);
            if (written != WriteStatus.Success)
            {
                Assert.False(writer.FullCalled || writer.ModifiedCalled, "a write that found no slot called the payload writer");
                AssertEverySlotHeld(model, written);
                return;
            }
            Assert.True(writer.FullCalled ^ writer.ModifiedCalled, "the payload writer was called once, full or modified");
            test.Count(writer.ModifiedCalled ? "modified writes" : "full writes");
            if (scenario.History == 0 && previousFree && size == model.LastSize)
            {
                Assert.True(writer.ModifiedCalled, "the previous sample's slot was free at the same size, yet WriteFull was called");
            }
            if (scenario.History > 0)
            {
                Assert.False(writer.ModifiedCalled, "with history the previous sample is kept, so it can never be modified in place");
            }
            Assert.Equal(!abandon, published);
            if (abandon)
            {
                Assert.Equal(before, (ulong)publisher.SamplesPublished);
                // The abandoned writer scribbled on the slot: it no longer holds the previous sample.
                model.Previous = null;
                return;
            }
            Published(model, before, writer.Written!);
        }

        private void Published(PublisherModel model, ulong before, byte[] bytes)
        {
            ulong sequence = before + 1;
            Assert.Equal(sequence, (ulong)model.Publisher.SamplesPublished);
            model.Contents[sequence] = bytes;
            model.Previous = bytes;
            model.PreviousSequence = sequence;
            model.LastSize = bytes.Length;
        }

        /// <summary>A write found no slot: every slot has a holder and no queue of a subscriber present has anything left to drop.</summary>
        private void AssertEverySlotHeld(PublisherModel model, WriteStatus status)
        {
            Assert.Equal(WriteStatus.TimedOut, status);
            test.Count("writes finding every slot held");
            PublisherSegmentView view = model.View;
            for (int slot = 0; slot < view.Geometry.SlotCount; slot++)
            {
                Assert.True(view.Holders(slot) != 0, $"the write timed out with slot {slot} free");
            }
            for (int entry = 0; entry < view.Geometry.MaxSubscribers; entry++)
            {
                if (view.EntryStateOf(entry) == EntryState.Active)
                {
                    Assert.True(view.Head(entry) == view.Tail(entry), $"the write timed out with samples still queued for entry {entry}");
                }
            }
        }

        private void Read(SubscriberModel model, int choice)
        {
            if (model.Held.Count == scenario.MaxHeld)
            {
                Release(model, choice % model.Held.Count);
            }
            bool queued = _publishers.Any(p => EntryOf(p, model) is int entry && p.View.Head(entry) != p.View.Tail(entry));
            ReadStatus status = model.Subscriber.TryRead(out Sample sample, TimeSpan.Zero);
            _trace.Append($"S{_subscribers.IndexOf(model)} read: {status}");
            if (status != ReadStatus.Success)
            {
                Assert.Equal(ReadStatus.TimedOut, status);
                test.Count("empty reads");
                Assert.False(queued, "a read found nothing while a sample was queued for the subscriber");
                return;
            }
            Assert.True(queued, "a read returned a sample while none was queued");
            PublisherModel publisher = _publishers.Single(p => p.Publisher.Id == sample.PublisherId);
            int p = publisher.Index;
            _trace.Append($" P{p} #{sample.Sequence}");
            Assert.True(sample.Sequence > model.LastSequence[p], $"sequence {sample.Sequence} of P{p} after {model.LastSequence[p]}");
            Assert.True(sample.Sequence > model.PublishedAtJoin[p] - model.KeptAtJoin[p], $"sequence {sample.Sequence} of P{p} is older than the subscriber's join");
            Assert.True(sample.Span.SequenceEqual(publisher.Contents[sample.Sequence]), $"sample {sample.Sequence} of P{p} does not hold its bytes");
            model.LastSequence[p] = sample.Sequence;
            model.Received[p]++;
            model.Held.Add((p, sample.Sequence, sample));
            test.Count("samples read");
        }

        private void Release(SubscriberModel model, int index)
        {
            (int p, ulong sequence, Sample sample) = model.Held[index];
            model.Held.RemoveAt(index);
            sample.Dispose();
            _trace.Append($" S{_subscribers.IndexOf(model)} releases P{p} #{sequence}");
            Assert.True(sample.IsReleased);
            Assert.Throws<ObjectDisposedException>(() => sample.Span.Length);
        }

        private void Join(OverflowPolicy overflow)
        {
            SimulatedProcesses.Platform platform = _processes.Spawn();
            var options = new SubscriberOptions { MaxHeld = scenario.MaxHeld, Overflow = overflow };
            var model = new SubscriberModel(new Subscriber(_topic, options, platform), platform.CurrentProcess, _publishers.Count);
            _subscribers.Add(model);
            foreach (PublisherModel publisher in _publishers)
            {
                ulong published = (ulong)publisher.Publisher.SamplesPublished;
                model.PublishedAtJoin[publisher.Index] = published;
                model.KeptAtJoin[publisher.Index] = (ulong)Math.Min((long)published, Math.Min(scenario.History, scenario.QueueDepth));
            }
            _trace.Append($"S{_subscribers.Count - 1} joins ({overflow})");
        }

        private void Leave(SubscriberModel model)
        {
            model.Subscriber.Dispose();
            model.Presence = Presence.Left;
            _trace.Append($"S{_subscribers.IndexOf(model)} leaves holding {model.Held.Count}");
            foreach ((_, _, Sample sample) in model.Held)
            {
                Assert.True(sample.IsReleased, "a sample of a subscriber that left still reads as held");
            }
        }

        private static int? EntryOf(PublisherModel publisher, SubscriberModel model)
        {
            PublisherSegmentView view = publisher.View;
            for (int entry = 0; entry < view.Geometry.MaxSubscribers; entry++)
            {
                if (view.EntryPid(entry) != 0 && view.EntryId(entry) == model.Subscriber.Id)
                {
                    return entry;
                }
            }
            return null;
        }

        private void CheckAccounting()
        {
            foreach (PublisherModel publisher in _publishers)
            {
                CheckAccounting(publisher);
            }
            foreach (SubscriberModel model in Live)
            {
                foreach ((int p, ulong sequence, Sample sample) in model.Held)
                {
                    Assert.False(sample.IsReleased);
                    Assert.True(sample.Span.SequenceEqual(_publishers[p].Contents[sequence]), $"held sample {sequence} of P{p} changed while held");
                }
                long dropped = _publishers.Sum(p => EntryOf(p, model) is int entry ? (long)p.View.Dropped(entry) : 0);
                Assert.Equal(dropped, model.Subscriber.SamplesDropped);
            }
        }

        private void CheckAccounting(PublisherModel publisher)
        {
            PublisherSegmentView view = publisher.View;
            int p = publisher.Index;
            int slots = view.Geometry.SlotCount;
            var expected = new ulong[slots];
            ulong published = (ulong)publisher.Publisher.SamplesPublished;
            Assert.Equal(published, view.Published);
            if (scenario.History > 0)
            {
                ulong head = view.HistoryHead;
                Assert.Equal(published, head);
                for (ulong position = head - Math.Min(head, (ulong)scenario.History); position < head; position++)
                {
                    uint slot = view.HistoryRingSlot(position);
                    Assert.InRange(slot, 0u, (uint)slots - 1);
                    Assert.Equal(position + 1, view.Sequence((int)slot));
                    expected[slot] |= TopicLayout.HistoryBit;
                }
            }
            var present = new HashSet<SubscriberModel>();
            for (int entry = 0; entry < view.Geometry.MaxSubscribers; entry++)
            {
                if (view.EntryPid(entry) == 0)
                {
                    Assert.Equal(EntryState.Free, view.EntryStateOf(entry));
                    continue;
                }
                ulong id = view.EntryId(entry);
                SubscriberModel? model = _subscribers.SingleOrDefault(s => s.Subscriber.Id == id);
                Assert.True(model is not null, $"P{p} entry {entry} is claimed by unknown subscriber {id:x}");
                Assert.True(present.Add(model), $"subscriber {id:x} has two entries in P{p}");
                EntryState expectedState = model.Presence == Presence.Left ? EntryState.Leaving : EntryState.Active;
                Assert.Equal(expectedState, view.EntryStateOf(entry));
                ulong bit = 1UL << entry;
                List<int> queued = view.Queued(entry);
                Assert.InRange(queued.Count, 0, scenario.QueueDepth);
                ulong previousSequence = model.LastSequence[p];
                foreach (int slot in queued)
                {
                    Assert.InRange(slot, 0, slots - 1);
                    Assert.True((expected[slot] & bit) == 0, $"slot {slot} of P{p} is queued twice for entry {entry}");
                    expected[slot] |= bit;
                    ulong sequence = view.Sequence(slot);
                    Assert.True(sequence > previousSequence, $"P{p} entry {entry} queues #{sequence} after #{previousSequence}");
                    previousSequence = sequence;
                    Assert.True(view.Data(slot).SequenceEqual(publisher.Contents[sequence]), $"queued sample {sequence} of P{p} does not hold its bytes");
                }
                foreach ((int heldFrom, ulong sequence, _) in model.Held)
                {
                    if (heldFrom != p)
                    {
                        continue;
                    }
                    int slot = view.SlotOf(sequence);
                    Assert.True(slot >= 0, $"held sample {sequence} of P{p} was overwritten");
                    if (model.Presence == Presence.Crashed)
                    {
                        test.Count("checks of samples a dead subscriber holds");
                    }
                    Assert.True((expected[slot] & bit) == 0, $"slot {slot} of P{p} is both queued for and held by entry {entry}");
                    expected[slot] |= bit;
                }
                if (model.Presence == Presence.Live)
                {
                    ulong owed = published - model.PublishedAtJoin[p] + model.KeptAtJoin[p];
                    ulong accounted = (ulong)model.Received[p] + (ulong)queued.Count + view.Dropped(entry);
                    if (view.Dropped(entry) > 0)
                    {
                        test.Count("checks with drops");
                    }
                    Assert.True(owed == accounted,
                        $"S{_subscribers.IndexOf(model)} from P{p}: {model.Received[p]} read + {queued.Count} queued + {view.Dropped(entry)} dropped, " +
                        $"but {owed} were published since it joined (with those kept then)");
                }
            }
            foreach (SubscriberModel model in Live)
            {
                Assert.True(present.Contains(model), $"live subscriber {_subscribers.IndexOf(model)} has no entry in P{p}");
            }
            for (int slot = 0; slot < slots; slot++)
            {
                Assert.True(expected[slot] == view.Holders(slot),
                    $"P{p} slot {slot} (#{view.Sequence(slot)}): holders {view.Holders(slot):x16}, expected {expected[slot]:x16} from queues, held samples and history");
            }
        }

        /// <summary>Everyone leaves; the publishers' next writes take back every entry, and no slot is held but for history.</summary>
        private void Finish()
        {
            foreach (SubscriberModel model in Live.ToArray())
            {
                _trace.Append("end: ");
                Leave(model);
                _trace.AppendLine();
            }
            foreach (PublisherModel publisher in _publishers)
            {
                PublisherSegmentView view = publisher.View;
                Safety.Until(() =>
                {
                    // Departed entries go at the next write: leaving ones at once, dead ones at its next liveness check.
                    Publish(publisher, choice: 0, detail: 0);
                    _trace.AppendLine();
                    return Enumerable.Range(0, view.Geometry.MaxSubscribers).All(entry => view.EntryPid(entry) == 0);
                }, $"P{publisher.Index} taking back the entries of subscribers that left or died");
                CheckAccounting(publisher);
                for (int slot = 0; slot < view.Geometry.SlotCount; slot++)
                {
                    Assert.Equal(0UL, view.Holders(slot) & ~TopicLayout.HistoryBit);
                }
            }
        }

        private void CleanUp()
        {
            foreach (SubscriberModel model in _subscribers.Where(s => s.Presence == Presence.Live))
            {
                model.Subscriber.Dispose();
            }
            foreach (PublisherModel publisher in _publishers)
            {
                publisher.View.Dispose();
                publisher.Publisher.Dispose();
            }
            // A dead subscriber does nothing; disposed now, with every segment it joined closed, it only lets go of its objects.
            foreach (SubscriberModel model in _subscribers.Where(s => s.Presence == Presence.Crashed))
            {
                model.Subscriber.Dispose();
            }
        }
    }
}
