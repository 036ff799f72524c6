using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ZeroLane.Buffers;
using ZeroLane.Messages;
using ZeroLane.Messages.Transport;

namespace ZeroLane.TestPeer;

/// <summary>
/// The message scenarios, the C# side of the Python client's cross-language message tests (issue 11, point 4).
/// ENDPOINT is <c>tcp:HOST:PORT</c> or <c>unix:PATH</c>. Every message a scenario sends or receives is printed as
/// <c>MSG i BODYLEN/PART0LEN,PART1LEN,.. SHA256</c> (the hash of the body and the parts, in order), so the test can
/// compare what one side sent with what the other received without sharing a generator.
/// </summary>
internal static class MessageScenarios
{
    /// <summary>
    /// message-encode FILE: each line of FILE is <c>BODYHEX[|PARTHEX]...</c> (one part per '|'); prints the hex of each
    /// line's message as <see cref="MessageEncoding"/> encodes it (prefix, header, body, parts), one line each.
    /// </summary>
    internal static int Encode(PeerArguments arguments)
    {
        var output = new StringBuilder();
        foreach (string line in File.ReadAllLines(arguments.Name))
        {
            string[] fields = line.Split('|');
            byte[] body = Convert.FromHexString(fields[0]);
            ReadOnlyMemory<byte>[] parts = fields.Skip(1).Select(f => (ReadOnlyMemory<byte>)Convert.FromHexString(f)).ToArray();
            using Message message = Message.Create(body, parts);
            byte[] encoded = new byte[MessageEncoding.TotalLength(message)];
            int offset = MessageEncoding.WriteHeader(message, encoded);
            message.Body.Span.CopyTo(encoded.AsSpan(offset));
            offset += message.Body.Length;
            foreach (ReadOnlyMemory<byte> part in message.Parts)
            {
                part.Span.CopyTo(encoded.AsSpan(offset));
                offset += part.Length;
            }
            output.AppendLine(Convert.ToHexString(encoded));
        }
        Console.Write(output.ToString());
        return ExitCodes.Success;
    }

    /// <summary>message-send ENDPOINT [--count N]: connects, sends N generated messages (<see cref="Generate"/>), closes.</summary>
    internal static int Send(PeerArguments arguments, CancellationToken stop)
    {
        long count = arguments.Number("count") ?? 10;
        using MessageConnection connection = Connect(arguments.Name, stop);
        Console.WriteLine($"{PeerOutput.Connected} pid={Environment.ProcessId}");
        for (int i = 0; i < count; i++)
        {
            using Message message = Generate(i);
            connection.SendAsync(message, stop).AsTask().GetAwaiter().GetResult();
            Console.WriteLine(Describe(i, message));
        }
        connection.CloseAsync(stop).AsTask().GetAwaiter().GetResult();
        Console.WriteLine($"{PeerOutput.Written} messages={count}");
        return ExitCodes.Success;
    }

    /// <summary>
    /// message-receive ENDPOINT: listens (prints <c>READY port=P</c>), accepts one connection and prints each message it
    /// receives until the peer closes, then <c>OK messages=N</c>; a malformed stream prints <c>ERROR Type: message</c>.
    /// With --echo it sends each message back before printing it.
    /// </summary>
    internal static int Receive(PeerArguments arguments, CancellationToken stop)
    {
        bool echo = arguments.Has("echo");
        using MessageListener listener = Listen(arguments.Name);
        Console.WriteLine($"{PeerOutput.Ready} port={listener.Port}");
        using MessageConnection connection = listener.AcceptAsync(stop).AsTask().GetAwaiter().GetResult();
        int received = 0;
        try
        {
            while (true)
            {
                ReceiveResult result = connection.TryReceiveAsync(Timeout.InfiniteTimeSpan, stop).AsTask().GetAwaiter().GetResult();
                if (result.Status != ReceiveStatus.Success)
                {
                    break;
                }
                using Message message = result.Message!;
                if (echo)
                {
                    connection.SendAsync(message, stop).AsTask().GetAwaiter().GetResult();
                }
                Console.WriteLine(Describe(received++, message));
            }
            connection.CloseAsync(stop).AsTask().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Console.WriteLine($"{PeerOutput.Error} {e.GetType().Name}: {Scenarios.OneLine(e.Message)}");
            return ExitCodes.VerificationFailed;
        }
        Console.WriteLine($"{PeerOutput.Ok} messages={received}");
        return ExitCodes.Success;
    }

