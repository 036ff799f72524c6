namespace ZeroLane.Arrays;

/// <summary>
/// What a .npy header says, whether or not ZeroLane can map its dtype: for describing a file that
/// <see cref="NpyHeader.Read(string)"/> refuses (<c>zerolane array info</c> on a string or structured array).
/// </summary>
/// <param name="MajorVersion">Format major version: 1, 2 or 3.</param>
/// <param name="Descr">The dtype descriptor; for a structured dtype, its list of fields as the header writes it.</param>
/// <param name="Structured">Whether the dtype is structured (a list of fields).</param>
/// <param name="Order">C (row-major) or Fortran (column-major) layout.</param>
/// <param name="Shape">Length of each dimension.</param>
/// <param name="ElementCount">Number of elements (the product of the shape).</param>
/// <param name="ElementType">The .NET element type the dtype maps to; null when ZeroLane cannot map it.</param>
/// <param name="ItemSize">Size of one element in bytes; null when the descriptor alone does not tell (structured, object).</param>
/// <param name="DataLength">Size of the data in bytes; null when the item size is not known.</param>
/// <param name="DataOffset">Offset of the first element from the start of the file (prelude plus header text).</param>
/// <param name="MetadataJson">ZeroLane's metadata as compact JSON text, or null.</param>
/// <param name="MetadataCapacity">How many bytes of JSON metadata the header can hold without moving the data.</param>
/// <param name="CannotMapReason">Why the file cannot be opened as a mapped array (the message opening it fails with); null when it can.</param>
internal sealed record NpyHeaderFacts(
    int MajorVersion,
    string Descr,
    bool Structured,
    ArrayOrder Order,
    long[] Shape,
    long ElementCount,
    Type? ElementType,
    int? ItemSize,
    long? DataLength,
    long DataOffset,
    string? MetadataJson,
    int MetadataCapacity,
    string? CannotMapReason);
