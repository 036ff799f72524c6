namespace ZeroLane;

/// <summary>Metadata was already written to this buffer; it can be written once per buffer lifetime.</summary>
public sealed class MetadataAlreadyWrittenException : ZeroLaneException
{
    /// <summary>Creates the exception.</summary>
    public MetadataAlreadyWrittenException(string message) : base(message)
    {
    }
}
