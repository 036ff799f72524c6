namespace ZeroLane;

/// <summary>Metadata that does not fit where it is kept: a ring's metadata block, or the header of an array file.</summary>
public sealed class MetadataTooLargeException : ZeroLaneException
{
    /// <summary>Creates the exception for metadata of <paramref name="length"/> bytes where <paramref name="capacity"/> fit.</summary>
    public MetadataTooLargeException(string message, int length, int capacity) : base(message)
    {
        Length = length;
        Capacity = capacity;
    }

    /// <summary>Length in bytes of the metadata that did not fit.</summary>
    public int Length { get; }

    /// <summary>Room in bytes for metadata.</summary>
    public int Capacity { get; }
}
