namespace ZeroLane;

/// <summary>Base type of the exceptions ZeroLane throws for misuse, corruption and peer failures.</summary>
public class ZeroLaneException : Exception
{
    /// <summary>Creates the exception with a message that says what happened and what to do.</summary>
    public ZeroLaneException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public ZeroLaneException(string message, Exception? inner) : base(message, inner)
    {
    }
}

/// <summary>A buffer name that could escape its directory or that the operating system would refuse.</summary>
public sealed class InvalidBufferNameException : ArgumentException
{
    /// <summary>Creates the exception for <paramref name="name"/>.</summary>
    public InvalidBufferNameException(string name, string problem)
        : base($"'{name}' is not a valid buffer name: {problem}. Buffer names are 1 to 200 letters, digits, '.', '_' or '-', not starting with '.'.", "name")
    {
        BufferName = name;
    }

    /// <summary>The rejected name.</summary>
    public string BufferName { get; }
}

/// <summary>No buffer of that name exists (or it is still being created): start the reader first.</summary>
public sealed class BufferNotFoundException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public BufferNotFoundException(string message) : base(message)
    {
    }
}

/// <summary>The shared memory does not hold a valid ZeroBuffer v1 buffer, or a value in it is impossible.</summary>
public sealed class BufferCorruptedException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public BufferCorruptedException(string message) : base(message)
    {
    }
}

/// <summary>The segment was written by an incompatible protocol version.</summary>
public sealed class IncompatibleBufferException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public IncompatibleBufferException(string message) : base(message)
    {
    }
}

/// <summary>A writer is already connected to the buffer; a buffer has exactly one writer at a time.</summary>
public sealed class WriterAlreadyConnectedException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public WriterAlreadyConnectedException(string message) : base(message)
    {
    }
}

/// <summary>A live reader already owns a buffer of that name; a buffer has exactly one reader.</summary>
public sealed class ReaderAlreadyConnectedException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public ReaderAlreadyConnectedException(string message) : base(message)
    {
    }
}

/// <summary>A frame can never fit in the buffer's payload block.</summary>
public sealed class FrameTooLargeException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public FrameTooLargeException(string message) : base(message)
    {
    }
}

/// <summary>Metadata was already written to this buffer; it can be written once per buffer lifetime.</summary>
public sealed class MetadataAlreadyWrittenException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public MetadataAlreadyWrittenException(string message) : base(message)
    {
    }
}

/// <summary>The reader of the buffer is gone (it died or disposed the buffer): nothing more can be delivered.</summary>
public sealed class ReaderGoneException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public ReaderGoneException(string message) : base(message)
    {
    }
}

/// <summary>The writer of the buffer is gone and every frame it committed has been read.</summary>
public sealed class WriterGoneException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public WriterGoneException(string message, bool crashed) : base(message)
    {
        Crashed = crashed;
    }

    /// <summary>True if the writer died without disconnecting; false if it disconnected.</summary>
    public bool Crashed { get; }
}
