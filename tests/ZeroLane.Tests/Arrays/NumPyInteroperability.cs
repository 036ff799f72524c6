using System.Text.Json.Nodes;
using ZeroLane.Arrays;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Arrays;

/// <summary>Real NumPy (/usr/bin/python3) in both directions, for every supported dtype in both orders.</summary>
public sealed class NumPyInteroperability : IDisposable
{
    private static readonly long[] s_shape = [3, 4, 5];

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    public static TheoryData<string> Types => ArrayTypes.All;

    [Theory]
    [MemberData(nameof(Types))]
    public void WeOpenWhatNumPySavesAndCheckEveryElement(string dtype)
    {
        string c = Path.Combine(_directory.Path, $"np-{dtype}-C.npy");
        string f = Path.Combine(_directory.Path, $"np-{dtype}-F.npy");
        NumPy.Run("""
            dt, shape = sys.argv[1], tuple(json.loads(sys.argv[2]))
            np.save(sys.argv[3], expected(dt, shape, 'C'))
            np.save(sys.argv[4], expected(dt, shape, 'F'))
            """, dtype, NumPy.ShapeJson(s_shape), c, f);
        ArrayTypes.Run(dtype, new OpenAndCheck(c, ArrayOrder.C));
        ArrayTypes.Run(dtype, new OpenAndCheck(f, ArrayOrder.Fortran));
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void NumPyMemoryMapsWhatWeWriteAndChecksEveryElement(string dtype)
    {
        var jobs = new List<string>();
        foreach (ArrayOrder order in new[] { ArrayOrder.C, ArrayOrder.Fortran })
        {
            string created = Path.Combine(_directory.Path, $"zl-created-{dtype}-{order}.npy");
            string saved = Path.Combine(_directory.Path, $"zl-saved-{dtype}-{order}.npy");
            ArrayTypes.Run(dtype, new CreateAndSave(created, saved, order));
            jobs.Add(created);
            jobs.Add(NumPy.OrderLetter(order));
            jobs.Add(saved);
            jobs.Add(NumPy.OrderLetter(order));
        }
        string output = NumPy.Run("""
            dt, shape = sys.argv[1], tuple(json.loads(sys.argv[2]))
            rest = sys.argv[3:]
            for path, order in zip(rest[0::2], rest[1::2]):
                a = np.load(path, mmap_mode='r')
                assert isinstance(a, np.memmap), type(a)
                assert a.dtype == np.dtype(dt), (path, a.dtype, dt)
                assert a.shape == shape, (path, a.shape)
                assert a.flags.f_contiguous if order == 'F' else a.flags.c_contiguous, (path, order)
                assert np.array_equal(a, expected(dt, shape, order)), path
                assert a.offset % 64 == 0, a.offset
                b = np.load(path)
                assert np.array_equal(b, a), path
                print('checked', path)
            """, [dtype, NumPy.ShapeJson(s_shape), .. jobs]);
        Assert.Equal(4, output.Split('\n').Count(line => line.StartsWith("checked ", StringComparison.Ordinal)));
    }

    [Fact]
    public void NumPyLoadsOurFilesWithLargeNonAsciiMetadataAndAfterInPlaceUpdates()
    {
        string path = Path.Combine(_directory.Path, "meta.npy");
        var metadata = new JsonObject { ["text"] = "caf\u00e9 \u65e5\u672c # } ' \" \\ \n", ["n"] = 5 };
        MappedArray<float>.Save(path, [1, 2, 3, 4, 5, 6], [2, 3], metadata: metadata);
        MappedArray.UpdateMetadata(path, new JsonObject { ["text"] = new string('y', 900), ["nested"] = new JsonObject { ["a"] = new JsonArray(1, 2) } });
        string rewritten = Path.Combine(_directory.Path, "rewritten.npy");
        File.Copy(path, rewritten);
        MappedArray.RewriteWithMetadata(rewritten, new JsonObject { ["blob"] = new string('z', 8000) });
        // The most metadata ZeroLane writes: its header is as long as NumPy loads without allow_pickle.
        string largest = Path.Combine(_directory.Path, "largest.npy");
        int capacity = Assert.Throws<MetadataTooLargeException>(() =>
            MappedArray<float>.Save(largest, [1, 2, 3, 4, 5, 6], [2, 3], metadata: new JsonObject { ["blob"] = new string('w', 20_000) })).Capacity;
        MappedArray<float>.Save(largest, [1, 2, 3, 4, 5, 6], [2, 3], metadata: new JsonObject { ["blob"] = new string('w', capacity - """{"blob":""}""".Length) });

        NumPy.Run("""
            for path in sys.argv[1:]:
                a = np.load(path, mmap_mode='r')
                assert a.dtype == np.float32 and a.shape == (2, 3), (a.dtype, a.shape)
                assert np.array_equal(a, np.arange(1, 7, dtype=np.float32).reshape(2, 3))
                assert np.array_equal(np.load(path), a)
                with open(path, 'rb') as fh:
                    version = np.lib.format.read_magic(fh)
                    np.lib.format._read_array_header(fh, version)
            """, path, rewritten, largest);
    }

    private sealed class OpenAndCheck(string path, ArrayOrder order) : ITypedTest
    {
        public void Run<T>() where T : unmanaged
        {
            using var array = MappedArray<T>.Open(path);
            Assert.Equal(s_shape, array.Shape);
            Assert.Equal(order, array.Order);
            Assert.True(array.IsAligned);
            Assert.Null(array.Header.MetadataJson);
            ArrayTypes.AssertHoldsFormula(array);
            Assert.Equal(ArrayTypes.InMemoryOrder<T>(s_shape, order), array.GetSpan(0, (int)array.Length).ToArray());
        }
    }

    private sealed class CreateAndSave(string created, string saved, ArrayOrder order) : ITypedTest
    {
        public void Run<T>() where T : unmanaged
        {
            var metadata = new JsonObject { ["dtype"] = typeof(T).Name, ["order"] = order.ToString(), ["note"] = "\u00e9t\u00e9" };
            using (var array = MappedArray<T>.Create(created, s_shape, order, metadata))
            {
                ArrayTypes.Fill(array);
            }
            MappedArray<T>.Save(saved, ArrayTypes.InMemoryOrder<T>(s_shape, order), s_shape, order, metadata);
        }
    }
}
