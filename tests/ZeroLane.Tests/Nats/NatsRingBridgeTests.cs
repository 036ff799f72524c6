using System.Buffers.Binary;
using System.Text;
using NATS.Client.Core;
using ZeroLane.Buffers;
using ZeroLane.Nats;
using ZeroLane.TestPeer;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Nats;

/// <summary>
/// A ring carried through a real nats-server on loopback (issue 13, point 3): <c>zerolane bridge send|receive --nats</c> as
/// processes, and <see cref="NatsRingBridge"/> in this process. Frames are FramePattern frames that embed their own number,
/// so the far reader checks each one whole and sees any gap or reordering. Core NATS drops what is published before a
/// receiver subscribes, so a stream run by processes begins with frames written until the far reader has one; from there
/// every frame must arrive. No timing is asserted: the waits are hang guards.
/// </summary>
public sealed class NatsRingBridgeTests : BufferTest
{
    private readonly List<IDisposable> _cleanup = new();
    private readonly string _subject = "zltest.ring." + Guid.NewGuid().ToString("N")[..12];

    public NatsRingBridgeTests()
    {
        Prerequisites.NatsServer.Require();
    }

    [Fact]
    public async Task FramesWrittenOnOneSideArriveWholeAndInOrderOnTheOtherThroughTheCliWithTheMetadata()
    {
        NatsServerProcess server = Track(NatsServerProcess.Start());
        string near = NewName("rn-near");
        string far = NewName("rn-far");
        // Room for the whole stream: the far reader's pace never makes the receiver drop a frame.
        using var farReader = new RingReader(far, new ReaderOptions { PayloadSize = 64L << 20 });
        // The receiving end is given a dead server first: the list is tried in order.
        string urls = $"nats://127.0.0.1:{ZeroLane.Tests.Cli.BridgeProcesses.FreePort()},{server.Url}";
        ToolProcess receive = Track(ToolProcess.Start("bridge", "receive", far, "--nats", urls, _subject));
        Safety.Until(() => TestBuffers.StatsOrNull(far) is { WriterAlive: true } || receive.HasExited, "the receiving end connecting to the far buffer");
        ToolProcess send = Track(ToolProcess.Start("bridge", "send", near, "--nats", server.Url, _subject, "--payload-size", "1M"));
        await ToolProcess.WaitForReaderAsync(near, send);

        var first = new ManualResetEventSlim();
        Task<FarStream> received = ReadFarAsync(farReader, first);
        ulong sequence = 0;
        using (var nearWriter = new RingWriter(near))
        {
            nearWriter.SetMetadata("camera=front;fps=30"u8);
            while (!first.Wait(20))
            {
                Assert.False(received.IsCompleted, "the far reader stopped before its first frame");
                WritePattern(nearWriter, ++sequence, FramePattern.HeaderLength + (int)(sequence % 100));
            }
            for (int i = 0; i < 300; i++)
            {
                ++sequence;
                WritePattern(nearWriter, sequence, FramePattern.VariedLength(sequence, 60_000) + FramePattern.HeaderLength);
            }
        }

        FarStream stream = await received.WaitAsync(ToolProcess.SafetyTimeout);
        Assert.Null(stream.Problem);
        Assert.Equal(sequence, stream.Last);
        Assert.Equal((long)(stream.Last - stream.First + 1), stream.Count);
        Assert.Equal("camera=front;fps=30", Encoding.UTF8.GetString(farReader.GetMetadata()));
        ToolResult sent = await send.WaitAsync();
        ToolResult got = await receive.WaitAsync();
        Assert.True(sent.ExitCode == 0, "bridge send: " + sent);
        Assert.True(got.ExitCode == 0, "bridge receive: " + got);
        Assert.Contains($"Published {sequence} frames", sent.Error);
        Assert.Contains($"Received {stream.Count} frames", got.Error);
        Assert.Contains("; 0 lost (0 for want of room), 0 messages rejected; metadata carried.", got.Error);
        Assert.Empty(TestBuffers.Leftovers(near));
    }

