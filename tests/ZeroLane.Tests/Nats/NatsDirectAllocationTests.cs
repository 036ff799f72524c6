using System.Buffers;
using System.Runtime.InteropServices;
using NATS.Client.Core;
using ZeroLane.Nats;
using ZeroLane.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace ZeroLane.Tests.Nats;

/// <summary>
/// The gateway's own NATS connection allocates nothing per sample, send side and receive side (issue 13, point 7: 0 B per
/// sample in the gateway's steady state on the send side). Everything the sending thread allocates is counted here, the
/// connection's work included: unlike NATS.Net's, it has nothing to set apart. Measured with
/// <see cref="GC.GetAllocatedBytesForCurrentThread"/> against a real nats-server on loopback.
/// </summary>
public sealed class NatsDirectAllocationTests
{
    private readonly ITestOutputHelper _output;

    public NatsDirectAllocationTests(ITestOutputHelper output) => _output = output;

    /// <summary>
    /// Samples in native memory (as shared memory is) sent with <see cref="NatsSampleSender"/> on a
    /// <see cref="NatsDirectConnection"/>: 64 B, 64 KiB, 1 MiB (two chunks under the default 1 MiB max_payload, with the
    /// headers) and a 1080p RGB frame of 6,220,800 B (seven chunks). The best of two windows after a warm-up, so a one-time
    /// allocation does not count; all of the thread's bytes must be 0.
    /// </summary>
    [Theory]
    [InlineData(64, 1000)]
    [InlineData(64 * 1024, 1000)]
    [InlineData(1 << 20, 300)]
    [InlineData(6_220_800, 100)]
    public async Task SendingASampleOnTheDirectConnectionAllocatesNothingOnTheSendingThread(int size, int sends)
    {
        Prerequisites.NatsServer.Require();
        using NatsServerProcess server = NatsServerProcess.Start();
        using var direct = new NatsDirectConnection(new NatsEndpoint { Urls = [server.Url], Name = "zltest-direct-allocation" });
        (long best, NatsSampleSender sender) = await MeasureSends(direct, server.Url, size, sends);

        _output.WriteLine($"{sends} sends of {size} B on the direct connection: {best} B allocated on the sending thread " +
            $"({sender.MessagesSentDirect} NATS messages in all).");
        Assert.True(best == 0, $"{sends} sends of {size} B allocated {best} B on the sending thread.");
        Assert.Equal(sender.MessagesSent, sender.MessagesSentDirect);
        Assert.True(sender.MessagesSentDirect >= 3L * sends, $"only {sender.MessagesSentDirect} messages were sent");
    }

    /// <summary>
    /// The same over TLS (a server requiring it, verified with a CA made for the test): the payload goes through
    /// <see cref="System.Net.Security.SslStream"/> over a stream whose writes wait in poll(2), so the sending thread still
    /// allocates nothing, at 64 B and at 1 MiB (two chunks).
    /// </summary>
    [Theory]
    [InlineData(64, 1000)]
    [InlineData(1 << 20, 100)]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task SendingOverTlsOnTheDirectConnectionAllocatesNothingOnTheSendingThread(int size, int sends)
    {
        Prerequisites.NatsServer.Require();
        using var directory = new NatsServerAuth.PrivateDirectory();
        (string caFile, string certFile, string keyFile) = NatsServerAuth.CreateCaAndServerCertificate(directory);
        using NatsServerProcess server = NatsServerProcess.Start(NatsServerAuth.TlsConfig(certFile, keyFile));
        using var direct = new NatsDirectConnection(new NatsEndpoint { Urls = [server.Url], Name = "zltest-direct-tls-allocation", TlsCaFile = caFile });
        (long best, _) = await MeasureSends(direct, server.Url, size, sends);

        _output.WriteLine($"{sends} sends of {size} B over TLS on the direct connection: {best} B allocated on the sending thread.");
        Assert.True(best == 0, $"{sends} sends of {size} B over TLS allocated {best} B on the sending thread.");
    }

