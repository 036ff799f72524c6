namespace ZeroLane.Messages;

/// <summary>Bounds a decoder enforces before allocating.</summary>
public sealed record MessageLimits
{
    /// <summary>Largest encoded message accepted, in bytes after the length prefix. Default 256 MiB; at most 2 GiB - 1.</summary>
    public long MaxMessageLength
    {
        get => _maxMessageLength;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, MessageEncoding.FixedHeaderSize);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, int.MaxValue);
            _maxMessageLength = value;
        }
    }

    private readonly long _maxMessageLength = 256L << 20;

    /// <summary>Most parts accepted in one message. Default 1,024; 0 or more.</summary>
    public int MaxParts
    {
        get => _maxParts;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _maxParts = value;
        }
    }

    private readonly int _maxParts = 1024;

    /// <summary>The defaults.</summary>
    public static MessageLimits Default { get; } = new();
}