    [Fact]
    public async Task AFrameLargerThanTheServersMaxPayloadArrivesWholeInChunks()
    {
        NatsServerProcess server = Track(NatsServerProcess.Start("max_payload: 1048576"));
        string near = NewName("rn-big");
        string far = NewName("rn-big-far");
        using var farReader = new RingReader(far, new ReaderOptions { PayloadSize = 32L << 20 });
        using var nearReader = new RingReader(near, new ReaderOptions { PayloadSize = 16L << 20 });
        await using NatsConnection sending = Connect(server.Url);
        await using NatsConnection receiving = Connect(server.Url);
        using var farWriter = new RingWriter(far);
        await using NatsRingBridge receiver = await NatsRingBridge.StartReceivingAsync(receiving, _subject, farWriter);
        await using NatsRingBridge sender = await NatsRingBridge.StartSendingAsync(sending, _subject, nearReader);

        Task<FarStream> received = ReadFarAsync(farReader, new ManualResetEventSlim());
        int[] lengths = [(3 << 20) + 17, 1 << 20, (5 << 20) - 3, 100];
        using (var nearWriter = new RingWriter(near))
        {
            for (int i = 0; i < lengths.Length; i++)
            {
                WritePattern(nearWriter, (ulong)i + 1, lengths[i]);
            }
        }

        NatsRingBridgeStatistics sentStats = await sender.Completion.WaitAsync(ToolProcess.SafetyTimeout);
        NatsRingBridgeStatistics receivedStats = await receiver.Completion.WaitAsync(ToolProcess.SafetyTimeout);
        farWriter.Dispose();
        FarStream stream = await received.WaitAsync(ToolProcess.SafetyTimeout);
        Assert.Null(stream.Problem);
        Assert.Equal(1UL, stream.First);
        Assert.Equal((ulong)lengths.Length, stream.Last);
        Assert.Equal(lengths.Length, stream.Count);
        Assert.Equal(lengths.Length, sentStats.Frames);
        Assert.Equal(lengths.Sum(l => (long)l), receivedStats.Bytes);
        Assert.Equal(0, receivedStats.FramesLost);
        Assert.True(receivedStats.Ended);
        Assert.False(receivedStats.MetadataCarried);
    }

    [Fact]
    public async Task AReceiverThatJoinsWhileTheStreamRunsAsksForTheMetadataAndGetsIt()
    {
        NatsServerProcess server = Track(NatsServerProcess.Start());
        string near = NewName("rn-late");
        string far = NewName("rn-late-far");
        using var nearReader = new RingReader(near, new ReaderOptions { PayloadSize = 1 << 20 });
        await using NatsConnection sending = Connect(server.Url);
        await using NatsRingBridge sender = await NatsRingBridge.StartSendingAsync(sending, _subject, nearReader);
        using var nearWriter = new RingWriter(near);
        nearWriter.SetMetadata("late=yes"u8);
        WritePattern(nearWriter, 1, 100);
        // The metadata went out before frame 1, to nobody; the sender has taken frame 1 once its statistics count it.
        Safety.Until(() => sender.Statistics is { Frames: 1, MetadataCarried: true }, "the sender publishing frame 1");

        using var farReader = new RingReader(far, new ReaderOptions { PayloadSize = 1 << 20 });
        await using NatsConnection receiving = Connect(server.Url);
        using var farWriter = new RingWriter(far);
        await using NatsRingBridge receiver = await NatsRingBridge.StartReceivingAsync(receiving, _subject, farWriter);

        Safety.Until(() => farReader.HasMetadata, "the metadata reaching the late receiver");
        Assert.Equal("late=yes", Encoding.UTF8.GetString(farReader.GetMetadata()));
        WritePattern(nearWriter, 2, 200);
        using (Frame frame = farReader.Read(Safety.Timeout))
        {
            Assert.Null(FramePattern.Verify(frame.Span, 2));
        }
        nearWriter.Dispose();
        NatsRingBridgeStatistics stats = await receiver.Completion.WaitAsync(ToolProcess.SafetyTimeout);
        Assert.Equal(1, stats.Frames);
        // Frame 1 went before this receiver subscribed: not its loss.
        Assert.Equal(0, stats.FramesLost);
        Assert.True(stats.MetadataCarried);
    }

