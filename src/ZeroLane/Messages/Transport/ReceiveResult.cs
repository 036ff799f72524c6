namespace ZeroLane.Messages.Transport;

/// <summary>The outcome of a receive that may expectedly fail.</summary>
public enum ReceiveStatus
{
    /// <summary>A message arrived.</summary>
    Success = 0,

    /// <summary>No whole message arrived before the timeout.</summary>
    TimedOut = 1,

    /// <summary>The peer closed the stream between two messages: no more will come.</summary>
    EndOfStream = 2,
}

/// <summary>A message, or why there is none: the result of <see cref="MessageReceiver.TryReceiveAsync(TimeSpan, CancellationToken)"/>.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Message">The message when <paramref name="Status"/> is <see cref="ReceiveStatus.Success"/> (the caller owns it); null otherwise.</param>
public readonly record struct ReceiveResult(ReceiveStatus Status, Message? Message);
