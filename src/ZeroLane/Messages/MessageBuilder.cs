using System.Buffers;
using ZeroLane.Buffers;

namespace ZeroLane.Messages;

/// <summary>
/// Builds a <see cref="Message"/> from segments of any origin without copying them: arrays,
/// <see cref="Memory{T}"/>, <see cref="IMemoryOwner{T}"/>, native or mapped memory, ring frames. Segments
/// added with an owner are released when the message is disposed.
/// </summary>
public sealed class MessageBuilder
{
    private ReadOnlyMemory<byte> _body;
    private readonly List<ReadOnlyMemory<byte>> _parts = new();
    private readonly List<IDisposable> _owners = new();
    private bool _built;

    /// <summary>Sets the body; the caller keeps ownership of its memory.</summary>
    public MessageBuilder WithBody(ReadOnlyMemory<byte> body)
    {
        ThrowIfBuilt();
        _body = body;
        return this;
    }

    /// <summary>Sets the body from an owner; the message disposes it. <paramref name="length"/> bytes of it are used (all if -1).</summary>
    public MessageBuilder WithBody(IMemoryOwner<byte> owner, int length = -1)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ThrowIfBuilt();
        _body = Slice(owner.Memory, length);
        _owners.Add(owner);
        return this;
    }

    /// <summary>Adds a part; the caller keeps ownership of its memory and must not change it until the message is sent.</summary>
    public MessageBuilder AddPart(ReadOnlyMemory<byte> part)
    {
        ThrowIfBuilt();
        _parts.Add(part);
        return this;
    }

    /// <summary>Adds a part from an owner (for example a pooled buffer); the message disposes it. <paramref name="length"/> bytes are used (all if -1).</summary>
    public MessageBuilder AddPart(IMemoryOwner<byte> owner, int length = -1)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ThrowIfBuilt();
        _parts.Add(Slice(owner.Memory, length));
        _owners.Add(owner);
        return this;
    }

    /// <summary>Adds a ring frame's bytes as a part, in place; the message releases the frame when disposed.</summary>
    public MessageBuilder AddPart(Frame frame)
    {
        ThrowIfBuilt();
        _parts.Add(frame.Memory);
        _owners.Add(new FrameOwner(frame));
        return this;
    }

    /// <summary>
    /// Adds <paramref name="length"/> bytes of native (unmanaged or mapped) memory at <paramref name="address"/>
    /// as a part, in place. The memory must stay valid until the message is disposed; <paramref name="owner"/>,
    /// if given, is disposed with the message.
    /// </summary>
    public unsafe MessageBuilder AddNativePart(nint address, int length, IDisposable? owner = null)
    {
        ThrowIfBuilt();
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (address == 0 && length > 0)
        {
            throw new ArgumentException("A native part needs an address.", nameof(address));
        }
        var manager = new NativeMemoryManager((byte*)address, length);
        _parts.Add(manager.Memory);
        _owners.Add(manager);
        if (owner is not null)
        {
            _owners.Add(owner);
        }
        return this;
    }

    /// <summary>Makes the message. The builder cannot be used afterwards.</summary>
    public Message Build()
    {
        ThrowIfBuilt();
        _built = true;
        return new Message(_body, _parts.ToArray(), _owners.ToArray());
    }

    private static ReadOnlyMemory<byte> Slice(Memory<byte> memory, int length)
    {
        if (length < -1 || length > memory.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"Use -1 (all) or 0 to {memory.Length} bytes of the owner's memory.");
        }
        return length == -1 ? memory : memory[..length];
    }

    private void ThrowIfBuilt()
    {
        if (_built)
        {
            throw new InvalidOperationException("This builder already built its message; start a new one with Message.CreateBuilder().");
        }
    }

    private sealed class FrameOwner(Frame frame) : IDisposable
    {
        public void Dispose() => frame.Dispose();
    }
}