    [Fact]
    public async Task GapsTornFramesAndFramesLostAtTheEndAreCountedAndTheFramesThatArriveAreWholeAndInOrder()
    {
        NatsServerProcess server = Track(NatsServerProcess.Start());
        string far = NewName("rn-gaps");
        using var farReader = new RingReader(far, new ReaderOptions { PayloadSize = 1 << 20 });
        await using NatsConnection receiving = Connect(server.Url);
        await using NatsConnection publishing = Connect(server.Url);
        using var farWriter = new RingWriter(far);
        await using NatsRingBridge receiver = await NatsRingBridge.StartReceivingAsync(receiving, _subject, farWriter);

        // As a sender would publish them, with frames 3 and (after 6) 7 and 8 lost on the way, and frame 5's second chunk too.
        var wire = new HandMadeSender(publishing, _subject, sender: 0x1234);
        await wire.FrameAsync(1, Pattern(1, 300));
        await wire.FrameAsync(2, Pattern(2, 400));
        await wire.FrameAsync(4, Pattern(4, 500));
        byte[] five = Pattern(5, 2000);
        await wire.ChunkAsync(5, five, five[..1000], index: 0, count: 2);
        await wire.FrameAsync(6, Pattern(6, 600));
        await publishing.PublishAsync(_subject, "a plain NATS message"u8.ToArray());
        await wire.EndAsync(lastSequence: 8);

        NatsRingBridgeStatistics stats = await receiver.Completion.WaitAsync(ToolProcess.SafetyTimeout);
        // 3 (a gap), 5 (torn), 7 and 8 (after the last one received).
        Assert.Equal(4, stats.FramesLost);
        Assert.Equal(0, stats.FramesWithoutRoom);
        Assert.Equal(1, stats.MessagesRejected);
        Assert.Equal(4, stats.Frames);
        farWriter.Dispose();
        foreach (ulong expected in new ulong[] { 1, 2, 4, 6 })
        {
            using Frame frame = farReader.Read(Safety.Timeout);
            Assert.Null(FramePattern.Verify(frame.Span, expected));
        }
        Assert.Equal(ReadStatus.WriterDisconnected, farReader.TryRead(out _, Safety.Timeout));
    }

    [Fact]
    public async Task WithTheRingFullAFrameIsDroppedAndCountedInsteadOfHoldingUpTheConnection()
    {
        NatsServerProcess server = Track(NatsServerProcess.Start());
        string far = NewName("rn-full");
        // Room for three frames of 20,000 bytes (and their headers), not four.
        using var farReader = new RingReader(far, new ReaderOptions { PayloadSize = 64 * 1024 });
        await using NatsConnection receiving = Connect(server.Url);
        await using NatsConnection publishing = Connect(server.Url);
        using var farWriter = new RingWriter(far);
        await using NatsRingBridge receiver = await NatsRingBridge.StartReceivingAsync(receiving, _subject, farWriter,
            new NatsRingBridgeOptions { RingFullTimeout = TimeSpan.Zero });

        var wire = new HandMadeSender(publishing, _subject, sender: 0x99);
        for (ulong sequence = 1; sequence <= 10; sequence++)
        {
            await wire.FrameAsync(sequence, Pattern(sequence, 20_000));
        }
        await wire.EndAsync(lastSequence: 10);

        NatsRingBridgeStatistics stats = await receiver.Completion.WaitAsync(ToolProcess.SafetyTimeout);
        Assert.Equal(3, stats.Frames);
        Assert.Equal(7, stats.FramesWithoutRoom);
        Assert.Equal(7, stats.FramesLost);
        for (ulong expected = 1; expected <= 3; expected++)
        {
            using Frame frame = farReader.Read(Safety.Timeout);
            Assert.Null(FramePattern.Verify(frame.Span, expected));
        }
    }

