using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ZeroLane.Nats;

/// <summary>
/// A gateway's figures on the <c>ZeroLane.Gateway</c> meter (System.Diagnostics.Metrics, for OpenTelemetry or
/// dotnet-counters), tagged with the gateway's name. Observed on demand: nothing is counted twice on the hot path.
/// </summary>
internal sealed class GatewayMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    internal const string MeterName = "ZeroLane.Gateway";

    private readonly Meter _meter = new(MeterName);

    internal GatewayMetrics(NatsGateway gateway)
    {
        var tags = new TagList { { "gateway", gateway.Name } };
        GatewayCounters c = gateway.Counters;
        _meter.CreateObservableCounter("zerolane.gateway.samples_sent", () => new Measurement<long>(Interlocked.Read(ref c.SamplesSent), tags), "{sample}", "Local samples published to NATS");
        _meter.CreateObservableCounter("zerolane.gateway.bytes_sent", () => new Measurement<long>(Interlocked.Read(ref c.BytesSent), tags), "By", "Bytes of the samples published to NATS");
        _meter.CreateObservableCounter("zerolane.gateway.samples_received", () => new Measurement<long>(Interlocked.Read(ref c.SamplesReceived), tags), "{sample}", "Samples from other hosts republished locally");
        _meter.CreateObservableCounter("zerolane.gateway.bytes_received", () => new Measurement<long>(Interlocked.Read(ref c.BytesReceived), tags), "By", "Payload bytes taken from NATS");
        _meter.CreateObservableCounter("zerolane.gateway.samples_dropped", () => new Measurement<long>(gateway.Statistics.SamplesDroppedLocally, tags), "{sample}", "Local samples dropped because NATS was slower than the publishers");
        _meter.CreateObservableCounter("zerolane.gateway.samples_lost", () => new Measurement<long>(gateway.Statistics.SamplesLost, tags), "{sample}", "Samples of other hosts that never arrived whole");
        _meter.CreateObservableCounter("zerolane.gateway.messages_rejected", () => new Measurement<long>(Interlocked.Read(ref c.Rejected), tags), "{message}", "NATS messages that were not valid samples");
        _meter.CreateObservableCounter("zerolane.gateway.reconnects", () => new Measurement<long>(Interlocked.Read(ref c.Reconnects), tags), "{reconnect}", "Reconnections to NATS");
    }

    public void Dispose() => _meter.Dispose();
}
