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

    private MetadataTooLargeException(int length, int capacity, string message) : base(message)
    {
        Length = length;
        Capacity = capacity;
    }

    /// <summary>Metadata that would make a new file's header longer than NumPy loads by default.</summary>
    internal static MetadataTooLargeException BeyondNumPyLimit(string path, int length, int capacity) =>
        new(length, capacity, $"The metadata ({length} bytes of JSON) is too large for the header of '{path}': NumPy refuses .npy headers longer than " +
            $"{NpyHeader.NumPyMaxHeaderLength} bytes unless told to trust the file, so ZeroLane keeps metadata to at most {capacity} bytes for this array. " +
            "Store larger metadata in a file beside the array and put its name in the metadata.");

    /// <summary>Length in bytes of the metadata that did not fit.</summary>
    public int Length { get; }

    /// <summary>Room in bytes the header has for metadata.</summary>
    public int Capacity { get; }
}
