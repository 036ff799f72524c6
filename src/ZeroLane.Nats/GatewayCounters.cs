namespace ZeroLane.Nats;

/// <summary>A gateway's running totals, updated with <see cref="Interlocked"/> by its threads.</summary>
internal sealed class GatewayCounters
{
    internal long SamplesSent;
    internal long BytesSent;
    internal long SamplesReceived;
    internal long BytesReceived;
    internal long Rejected;
    internal long SendFailures;
    internal long Reconnects;

    // Counts of topics no longer carried (their objects are gone), added to those of the topics carried now.
    internal long ExportDropsOfClosed;
    internal long LostOfClosed;
    internal long NoRoomOfClosed;
    internal long StaleOfClosed;

    private string? _lastError;

    internal string? LastError
    {
        get => Volatile.Read(ref _lastError);
        set => Volatile.Write(ref _lastError, value);
    }
}
