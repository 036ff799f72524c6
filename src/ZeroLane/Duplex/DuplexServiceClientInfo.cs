namespace ZeroLane.Duplex;

/// <summary>One client of a duplex service, as <see cref="DuplexServiceInspector"/> finds it.</summary>
/// <param name="Channel">The client's own duplex channel, <c>zls.NAME.c.PID.ID</c> (rings CHANNEL_request and CHANNEL_response).</param>
/// <param name="Pid">The client's process ID (from the channel's name).</param>
/// <param name="Alive">True if the client's process runs.</param>
/// <param name="Joining">True while the client has asked to join and its request ring does not exist yet.</param>
public sealed record DuplexServiceClientInfo(string Channel, int Pid, bool Alive, bool Joining);
