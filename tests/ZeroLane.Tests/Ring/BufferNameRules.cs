using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using Xunit;

namespace ZeroLane.Tests.Ring;

/// <summary>
/// Names are 1 to 200 letters, digits, '.', '_' or '-', not starting with '.'; anything else is refused with
/// InvalidNameException naming the problem, before any object is created (defect 9).
/// </summary>
public sealed class BufferNameRules : BufferTest
{
    private readonly TempDirectory _lockDirectory = new();
    private readonly List<string> _plainNames = new();

    public override void Dispose()
    {
        foreach (string name in _plainNames)
        {
            TestBuffers.Remove(name, _lockDirectory.Path);
        }
        _lockDirectory.Dispose();
        base.Dispose();
    }

    public static TheoryData<string, string> RejectedNames => new()
    {
        { "", "empty" },
        { new string('a', 201), "201" },
        { "a/b", "'/'" },
        { "/abs", "'/'" },
        { "..", "starts with '.'" },
        { "../escape", "'/'" },
        { ".hidden", "starts with '.'" },
        { "has space", "' '" },
        { "naïve", "'ï'" },
        { "emoji\U0001F600", "character 5" },
        { "nul\0byte", "character 3" },
        { "tab\there", "character 3" },
        { "semi;colon", "';'" },
        { "star*", "'*'" },
    };

    [Theory]
    [MemberData(nameof(RejectedNames))]
    public void AReaderRefusesTheNameWithAMessageNamingTheProblem(string name, string problem)
    {
        var refused = Assert.Throws<InvalidNameException>(() => new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096, LockDirectory = _lockDirectory.Path }));

        Assert.Contains(problem, refused.Message, StringComparison.Ordinal);
        Assert.Equal(name, refused.Name);
        Assert.Empty(Directory.GetFileSystemEntries(_lockDirectory.Path));
    }

    [Theory]
    [MemberData(nameof(RejectedNames))]
    public void AWriterAndTheInspectorRefuseTheNameToo(string name, string problem)
    {
        Assert.Contains(problem, Assert.Throws<InvalidNameException>(() => new RingWriter(name)).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidNameException>(() => TestBuffers.StatsOrNull(name));
        Assert.Throws<InvalidNameException>(() => BufferInspector.Clean(name, _lockDirectory.Path));
    }

    [Fact]
    public void ANullNameIsRefusedWithArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => new RingReader(null!));
        Assert.Throws<ArgumentNullException>(() => new RingWriter(null!));
    }

    [Fact]
    public void AOneCharacterNameWorks()
    {
        // One character cannot carry a unique suffix; the private lock directory keeps the lock file apart,
        // and a name some other process already uses is simply skipped.
        string name = "Z";
        if (File.Exists(RawSegment.PathOf(name)))
        {
            return;
        }
        _plainNames.Add(name);

        RoundTrip(name);
    }

    [Fact]
    public void ATwoHundredCharacterNameWorks()
    {
        string prefix = NewName();
        string name = prefix + new string('x', 200 - prefix.Length);
        _plainNames.Add(name);
        Assert.Equal(200, name.Length);

        RoundTrip(name);
    }

    [Fact]
    public void LettersDigitsDotsUnderscoresAndDashesAreAllAccepted()
    {
        string name = NewName() + "-AZaz09._-x.y";
        _plainNames.Add(name);

        RoundTrip(name);
    }

    [Fact]
    public void DotsInsideANameAreAcceptedSinceTheyCannotEscapeWithoutASlash()
    {
        string name = NewName() + "..x";
        _plainNames.Add(name);

        RoundTrip(name);
    }

    private void RoundTrip(string name)
    {
        using (var reader = new RingReader(name, new ReaderOptions { MetadataSize = 0, PayloadSize = 4096, LockDirectory = _lockDirectory.Path }))
        using (var writer = new RingWriter(name))
        {
            writer.Write(new byte[] { 42 }, Safety.Timeout);
            using Frame frame = reader.Read(Safety.Timeout);
            Assert.Equal(42, frame.Span[0]);
            Assert.Equal(name, reader.Name);
            Assert.NotNull(TestBuffers.StatsOrNull(name));
        }
        Assert.Empty(TestBuffers.Leftovers(name, _lockDirectory.Path));
    }
}
