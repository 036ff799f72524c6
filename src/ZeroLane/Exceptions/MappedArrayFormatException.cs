namespace ZeroLane;

/// <summary>A file that is not a valid .npy array, holds an element type ZeroLane does not support, or changed under its mapping.</summary>
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
