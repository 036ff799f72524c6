namespace ZeroLane.Arrays;

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
