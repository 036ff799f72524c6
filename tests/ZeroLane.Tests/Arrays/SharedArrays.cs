using ZeroLane.Arrays;
using ZeroLane.Buffers;
using ZeroLane.Messages;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Arrays;

/// <summary>
/// Arrays created in shared memory under a name share their pages with other processes, and an array's data
/// travels as a message part without being copied.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SharedArrays : BufferTest
{
    private readonly List<string> _arrays = new();

    private string NewArrayName()
    {
        string name = TestBuffers.UniqueName("array");
        _arrays.Add(name);
        return name;
    }

    [Fact]
    public void AnotherProcessWritesIntoTheSamePagesWeHaveMapped()
    {
        string name = NewArrayName();
        using MappedArray<float> array = MappedArray<float>.CreateShared(name, [4, 5]);
        array.Set([1, 2], 7.5f);
        array.Flush();

        // NumPy, in another process, maps the same file read-write, checks our value and writes its own.
        string seen = NumPy.Run("""
            a = np.load(sys.argv[1], mmap_mode='r+')
            print(float(a[1, 2]))
            a[3, 4] = 42.25
            a.flush()
            """, MappedArray.SharedPath(name));

        Assert.Equal("7.5", seen.Trim());
        // Visible through the mapping we already had open: the same pages, not a copy.
        Assert.Equal(42.25f, array.Get([3, 4]));
    }

    [Fact]
    public void AProcessOpensTheSharedArrayByName()
    {
        string name = NewArrayName();
        using (MappedArray<long> created = MappedArray<long>.CreateShared(name, [3]))
        {
            created.Set([2], 1234567890123L);
            using MappedArray<long> opened = MappedArray<long>.OpenShared(name);
            Assert.Equal(1234567890123L, opened.Get([2]));
        }
        Assert.True(MappedArray.DeleteShared(name));
        Assert.False(File.Exists(MappedArray.SharedPath(name)));
        Assert.False(MappedArray.DeleteShared(name));
    }

    [Fact]
    public void SharedArraysAreOwnerOnlyByDefault()
    {
        string name = NewArrayName();
        using MappedArray<byte> array = MappedArray<byte>.CreateShared(name, [16]);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(MappedArray.SharedPath(name)));
    }

    [Fact]
    public void CreatingASharedArrayTwiceFailsClearly()
    {
        string name = NewArrayName();
        using MappedArray<byte> first = MappedArray<byte>.CreateShared(name, [16]);

        IOException error = Assert.Throws<IOException>(() => MappedArray<byte>.CreateShared(name, [16]));
        Assert.Contains("already exists", error.Message);
    }

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("a/b")]
    [InlineData(".hidden")]
    [InlineData("")]
    public void NamesThatCouldLeaveDevShmAreRefused(string name)
    {
        InvalidNameException refused = Assert.Throws<InvalidNameException>(() => MappedArray<byte>.CreateShared(name, [1]));

        // The error speaks of an array, not of a buffer.
        Assert.Equal("shared array", refused.Kind);
        Assert.StartsWith($"'{name}' is not a valid shared array name:", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("buffer", refused.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Throws<InvalidNameException>(() => MappedArray<byte>.OpenShared(name));
        Assert.Throws<InvalidNameException>(() => MappedArray.DeleteShared(name));
    }

    [Fact]
    public void AnArraysDataIsAMessagePartInPlace()
    {
        string path = Path.Combine(Path.GetTempPath(), TestBuffers.UniqueName("array-part") + ".npy");
        try
        {
            MappedArray<int>.Save(path, Enumerable.Range(0, 1000).ToArray(), [10, 100]);
            Message message;
            unsafe
            {
                using MappedArray<int> array = MappedArray<int>.Open(path);
                message = Message.CreateBuilder().WithBody("tensor"u8.ToArray()).AddPart(array).Build();
                fixed (int* data = array.GetSpan(0, 1000))
                using (System.Buffers.MemoryHandle part = message.GetPart(0).Pin())
                {
                    Assert.True(part.Pointer == data, "The part must be the mapped data itself, not a copy.");
                }
            }
            // The array is disposed; the message keeps the mapping alive until it is disposed.
            using (message)
            {
                Assert.Equal(4000, message.GetPart(0).Length);
                Assert.Equal(999, BitConverter.ToInt32(message.GetPart(0).Span[3996..]));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AnArrayTravelsThroughTheRingAsAMessagePart()
    {
        string name = NewName("array-ring");
        string path = Path.Combine(Path.GetTempPath(), TestBuffers.UniqueName("array-ring") + ".npy");
        try
        {
            MappedArray<double>.Save(path, Enumerable.Range(0, 512).Select(i => i * 0.5).ToArray(), [512]);
            using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 20 });
            using var writer = new RingWriter(name);
            using (MappedArray<double> array = MappedArray<double>.Open(path))
            using (Message outgoing = Message.CreateBuilder().AddPart(array).Build())
            {
                writer.WriteMessage(outgoing, Safety.Timeout);
            }

            using Message incoming = reader.ReadMessage(Safety.Timeout);
            double[] received = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(incoming.GetPart(0).Span).ToArray();
            Assert.Equal(Enumerable.Range(0, 512).Select(i => i * 0.5), received);
        }
        finally
        {
            File.Delete(path);
        }
    }

    public override void Dispose()
    {
        foreach (string name in _arrays)
        {
            MappedArray.DeleteShared(name);
        }
        base.Dispose();
    }
}
