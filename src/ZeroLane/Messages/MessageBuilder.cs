using System.Buffers;
using System.Runtime.InteropServices;
using ZeroLane.Arrays;
using ZeroLane.Ipc;
using ZeroLane.Posix;

namespace ZeroLane.Messages;

/// <summary>
/// Builds a <see cref="Message"/> from segments of any origin without copying them: arrays,
/// <see cref="Memory{T}"/>, <see cref="IMemoryOwner{T}"/>, native memory, mapped arrays, frames read from shared memory. Segments
/// added with an owner are released when the message is disposed.
/// </summary>
/// <remarks>
/// Design: a builder can be used again after <see cref="Reset"/>. It keeps its lists, and the message it built last: once
/// that message has been disposed, the next <see cref="Build"/> refills and returns the same object instead of making a new
/// one. A loop of Reset, add, Build, send, dispose therefore allocates nothing once warm (with parts given as memory or
/// memory owners; a <see cref="Frame"/> or native part takes a small owner object each). A message must not be used after
/// it is disposed, as always; with a reused builder a stale reference would see the next message.
/// </remarks>
public sealed class MessageBuilder
{
    private ReadOnlyMemory<byte> _body;
    private readonly List<ReadOnlyMemory<byte>> _parts = new();
    private readonly List<IDisposable> _owners = new();
    private Message? _lastBuilt;
    private bool _built;

    /// <summary>A builder for messages; reuse it across messages with <see cref="Reset"/>. Same as <see cref="Message.CreateBuilder"/>.</summary>
    public MessageBuilder()
    {
    }

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

    /// <summary>Adds a frame's bytes as a part, in place; the message releases the frame when disposed.</summary>
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
    public MessageBuilder AddNativePart(nint address, int length, IDisposable? owner = null)
    {
        ThrowIfBuilt();
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (address == 0 && length > 0)
        {
            throw new ArgumentException("A native part needs an address.", nameof(address));
        }
        var manager = new NativeMemoryManager(address, length);
        _parts.Add(manager.Memory);
        _owners.Add(manager);
        if (owner is not null)
        {
            _owners.Add(owner);
        }
        return this;
    }

    /// <summary>
    /// Adds the data of <paramref name="array"/> (the bytes after its header, in place in its mapping) as one part, without
    /// copying. The mapping stays valid until the message is disposed, even if the array is disposed first. If another
    /// process truncates the array's file before the message is sent, senders refuse the part (its pages read as zeros)
    /// instead of sending zeros.
    /// </summary>
    /// <exception cref="NotSupportedException">The data is 2 GiB or larger (a part is one span); send it in chunks (<see cref="MappedArray{T}.GetChunks"/>).</exception>
    /// <exception cref="MappedArrayFormatException">The array's file already shrank.</exception>
    public MessageBuilder AddPart<T>(MappedArray<T> array) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(array);
        ThrowIfBuilt();
        array.CheckFileSize();
        long bytes = array.ByteLength;
        if (bytes > int.MaxValue)
        {
            throw new NotSupportedException($"The array's data is {bytes} bytes; a message part can be at most {int.MaxValue}. Send it in chunks (GetChunks).");
        }
        MemoryMapping mapping = array.Mapping;
        bool added = false;
        mapping.DangerousAddRef(ref added);
        try
        {
            return AddNativePart(array.DataAddress, (int)bytes, new MappedArrayPart(mapping, array.Path));
        }
        catch
        {
            mapping.DangerousRelease();
            throw;
        }
    }

    /// <summary>
    /// Makes the message. The builder takes nothing more until <see cref="Reset"/>. If the message this builder made before
    /// has been disposed, that object is refilled and returned, allocating nothing.
    /// </summary>
    public Message Build()
    {
        ThrowIfBuilt();
        _built = true;
        if (_lastBuilt is { IsDisposed: true } reusable)
        {
            reusable.Refill(_body, CollectionsMarshal.AsSpan(_parts), CollectionsMarshal.AsSpan(_owners));
        }
        else
        {
            _lastBuilt = new Message(_body, _parts.ToArray(), _owners.ToArray());
        }
        _owners.Clear();
        return _lastBuilt;
    }

    /// <summary>
    /// Empties the builder so it builds another message (with its body, parts and owners all given anew). The message it
    /// built before is not touched: it stays valid until it is disposed, and once disposed the next <see cref="Build"/>
    /// reuses it. Owners added since the last <see cref="Build"/> were not handed to any message, so they are disposed here.
    /// </summary>
    public void Reset()
    {
        List<Exception>? failures = null;
        foreach (IDisposable owner in _owners)
        {
            try
            {
                owner.Dispose();
            }
            catch (Exception exception)
            {
                (failures ??= new()).Add(exception);
            }
        }
        _owners.Clear();
        _parts.Clear();
        _body = default;
        _built = false;
        if (failures is not null)
        {
            throw new AggregateException("Releasing the owner of a segment added to a builder that was reset before building failed.", failures);
        }
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
            throw new InvalidOperationException("This builder already built its message; call Reset() to build another with it.");
        }
    }

    private sealed class FrameOwner(Frame frame) : IDisposable
    {
        public void Dispose() => frame.Dispose();
    }

    /// <summary>
    /// Keeps an array's mapping alive while a message holds a part of it, and tells senders whether the part's pages were
    /// lost (the fault guard replaced them because the file shrank), so that zeros are not sent as data.
    /// </summary>
    private sealed class MappedArrayPart(MemoryMapping mapping, string path) : IDisposable, ISegmentOwnerCheck
    {
        private int _released;

        public void ThrowIfContentLost()
        {
            if (mapping.HasFaulted)
            {
                // The array (and its descriptor) may be gone by now, so the file's size is not asked for.
                throw new MappedArrayFormatException(
                    $"A message part mapped from '{path}' lost its pages while it was being sent: another process truncated the file " +
                    "(or its filesystem ran out of space), so the part read as zeros. The message was not sent; open the file again.");
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                mapping.DangerousRelease();
            }
        }
    }
}
