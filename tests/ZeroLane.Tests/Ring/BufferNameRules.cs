using ZeroLane.Buffers;
using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
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
    private readonly List<PeerProcess> _peers = new();

    public override void Dispose()
    {
        foreach (PeerProcess peer in _peers)
        {
            peer.Dispose();
        }
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
        { "a/b", "character 2 ('/')" },
        { "/abs", "'/'" },
        { "..", "starts with '.'" },
        { "../escape", "'/'" },
        { ".hidden", "starts with '.'" },
        { "has space", "' '" },
        { "naïve", "'ï'" },
        { "emoji\U0001F600", "character 6 ('\U0001F600')" },
        { "nul\0byte", "character 4 (U+0000)" },
        { "tab\there", "character 4 (U+0009)" },
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
        Assert.Equal("buffer", refused.Kind);
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
        // One character cannot carry a unique suffix, so the buffer lives in a /dev/shm of its own: a reader peer in a
        // private mount namespace, and a writer peer in the same namespace. It cannot meet another process's "Z", and
        // the machine's /dev/shm is never touched (the private one goes away with the peers).
        const string name = "Z";
        PeerProcess reader = Track(PeerProcess.StartWithPrivateDevShm("1m",
            "reader", name, "--payload", "4096", "--count", "1", "--lock-dir", _lockDirectory.Path));
        string ready = reader.WaitForAnyLine(PeerOutput.Ready, PeerOutput.Error);
        Assert.True(PeerOutput.Is(ready, PeerOutput.Ready), reader.Describe());
        int readerPid = PeerProcess.PidIn(ready);
        Assert.True(File.Exists($"/proc/{readerPid}/root{RawSegment.PathOf(name)}"), $"no segment {name} in the reader's /dev/shm");
        Assert.True(File.Exists(Path.Combine(_lockDirectory.Path, name + ".lock")));

        PeerProcess writer = Track(PeerProcess.StartInMountNamespaceOf(readerPid, "writer", name, "--size", "1", "--count", "1"));

        Assert.Equal($"{PeerOutput.Written} frames=1 bytes=1", writer.WaitForAnyLine(PeerOutput.Written, PeerOutput.Error));
        Assert.Equal($"{PeerOutput.Ok} frames=1 bytes=1", reader.WaitForAnyLine(PeerOutput.Ok, PeerOutput.Error));
        Assert.True(reader.WaitForExit(), reader.Describe());
        Assert.Equal(ExitCodes.Success, reader.ExitCode);
        Assert.True(writer.WaitForExit(), writer.Describe());
        Assert.Equal(ExitCodes.Success, writer.ExitCode);
        Assert.Empty(Directory.GetFileSystemEntries(_lockDirectory.Path));
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

    private PeerProcess Track(PeerProcess peer)
    {
        _peers.Add(peer);
        return peer;
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
