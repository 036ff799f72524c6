using ZeroLane.Arrays;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Arrays;

public sealed class AccessModesDecideWhereWritesGo : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly string _path;

    public AccessModesDecideWhereWritesGo()
    {
        _path = Path.Combine(_directory.Path, "modes.npy");
        MappedArray<int>.Save(_path, [1, 2, 3, 4, 5, 6], [2, 3]);
    }

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void ReadWriteChangesReachTheFile()
    {
        using (var array = MappedArray<int>.Open(_path, MappedAccess.ReadWrite))
        {
            array.At(1, 2) = 60;
            array.Set([0, 0], 10);
            array.GetWritableSpan(1, 1)[0] = 20;
            array.Flush();
        }
        using var reopened = MappedArray<int>.Open(_path);
        Assert.Equal([10, 20, 3, 4, 5, 60], reopened.GetSpan(0, 6).ToArray());
    }

    [Fact]
    public void ReadWriteChangesAreSeenByAnotherMappingAtOnce()
    {
        using var writer = MappedArray<int>.Open(_path, MappedAccess.ReadWrite);
        using var reader = MappedArray<int>.Open(_path, MappedAccess.ReadOnly);
        writer.At(0, 1) = 42;
        Assert.Equal(42, reader.Get(0, 1));
    }

    [Fact]
    public void CopyOnWriteChangesStayPrivateAndTheFileIsUnchanged()
    {
        byte[] before = File.ReadAllBytes(_path);
        using (var array = MappedArray<int>.Open(_path, MappedAccess.CopyOnWrite))
        {
            array.At(1, 1) = 99;
            array.GetWritableSpan(0, 2).Fill(-1);
            Assert.Equal(99, array.Get(1, 1));
            Assert.Equal(-1, array.Get(0, 1));
            using var other = MappedArray<int>.Open(_path);
            Assert.Equal(5, other.Get(1, 1));
            array.Flush();
        }
        Assert.Equal(before, File.ReadAllBytes(_path));
    }

    [Fact]
    public void ReadOnlyOffersNoWritableView()
    {
        using var array = MappedArray<int>.Open(_path, MappedAccess.ReadOnly);
        Assert.False(array.IsWritable);
        Assert.Throws<InvalidOperationException>(() => array.GetWritableSpan(0, 1));
        Assert.Throws<InvalidOperationException>(() => array.At(0, 0));
        Assert.Throws<InvalidOperationException>(() => array.Set([0, 0], 1));
        Assert.Throws<InvalidOperationException>(() => array.SetAt(0, 1));
        Assert.Equal(6, array.Get(1, 2));
    }

    [Fact]
    public void CoordinatesOutsideTheShapeAreRefused()
    {
        using var array = MappedArray<int>.Open(_path);
        Assert.Throws<IndexOutOfRangeException>(() => array.Get(2, 0));
        Assert.Throws<IndexOutOfRangeException>(() => array.Get(0, -1));
        Assert.Throws<ArgumentException>(() => array.Get(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => array.GetSpan(5, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => array.GetAt(6));
    }

    [Fact]
    public void AnArrayOfTheWrongElementTypeIsRefusedNamingTheFileType()
    {
        var error = Assert.Throws<MappedArrayFormatException>(() => MappedArray<float>.Open(_path));
        Assert.Contains("'<i4'", error.Message);
        Assert.Contains("Int32", error.Message);
    }

    [Fact]
    public void ADisposedArrayRefusesAccess()
    {
        var array = MappedArray<int>.Open(_path);
        array.Dispose();
        Assert.Throws<ObjectDisposedException>(() => array.Get(0, 0));
        Assert.Throws<ObjectDisposedException>(() => array.GetSpan(0, 1));
    }
}