    [Fact]
    public async Task EveryReceiverGetsEveryFrameOfOneSender()
    {
        NatsServerProcess server = Track(NatsServerProcess.Start());
        string near = NewName("rn-fan");
        string[] fars = [NewName("rn-fan-a"), NewName("rn-fan-b"), NewName("rn-fan-c")];
        var rings = new List<IDisposable>();
        try
        {
            var readers = new List<RingReader>();
            var received = new List<Task<FarStream>>();
            var receivers = new List<NatsRingBridge>();
            foreach (string far in fars)
            {
                var reader = new RingReader(far, new ReaderOptions { PayloadSize = 4 << 20 });
                rings.Add(reader);
                readers.Add(reader);
                var connection = Connect(server.Url);
                rings.Add(new Disposer(() => connection.DisposeAsync().AsTask().GetAwaiter().GetResult()));
                var writer = new RingWriter(far);
                rings.Add(writer);
                NatsRingBridge bridge = await NatsRingBridge.StartReceivingAsync(connection, _subject, writer);
                rings.Add(bridge);
                receivers.Add(bridge);
                received.Add(ReadFarAsync(reader, new ManualResetEventSlim()));
            }
            using var nearReader = new RingReader(near, new ReaderOptions { PayloadSize = 1 << 20 });
            await using NatsConnection sending = Connect(server.Url);
            await using NatsRingBridge sender = await NatsRingBridge.StartSendingAsync(sending, _subject, nearReader);
            using (var nearWriter = new RingWriter(near))
            {
                for (ulong sequence = 1; sequence <= 100; sequence++)
                {
                    WritePattern(nearWriter, sequence, FramePattern.VariedLength(sequence, 20_000) + FramePattern.HeaderLength);
                }
            }

            foreach (NatsRingBridge receiver in receivers)
            {
                NatsRingBridgeStatistics stats = await receiver.Completion.WaitAsync(ToolProcess.SafetyTimeout);
                Assert.Equal(100, stats.Frames);
                Assert.Equal(0, stats.FramesLost);
            }
            // Each receiving end's writer disconnects (in the order they were made), ending each far reader's stream.
            foreach (IDisposable writer in rings.OfType<RingWriter>())
            {
                writer.Dispose();
            }
            foreach (Task<FarStream> stream in received)
            {
                FarStream far = await stream.WaitAsync(ToolProcess.SafetyTimeout);
                Assert.Null(far.Problem);
                Assert.Equal((1UL, 100UL, 100L), (far.First, far.Last, far.Count));
            }
        }
        finally
        {
            for (int i = rings.Count - 1; i >= 0; i--)
            {
                rings[i].Dispose();
            }
        }
    }

    [Fact]
    public async Task BridgeReceiveExitsWithOneLineWhenTheFarReaderLeaves()
    {
        NatsServerProcess server = Track(NatsServerProcess.Start());
        string far = NewName("rn-cligone");
        var farReader = new RingReader(far, new ReaderOptions { PayloadSize = 64 * 1024 });
        try
        {
            ToolProcess receive = Track(ToolProcess.Start("bridge", "receive", far, "--nats", server.Url, _subject));
            Safety.Until(() => TestBuffers.StatsOrNull(far) is { WriterAlive: true } || receive.HasExited, "the receiving end connecting to the far buffer");

            farReader.Dispose();
            ToolResult result = await receive.WaitAsync();

            ToolProcess.AssertOneLineError(result, $"The reader of buffer '{far}' is gone");
        }
        finally
        {
            farReader.Dispose();
        }
    }

    [Fact]
    public async Task TheReceivingEndStopsWithReaderGoneWhenTheFarReaderLeaves()
    {
        NatsServerProcess server = Track(NatsServerProcess.Start());
        string far = NewName("rn-gone");
        var farReader = new RingReader(far, new ReaderOptions { PayloadSize = 64 * 1024 });
        try
        {
            await using NatsConnection receiving = Connect(server.Url);
            using var farWriter = new RingWriter(far);
            await using NatsRingBridge receiver = await NatsRingBridge.StartReceivingAsync(receiving, _subject, farWriter);

            farReader.Dispose();

            ReaderGoneException gone = await Assert.ThrowsAsync<ReaderGoneException>(() => receiver.Completion.WaitAsync(ToolProcess.SafetyTimeout));
            Assert.Contains($"The reader of buffer '{far}' is gone", gone.Message);
        }
        finally
        {
            farReader.Dispose();
        }
    }

