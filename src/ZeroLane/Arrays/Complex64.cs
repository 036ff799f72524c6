using System.Runtime.InteropServices;

namespace ZeroLane.Arrays;

/// <summary>A complex number of two 32-bit floats, NumPy's <c>complex64</c> (<c>'&lt;c8'</c>).</summary>
/// <param name="Real">The real part.</param>
/// <param name="Imaginary">The imaginary part.</param>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct Complex64(float Real, float Imaginary);
