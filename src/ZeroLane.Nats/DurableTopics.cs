using System.Buffers;
using System.Text;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace ZeroLane.Nats;

/// <summary>
/// The JetStream side of a durable gateway (PROTOCOL.md 16.5): one stream per topic capturing <c>zerolane.TOPIC</c>, and
/// per importing gateway one durable consumer of it, so samples survive a gateway's restart and a late joiner can be
/// given the newest ones.
/// </summary>
internal static class DurableTopics
{
    /// <summary>The stream of <paramref name="topic"/>: "ZL_", the topic with '.' as '_', and a hash of the exact name (so "a.b" and "a_b" differ).</summary>
    internal static string StreamName(string topic) => "ZL_" + topic.Replace('.', '_') + "_" + Hash(topic);

    /// <summary>The durable consumer of a gateway named <paramref name="gateway"/>: its name's letters, digits, '-' and '_', and a hash of the exact name.</summary>
    internal static string ConsumerName(string gateway, string topic)
    {
        var name = new StringBuilder("zl_");
        foreach (char c in gateway)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_');
        }
        return name.Append('_').Append(Hash(gateway + "\n" + topic)).ToString();
    }

    /// <summary>Creates the topic's stream unless it exists (an existing one is used as it is: an operator may have tuned it).</summary>
    internal static async Task EnsureStreamAsync(INatsJSContext js, string topic, NatsGatewayOptions options, CancellationToken cancellationToken)
    {
        string name = StreamName(topic);
        try
        {
            await js.GetStreamAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
        }
        try
        {
            await js.CreateStreamAsync(new StreamConfig(name, [NatsSubjects.ForTopic(topic)])
            {
                Description = $"ZeroLane topic '{topic}' (zerolane gateway --durable)",
                Retention = StreamConfigRetention.Limits,
                MaxMsgs = options.DurableMaxMessages,
                MaxBytes = options.DurableMaxBytes,
                Discard = StreamConfigDiscard.Old,
                Storage = StreamConfigStorage.File,
                DuplicateWindow = TimeSpan.FromMinutes(2),
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException e) when (e.Error.ErrCode == 10058)
        {
            // Created meanwhile by another gateway: use it.
        }
    }

    /// <summary>
    /// The gateway's durable consumer of the topic's stream. A new one starts with the newest <paramref name="replay"/>
    /// messages kept (0: only what comes next); an existing one (the gateway restarted) goes on where it left off.
    /// </summary>
    internal static async Task<INatsJSConsumer> GetConsumerAsync(INatsJSContext js, string gateway, string topic, int replay, CancellationToken cancellationToken)
    {
        string stream = StreamName(topic);
        string name = ConsumerName(gateway, topic);
        try
        {
            return await js.GetConsumerAsync(stream, name, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
        }
        INatsJSStream info = await js.GetStreamAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        ulong last = info.Info.State.LastSeq;
        var config = new ConsumerConfig(name)
        {
            AckPolicy = ConsumerConfigAckPolicy.Explicit,
            FilterSubject = NatsSubjects.ForTopic(topic),
        };
        if (replay > 0 && last > 0)
        {
            config.DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence;
            config.OptStartSeq = last >= (ulong)replay ? last - (ulong)replay + 1 : 1;
        }
        else
        {
            config.DeliverPolicy = ConsumerConfigDeliverPolicy.New;
        }
        return await js.CreateOrUpdateConsumerAsync(stream, config, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes <paramref name="headers"/> back into the raw header block NATS sent, so JetStream messages go through the same parser.</summary>
    internal static ReadOnlySequence<byte>? ToRawBlock(NatsHeaders? headers)
    {
        if (headers is null)
        {
            return null;
        }
        var block = new StringBuilder("NATS/1.0\r\n");
        foreach (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues> header in headers)
        {
            foreach (string? value in header.Value)
            {
                block.Append(header.Key).Append(": ").Append(value).Append("\r\n");
            }
        }
        block.Append("\r\n");
        return new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(block.ToString()));
    }

    private static string Hash(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }
        return ((uint)(hash ^ (hash >> 32))).ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
    }
}