    /// <summary>message-ring-writer NAME [--count N]: connects to the ring and writes N generated messages with WriteMessage.</summary>
    internal static int WriteToRing(PeerArguments arguments, CancellationToken stop)
    {
        long count = arguments.Number("count") ?? 10;
        using var writer = new RingWriter(arguments.Name, new WriterOptions());
        Console.WriteLine($"{PeerOutput.Connected} pid={Environment.ProcessId}");
        for (int i = 0; i < count; i++)
        {
            using Message message = Generate(i);
            writer.WriteMessage(message, stop);
            Console.WriteLine(Describe(i, message));
        }
        Console.WriteLine($"{PeerOutput.Written} messages={count}");
        return ExitCodes.Success;
    }

    /// <summary>message-ring-reader NAME [--payload N]: creates the ring, prints READY, reads messages until the writer leaves.</summary>
    internal static int ReadFromRing(PeerArguments arguments, CancellationToken stop)
    {
        using var reader = new RingReader(arguments.Name, new ReaderOptions { PayloadSize = arguments.Number("payload") ?? 8L << 20 });
        Console.WriteLine($"{PeerOutput.Ready} pid={Environment.ProcessId}");
        int received = 0;
        try
        {
            while (reader.TryReadMessage(out Message? message, Timeout.InfiniteTimeSpan, null, stop) == ReadStatus.Success)
            {
                using (message)
                {
                    Console.WriteLine(Describe(received++, message!));
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Console.WriteLine($"{PeerOutput.Error} {e.GetType().Name}: {Scenarios.OneLine(e.Message)}");
            return ExitCodes.VerificationFailed;
        }
        Console.WriteLine($"{PeerOutput.Ok} messages={received}");
        return ExitCodes.Success;
    }

    /// <summary>
    /// Message i of the generated sequence: body of (i * 37) mod 200 bytes, i mod 6 parts (40 when i mod 10 is 9),
    /// part j of ((i + 1) * (j + 3) * 131) mod 5000 bytes, and for i = 7 a 3 MiB part; byte k of segment s holds
    /// (i * 31 + s * 7 + k) mod 251.
    /// </summary>
    internal static Message Generate(int i)
    {
        int partCount = i % 10 == 9 ? 40 : i % 6;
        var parts = new ReadOnlyMemory<byte>[partCount + (i == 7 ? 1 : 0)];
        for (int j = 0; j < parts.Length; j++)
        {
            int length = j == partCount ? 3 << 20 : (i + 1) * (j + 3) * 131 % 5000;
            parts[j] = Fill(length, i, j + 1);
        }
        return Message.Create(Fill(i * 37 % 200, i, 0), parts);
    }

    private static byte[] Fill(int length, int i, int segment)
    {
        byte[] bytes = new byte[length];
        for (int k = 0; k < length; k++)
        {
            bytes[k] = (byte)((i * 31 + segment * 7 + k) % 251);
        }
        return bytes;
    }

    /// <summary><c>MSG i BODYLEN/PART0LEN,.. SHA256-of-body-then-parts</c>.</summary>
    internal static string Describe(int index, Message message)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(message.Body.Span);
        var lengths = new List<string>();
        foreach (ReadOnlyMemory<byte> part in message.Parts)
        {
            hash.AppendData(part.Span);
            lengths.Add(part.Length.ToString(CultureInfo.InvariantCulture));
        }
        return $"MSG {index} {message.Body.Length}/{string.Join(',', lengths)} {Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant()}";
    }

    private static MessageConnection Connect(string endpoint, CancellationToken stop)
    {
        if (endpoint.StartsWith("unix:", StringComparison.Ordinal))
        {
            return MessageConnection.ConnectUnixAsync(endpoint[5..], cancellationToken: stop).AsTask().GetAwaiter().GetResult();
        }
        (string host, int port) = HostPort(endpoint);
        return MessageConnection.ConnectTcpAsync(host, port, cancellationToken: stop).AsTask().GetAwaiter().GetResult();
    }

    private static MessageListener Listen(string endpoint)
    {
        if (endpoint.StartsWith("unix:", StringComparison.Ordinal))
        {
            return MessageListener.ListenUnix(endpoint[5..]);
        }
        (string host, int port) = HostPort(endpoint);
        return MessageListener.ListenTcp(port, System.Net.IPAddress.Parse(host));
    }

    private static (string Host, int Port) HostPort(string endpoint)
    {
        if (!endpoint.StartsWith("tcp:", StringComparison.Ordinal))
        {
            throw new UsageException($"endpoint '{endpoint}' is neither tcp:HOST:PORT nor unix:PATH");
        }
        int colon = endpoint.LastIndexOf(':');
        return (endpoint[4..colon], int.Parse(endpoint[(colon + 1)..], CultureInfo.InvariantCulture));
    }
}
