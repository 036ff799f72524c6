namespace ZeroLane.Arrays;

/// <summary>A file that is not a valid .npy array, or holds an element type ZeroLane does not support.</summary>
public sealed class MappedArrayFormatException : ZeroLaneException
{
    /// <summary>Creates the exception with a message that says what is wrong with the file.</summary>
    public MappedArrayFormatException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public MappedArrayFormatException(string message, Exception? inner) : base(message, inner)
    {
    }
}

/// <summary>Metadata that no longer fits in the room left in an array file's header.</summary>
public sealed class MetadataTooLargeException : ZeroLaneException
{
    /// <summary>Creates the exception for metadata of <paramref name="length"/> bytes where <paramref name="capacity"/> fit.</summary>
    public MetadataTooLargeException(string path, int length, int capacity)
        : base($"The metadata ({length} bytes of JSON) does not fit in the header of '{path}', which has room for {capacity}. " +
               "Call MappedArray.RewriteWithMetadata to rewrite the file with a larger header (this copies the data).")
    {
        Length = length;
        Capacity = capacity;
    }

    /// <summary>Length in bytes of the metadata that did not fit.</summary>
    public int Length { get; }

    /// <summary>Room in bytes the header has for metadata.</summary>
    public int Capacity { get; }
}
