namespace ZeroLane.Arrays;

/// <summary>How a <see cref="MappedArray{T}"/> maps its file.</summary>
public enum MappedAccess
{
    /// <summary>Read only (PROT_READ): the array offers no writable view.</summary>
    ReadOnly,

    /// <summary>Shared read-write mapping (MAP_SHARED): changes reach the file; <see cref="MappedArray{T}.Flush"/> forces them to disk.</summary>
    ReadWrite,

    /// <summary>Private mapping (MAP_PRIVATE): changes are visible only through this array; the file stays as it was.</summary>
    CopyOnWrite,
}
