using ZeroLane.Arrays;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Arrays;

/// <summary>
/// A valid .npy file of a dtype ZeroLane cannot map (strings, objects, structured, big-endian) is still described from
/// its header (<see cref="NpyHeader.Describe"/>), with the reason opening it fails; opening it is still refused.
/// </summary>
public sealed class UnmappableDtypesAreDescribed : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData("np.array(['abc', 'de'], dtype='<U10')", "<U10", 40L, "'<U10' is not supported")]
    [InlineData("np.array([b'abc', b'de'], dtype='|S5')", "|S5", 5L, "'|S5' is not supported")]
    [InlineData("np.array([1, 'x'], dtype=object)", "|O", null, "'|O' is not supported")]
    [InlineData("np.zeros(2, dtype=[('x', '<f4'), ('y', '<i2')])", "[('x', '<f4'), ('y', '<i2')]", null, "structured dtype")]
    [InlineData("np.arange(2, dtype='>f8')", ">f8", 8L, "big-endian")]
    public void TheHeaderIsDescribedWithTheReasonItCannotBeMapped(string array, string descr, long? itemSize, string reason)
    {
        string path = Path.Combine(_directory.Path, "a.npy");
        NumPy.Run($"np.save(sys.argv[1], {array})", path);

        NpyHeaderFacts facts = NpyHeader.Describe(path);

        Assert.Equal(descr, facts.Descr);
        Assert.Equal([2L], facts.Shape);
        Assert.Equal(2, facts.ElementCount);
        Assert.Equal(itemSize, facts.ItemSize);
        Assert.Equal(itemSize * 2, facts.DataLength);
        Assert.Null(facts.ElementType);
        Assert.Contains(reason, facts.CannotMapReason);
        var refused = Assert.Throws<MappedArrayFormatException>(() => MappedArray.ReadHeader(path));
        Assert.Equal(facts.CannotMapReason, refused.Message);
    }

    [Fact]
    public void AMappableHeaderIsDescribedAsReadReadsIt()
    {
        string path = Path.Combine(_directory.Path, "b.npy");
        MappedArray<float>.Save(path, new float[6], [2, 3], ArrayOrder.Fortran);

        NpyHeaderFacts facts = NpyHeader.Describe(path);
        NpyHeader header = MappedArray.ReadHeader(path);

        Assert.Null(facts.CannotMapReason);
        Assert.Equal(typeof(float), facts.ElementType);
        Assert.Equal(header.Shape, facts.Shape);
        Assert.Equal((header.Descr, header.Order, header.ItemSize, header.DataLength, header.DataOffset, header.MetadataCapacity),
            (facts.Descr, facts.Order, facts.ItemSize!.Value, facts.DataLength!.Value, facts.DataOffset, facts.MetadataCapacity));
    }
}
