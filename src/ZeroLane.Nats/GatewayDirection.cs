namespace ZeroLane.Nats;

/// <summary>Which way a <see cref="NatsGateway"/> carries its topics.</summary>
public enum GatewayDirection
{
    /// <summary>Both ways: local publishers' samples out to NATS, other hosts' samples in to local subscribers. The default.</summary>
    Both = 0,

    /// <summary>Out only: local publishers' samples go to NATS; nothing is taken from NATS (e.g. a camera box).</summary>
    Export = 1,

    /// <summary>In only: other hosts' samples reach local subscribers; nothing local is sent (e.g. a recorder).</summary>
    Import = 2,
}
