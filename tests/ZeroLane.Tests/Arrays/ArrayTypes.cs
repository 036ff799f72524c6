using System.Numerics;
using ZeroLane.Arrays;

namespace ZeroLane.Tests.Arrays;

/// <summary>A test body run once per element type: <see cref="ArrayTypes.Run"/> picks T from a NumPy dtype name.</summary>
internal interface ITypedTest
{
    void Run<T>() where T : unmanaged;
}

/// <summary>
/// The supported element types by NumPy dtype name, and the value formula both languages use:
/// element i (C-order flat index) is v = (i * 7 + 3) % 100, as bool (v odd), integer (v), float (v + 0.5)
/// or complex (v + 0.5, -v).
/// </summary>
internal static class ArrayTypes
{
    internal static readonly string[] Names =
    [
        "bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
        "float16", "float32", "float64", "complex64", "complex128",
    ];

    internal static TheoryData<string> All => new(Names);

    internal static TheoryData<string, ArrayOrder> AllInBothOrders
    {
        get
        {
            var data = new TheoryData<string, ArrayOrder>();
            foreach (string name in Names)
            {
                data.Add(name, ArrayOrder.C);
                data.Add(name, ArrayOrder.Fortran);
            }
            return data;
        }
    }

    internal static void Run(string dtype, ITypedTest test)
    {
        switch (dtype)
        {
            case "bool": test.Run<bool>(); break;
            case "int8": test.Run<sbyte>(); break;
            case "uint8": test.Run<byte>(); break;
            case "int16": test.Run<short>(); break;
            case "uint16": test.Run<ushort>(); break;
            case "int32": test.Run<int>(); break;
            case "uint32": test.Run<uint>(); break;
            case "int64": test.Run<long>(); break;
            case "uint64": test.Run<ulong>(); break;
            case "float16": test.Run<Half>(); break;
            case "float32": test.Run<float>(); break;
            case "float64": test.Run<double>(); break;
            case "complex64": test.Run<Complex64>(); break;
            case "complex128": test.Run<Complex>(); break;
            default: throw new ArgumentException(dtype);
        }
    }

    internal static T Value<T>(long i) where T : unmanaged
    {
        long v = (i * 7 + 3) % 100;
        object value = default(T) switch
        {
            bool => v % 2 == 1,
            sbyte => (sbyte)v,
            byte => (byte)v,
            short => (short)v,
            ushort => (ushort)v,
            int => (int)v,
            uint => (uint)v,
            long => v,
            ulong => (ulong)v,
            Half => (Half)(v + 0.5),
            float => (float)(v + 0.5),
            double => v + 0.5,
            Complex64 => new Complex64((float)(v + 0.5), -v),
            Complex => new Complex(v + 0.5, -v),
            _ => throw new NotSupportedException(typeof(T).Name),
        };
        return (T)value;
    }

    /// <summary>The coordinates of the element with C-order flat index <paramref name="flat"/>.</summary>
    internal static long[] Coordinates(long flat, long[] shape)
    {
        var index = new long[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
        return index;
    }

    internal static long Count(long[] shape) => shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Fills a writable array by coordinates with the formula.</summary>
    internal static void Fill<T>(MappedArray<T> array) where T : unmanaged
    {
        long[] shape = array.Shape;
        for (long i = 0; i < array.Length; i++)
        {
            array.Set(Coordinates(i, shape), Value<T>(i));
        }
    }

    /// <summary>The formula's values laid out in memory order <paramref name="order"/>, for Save.</summary>
    internal static T[] InMemoryOrder<T>(long[] shape, ArrayOrder order) where T : unmanaged
    {
        var data = new T[Count(shape)];
        for (long i = 0; i < data.Length; i++)
        {
            long[] index = Coordinates(i, shape);
            long offset = 0;
            long stride = 1;
            for (int k = 0; k < shape.Length; k++)
            {
                int d = order == ArrayOrder.C ? shape.Length - 1 - k : k;
                offset += index[d] * stride;
                stride *= shape[d];
            }
            data[offset] = Value<T>(i);
        }
        return data;
    }

    /// <summary>Checks every element by coordinates against the formula.</summary>
    internal static void AssertHoldsFormula<T>(MappedArray<T> array) where T : unmanaged
    {
        long[] shape = array.Shape;
        for (long i = 0; i < array.Length; i++)
        {
            T actual = array.Get(Coordinates(i, shape));
            T expected = Value<T>(i);
            if (!EqualityComparer<T>.Default.Equals(actual, expected))
            {
                Assert.Fail($"Element {i} ({string.Join(", ", Coordinates(i, shape))}) of {array.Path} is {actual}, expected {expected}.");
            }
        }
    }
}