    /// <summary>
    /// The receive side: messages of 64 B and 1 MiB from one direct connection to another, which hands each to its receiver
    /// on its reader thread. The receiver notes the thread's allocation counter at each message; from the 200th message to
    /// the last, the reader thread (parsing the lines, reading the socket, dispatching) must have allocated nothing.
    /// </summary>
    [Theory]
    [InlineData(64, 3000)]
    [InlineData(1 << 20, 400)]
    public void ReceivingOnTheDirectConnectionAllocatesNothingOnItsReaderThread(int size, int messages)
    {
        Prerequisites.NatsServer.Require();
        using NatsServerProcess server = NatsServerProcess.Start($"max_payload: {4 << 20}");
        var endpoint = new NatsEndpoint { Urls = [server.Url], Name = "zltest-direct-receive" };
        using var sending = new NatsDirectConnection(endpoint);
        using var receiving = new NatsDirectConnection(endpoint);
        sending.Connect(CancellationToken.None);
        receiving.Connect(CancellationToken.None);
        string subject = "zltest.direct.receive." + Guid.NewGuid().ToString("N")[..8];
        var receiver = new CountingReceiver(messages);
        receiving.Subscribe(subject, receiver);
        Assert.True(receiving.Flush(TimeSpan.FromSeconds(60)), "the subscription did not reach the server");

        byte[] subjectBytes = System.Text.Encoding.ASCII.GetBytes(subject);
        byte[] headers = "NATS/1.0\r\nZl-Test: 1\r\n\r\n"u8.ToArray();
        byte[] payload = new byte[size];
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        // Core NATS may drop a message (at most once): send until the receiver has its count or the guard ends the test.
        while (!receiver.Done)
        {
            guard.Token.ThrowIfCancellationRequested();
            sending.Publish(subjectBytes, headers, payload, guard.Token);
            if (size > 1024)
            {
                // Let the reader keep up: a message per round trip.
                sending.Flush(TimeSpan.FromSeconds(10));
            }
        }
        long allocated = receiver.AllocatedFrom(200);
        _output.WriteLine($"{messages} messages of {size} B received: {allocated} B allocated on the reader thread from the 200th to the last.");
        Assert.True(allocated == 0, $"the reader thread allocated {allocated} B handing on messages 200 to {messages} of {size} B");
        Assert.Equal(size, receiver.LastLength);
    }

    /// <summary>
    /// Connects <paramref name="direct"/>, then sends a sample of <paramref name="size"/> bytes in native memory with a
    /// <see cref="NatsSampleSender"/> on it (<see cref="BestWindow"/>, on a thread of its own): the bytes of the better window.
    /// </summary>
    private static async Task<(long Best, NatsSampleSender Sender)> MeasureSends(NatsDirectConnection direct, string url, int size, int sends)
    {
        direct.Connect(CancellationToken.None);
        // Never connected: the sender uses it only when there is no direct connection.
        await using var unused = new NatsConnection(NatsOpts.Default with { Url = url });
        var sender = new NatsSampleSender(unused, "zerolane.zltest-direct-" + Guid.NewGuid().ToString("N")[..8], senderId: 0x1234, jetStream: null, direct);
        IntPtr memory = NativeAlloc(size);
        try
        {
            long best = await Task.Factory.StartNew(() => BestWindow(sender, memory, size, sends),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            return (best, sender);
        }
        finally
        {
            NativeFree(memory);
        }
    }

    /// <summary>A warm-up of <paramref name="sends"/>, then the fewer bytes of two windows of as many, allocated on this thread.</summary>
    private static long BestWindow(NatsSampleSender sender, IntPtr memory, int size, int sends)
    {
        ulong sequence = 0;
        for (int i = 0; i < sends; i++)
        {
            Send(sender, memory, size, ++sequence);
        }
        long least = long.MaxValue;
        for (int window = 0; window < 2; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < sends; i++)
            {
                Send(sender, memory, size, ++sequence);
            }
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }

    private static unsafe void Send(NatsSampleSender sender, IntPtr memory, int size, ulong sequence) =>
        sender.Send(new ReadOnlySpan<byte>((void*)memory, size), publisher: 7, sequence, timestampNanoseconds: 1, CancellationToken.None);

    private static unsafe IntPtr NativeAlloc(int size)
    {
        void* memory = NativeMemory.Alloc((nuint)size);
        new Span<byte>(memory, size).Fill(0x5A);
        return (IntPtr)memory;
    }

    private static unsafe void NativeFree(IntPtr memory) => NativeMemory.Free((void*)memory);

    /// <summary>Notes the reader thread's allocation counter at each message, into an array made beforehand.</summary>
    private sealed class CountingReceiver(int messages) : IRawMessageReceiver
    {
        private readonly long[] _allocated = new long[messages];
        private int _count;

        internal bool Done => Volatile.Read(ref _count) >= messages;

        internal long LastLength { get; private set; }

        public void Receive(ReadOnlySequence<byte>? headers, ReadOnlySequence<byte> payload)
        {
            if (_count < messages)
            {
                _allocated[_count] = GC.GetAllocatedBytesForCurrentThread();
                LastLength = payload.Length;
                Volatile.Write(ref _count, _count + 1);
            }
        }

        internal long AllocatedFrom(int first) => _allocated[messages - 1] - _allocated[first];
    }
}
