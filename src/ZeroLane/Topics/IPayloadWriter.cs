namespace ZeroLane.Topics;

/// <summary>
/// Fills a sample in place in the publisher's shared memory (<see cref="Publisher.Write(IPayloadWriter, TimeSpan, CancellationToken)"/>).
/// </summary>
/// <remarks>
/// The contract: <see cref="WriteModified"/> is called exactly when the span already holds this publisher's previous
/// sample, byte for byte, at the same size (<see cref="GetSize"/> returned the same number), so a writer that changes a
/// little of a large sample writes only that; otherwise <see cref="WriteFull"/> is called and must write every byte.
/// Returning false abandons the sample: nothing is published.
/// </remarks>
public interface IPayloadWriter
{
    /// <summary>The sample's size in bytes.</summary>
    int GetSize();

    /// <summary>Writes the whole sample into <paramref name="buffer"/> (exactly <see cref="GetSize"/> bytes); false abandons it.</summary>
    bool WriteFull(Span<byte> buffer);

    /// <summary>
    /// Updates <paramref name="buffer"/>, which holds the previous sample, into this one; false abandons it. By default it
    /// writes everything (<see cref="WriteFull"/>).
    /// </summary>
    bool WriteModified(Span<byte> buffer) => WriteFull(buffer);
}
