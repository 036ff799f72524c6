namespace ZeroLane.Buffers;

/// <summary>A connected writer, or why there is none: the result of <see cref="RingWriter.TryConnectAsync"/>.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Writer">The connected writer when <paramref name="Status"/> is <see cref="ConnectStatus.Success"/>; null otherwise. The caller disposes it.</param>
public readonly record struct ConnectResult(ConnectStatus Status, RingWriter? Writer);
