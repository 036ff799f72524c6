namespace ZeroLane.Arrays;

/// <summary>How the elements of an N-dimensional array are laid out in memory.</summary>
public enum ArrayOrder
{
    /// <summary>Row-major: the last index varies fastest (NumPy <c>fortran_order: False</c>).</summary>
    C,

    /// <summary>Column-major: the first index varies fastest (NumPy <c>fortran_order: True</c>).</summary>
    Fortran,
}