    [Fact]
    public async Task TheSendingEndAllocatesNothingPerFrame()
    {
        NatsServerProcess server = Track(NatsServerProcess.Start());
        string near = NewName("rn-alloc");
        using var nearReader = new RingReader(near, new ReaderOptions { PayloadSize = 1 << 20 });
        await using NatsConnection sending = Connect(server.Url);
        await sending.ConnectAsync();
        // The forwarding thread's turn, called here: what it allocates shows on this thread.
        NatsRingSender sender = await NatsRingSender.StartAsync(sending, _subject, nearReader, new NatsRingBridgeOptions(), CancellationToken.None, run: false);
        await using (sender)
        {
            using var nearWriter = new RingWriter(near);
            nearWriter.SetMetadata("m"u8);
            byte[] frame = Pattern(1, 100);
            void Cycle()
            {
                nearWriter.Write(frame, Safety.Timeout);
                Assert.True(sender.Step(CancellationToken.None));
            }
            for (int i = 0; i < 200; i++)
            {
                Cycle();
            }
            // Each window of 100 frames (about 35 KB on the wire) fits NATS.Net's 64 KB send buffer, emptied before it by a
            // ping: a send that has to wait for room allocates the wait (NatsSampleSender), which is not the steady state. The
            // cheapest of three windows: one where NATS.Net's flushing thread held its lock at a publish may show that wait too.
            long allocated = long.MaxValue;
            for (int window = 0; window < 3; window++)
            {
                await sending.PingAsync();
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 100; i++)
                {
                    Cycle();
                }
                allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
            }

            Assert.Equal(0, allocated);
            Assert.Equal(500, sender.Statistics.Frames);
        }
    }

    [Theory]
    [InlineData("send", "--to", "127.0.0.1:9", "give either --to (TCP) or --nats URL SUBJECT (NATS), not both.")]
    [InlineData("receive", "--listen", "9", "give either --listen (TCP) or --nats URL SUBJECT (NATS), not both.")]
    public async Task TcpAndNatsTogetherAreRefused(string side, string option, string value, string expected)
    {
        ToolResult result = await ToolProcess.RunAsync("bridge", side, NewName("rn-args"), option, value, "--nats", "nats://127.0.0.1:9", "a.b");

        ToolProcess.AssertOneLineError(result, expected);
    }

    [Theory]
    [InlineData("send", "give where the frames go: --to for TCP, or --nats URL SUBJECT for NATS.")]
    [InlineData("receive", "give where the frames go: --listen for TCP, or --nats URL SUBJECT for NATS.")]
    public async Task NeitherTransportIsRefused(string side, string expected)
    {
        ToolResult result = await ToolProcess.RunAsync("bridge", side, NewName("rn-args"));

        ToolProcess.AssertOneLineError(result, expected);
    }

    [Theory]
    [InlineData("nats://127.0.0.1:9", "camera.*", "a wildcard ('*' or '>') cannot be published to")]
    [InlineData("nats://127.0.0.1:9", "camera..front", "no token may be empty")]
    [InlineData("nats://127.0.0.1:9", "zerolane.camera", "carry topics (the gateway's)")]
    [InlineData("nats://127.0.0.1:9", "camera front", "only printable ASCII characters, without spaces")]
    [InlineData("http://127.0.0.1:9", "camera", "NATS URL 'http://127.0.0.1:9' in 'http://127.0.0.1:9' has scheme 'http', not nats or tls")]
    [InlineData("nats://127.0.0.1:9,", "camera", "NATS URL '' in 'nats://127.0.0.1:9,' is empty (a stray comma?)")]
    public async Task ABadSubjectOrUrlIsRefusedBeforeAnythingIsCreated(string url, string subject, string expected)
    {
        string near = NewName("rn-bad");

        ToolResult result = await ToolProcess.RunAsync("bridge", "send", near, "--nats", url, subject);

        ToolProcess.AssertOneLineError(result, expected);
        Assert.Empty(TestBuffers.Leftovers(near));
    }

    [Fact]
    public async Task SendFailsInOneLineWhenNoNatsServerAnswersAndCreatesNoBuffer()
    {
        string near = NewName("rn-nonats");
        int port = ZeroLane.Tests.Cli.BridgeProcesses.FreePort();

        ToolResult result = await ToolProcess.RunAsync("bridge", "send", near, "--nats", $"nats://127.0.0.1:{port}", _subject, "--connect-timeout", "0.3");

        ToolProcess.AssertOneLineError(result, $"Could not reach any NATS server (nats://127.0.0.1:{port}) within 300 ms");
        Assert.Empty(TestBuffers.Leftovers(near));
    }

    [Fact]
    public async Task ReceiveFailsInOneLineWhenNoReaderCreatesItsBuffer()
    {
        NatsServerProcess server = Track(NatsServerProcess.Start());
        string far = NewName("rn-nobuffer");

        // The timeout bounds the connection to NATS too, whose handshake a loaded machine may take a while over: not too short.
        ToolResult result = await ToolProcess.RunAsync("bridge", "receive", far, "--nats", server.Url, _subject, "--connect-timeout", "5");

        ToolProcess.AssertOneLineError(result, $"buffer '{far}' did not appear within 5 s: start its reader on this host first");
    }

    /// <summary>What the far reader saw: the first and last frame numbers, how many, and the first problem (null if none).</summary>
    private sealed record FarStream(ulong First, ulong Last, long Count, string? Problem);

    /// <summary>
    /// Reads the far ring on a thread of its own until its writer disconnects: every frame must be a whole FramePattern
    /// frame, each numbered one more than the one before. Sets <paramref name="first"/> at the first frame.
    /// </summary>
    private static Task<FarStream> ReadFarAsync(RingReader reader, ManualResetEventSlim first) => Safety.OnThread(() =>
    {
        ulong firstNumber = 0, last = 0;
        long count = 0;
        while (true)
        {
            ReadStatus status = reader.TryRead(out Frame frame, ToolProcess.SafetyTimeout);
            if (status != ReadStatus.Success)
            {
                return new FarStream(firstNumber, last, count, status == ReadStatus.WriterDisconnected ? null : $"after frame {last}: {status}");
            }
            using (frame)
            {
                ulong number = frame.Length >= FramePattern.HeaderLength ? BinaryPrimitives.ReadUInt64LittleEndian(frame.Span) : 0;
                if (FramePattern.Verify(frame.Span, number) is { } damage)
                {
                    return new FarStream(firstNumber, last, count, $"frame after {last}: {damage}");
                }
                if (count > 0 && number != last + 1)
                {
                    return new FarStream(firstNumber, last, count, $"frame {number} came after frame {last}");
                }
                if (count == 0)
                {
                    firstNumber = number;
                    first.Set();
                }
                last = number;
                count++;
            }
        }
    });

    private static void WritePattern(RingWriter writer, ulong sequence, int length)
    {
        using FrameLoan loan = writer.Loan(length, Safety.Timeout);
        FramePattern.Fill(loan.Span[..length], sequence);
        loan.Commit(length);
    }

    private static byte[] Pattern(ulong sequence, int length)
    {
        byte[] bytes = new byte[length];
        FramePattern.Fill(bytes, sequence);
        return bytes;
    }

    private static NatsConnection Connect(string url) => new(new NatsOpts { Url = url, Name = "zltest-ring", Echo = false });

    private T Track<T>(T disposable)
        where T : IDisposable
    {
        _cleanup.Add(disposable);
        return disposable;
    }

    public override void Dispose()
    {
        try
        {
            for (int i = _cleanup.Count - 1; i >= 0; i--)
            {
                _cleanup[i].Dispose();
            }
        }
        finally
        {
            base.Dispose();
        }
    }

    private sealed class Disposer(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    /// <summary>Publishes what a ring bridge's sending end would (PROTOCOL.md 16.6), message by message, so a test can leave some out.</summary>
    private sealed class HandMadeSender(NatsConnection connection, string subject, ulong sender)
    {
        internal ValueTask FrameAsync(ulong sequence, byte[] frame) => PublishAsync(sequence, frame, frame.Length, chunk: null, kind: null);

        internal ValueTask ChunkAsync(ulong sequence, byte[] frame, byte[] chunk, int index, int count) =>
            PublishAsync(sequence, chunk, frame.Length, $"{index:x8}/{count:x8}", kind: null);

        internal ValueTask EndAsync(ulong lastSequence) => PublishAsync(lastSequence, [], 0, chunk: null, kind: "end");

        private ValueTask PublishAsync(ulong sequence, byte[] payload, long length, string? chunk, string? kind)
        {
            var headers = new NatsHeaders
            {
                ["Zl-V"] = "1",
                ["Zl-Gw"] = sender.ToString("x16"),
                ["Zl-Pub"] = 0UL.ToString("x16"),
                ["Zl-Seq"] = sequence.ToString("x16"),
                ["Zl-Ts"] = 1UL.ToString("x16"),
                ["Zl-Len"] = length.ToString("x16"),
            };
            if (chunk is not null)
            {
                headers["Zl-Chunk"] = chunk;
            }
            if (kind is not null)
            {
                headers["Zl-Kind"] = kind;
            }
            return connection.PublishAsync(subject, payload, headers);
        }
    }
}
