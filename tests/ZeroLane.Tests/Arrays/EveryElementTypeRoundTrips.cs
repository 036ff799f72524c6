using ZeroLane.Arrays;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Arrays;

public sealed class EveryElementTypeRoundTrips : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    public static TheoryData<string, ArrayOrder> Types => ArrayTypes.AllInBothOrders;

    [Theory]
    [MemberData(nameof(Types))]
    public void SavedArraysOpenWithEveryElementInPlace(string dtype, ArrayOrder order) =>
        ArrayTypes.Run(dtype, new SaveThenOpen(_directory.Path, order));

    [Theory]
    [MemberData(nameof(Types))]
    public void CreatedArraysKeepWhatWasSetAfterReopening(string dtype, ArrayOrder order) =>
        ArrayTypes.Run(dtype, new CreateThenReopen(_directory.Path, order));

    private sealed class SaveThenOpen(string directory, ArrayOrder order) : ITypedTest
    {
        public void Run<T>() where T : unmanaged
        {
            foreach (long[] shape in new[] { new long[] { 3, 4, 5 }, [7], [], [2, 0, 3] })
            {
                string path = Path.Combine(directory, $"saved-{typeof(T).Name}-{order}-{shape.Length}.npy");
                MappedArray<T>.Save(path, ArrayTypes.InMemoryOrder<T>(shape, order), shape, order);
                using var array = MappedArray<T>.Open(path);
                Assert.Equal(shape, array.Shape);
                Assert.Equal(order, array.Order);
                Assert.Equal(ArrayTypes.Count(shape), array.Length);
                Assert.Equal(0, array.Header.DataOffset % 64);
                Assert.True(array.IsAligned);
                ArrayTypes.AssertHoldsFormula(array);
                Assert.Equal(ArrayTypes.InMemoryOrder<T>(shape, order), array.GetSpan(0, (int)array.Length).ToArray());
            }
        }
    }

    private sealed class CreateThenReopen(string directory, ArrayOrder order) : ITypedTest
    {
        public void Run<T>() where T : unmanaged
        {
            long[] shape = [4, 3, 2];
            string path = Path.Combine(directory, $"created-{typeof(T).Name}-{order}.npy");
            using (var created = MappedArray<T>.Create(path, shape, order))
            {
                ArrayTypes.Fill(created);
                created.Flush();
            }
            using var array = MappedArray<T>.Open(path);
            Assert.Equal(order, array.Order);
            ArrayTypes.AssertHoldsFormula(array);
        }
    }
}
