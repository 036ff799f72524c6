using System.Net.Sockets;
using ZeroLane.Messages.Transport;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Messages.Transport;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class UnixSocketListeners : IDisposable
{
    private readonly TempDirectory _directory = new();

    private string PathOf(string name) => Path.Combine(_directory.Path, name);

    [Fact]
    public void TheSocketFileIsOwnerOnlyByDefaultAndRemovedOnDispose()
    {
        string path = PathOf("a.sock");
        using (MessageListener listener = MessageListener.ListenUnix(path))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(path, listener.Path);
        }
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void AnExplicitModeIsApplied()
    {
        string path = PathOf("b.sock");
        UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
        using MessageListener listener = MessageListener.ListenUnix(path, mode);
        Assert.Equal(mode, File.GetUnixFileMode(path));
    }

    [Fact]
    public void AStaleSocketFileIsReplaced()
    {
        string path = PathOf("stale.sock");
        // Bound but not listening: what a crashed listener leaves (.NET would unlink the file if we disposed it).
        using var leftover = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        leftover.Bind(new UnixDomainSocketEndPoint(path));
        Assert.True(File.Exists(path));
        using (MessageListener listener = MessageListener.ListenUnix(path))
        {
            using Socket client = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            client.Connect(new UnixDomainSocketEndPoint(path));
        }
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void ASocketSomeoneListensOnIsRefused()
    {
        string path = PathOf("live.sock");
        using MessageListener first = MessageListener.ListenUnix(path);
        Assert.Throws<IOException>(() => MessageListener.ListenUnix(path));
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void ASymbolicLinkIsRefusedAndLeftAlone()
    {
        string target = PathOf("target.sock");
        string link = PathOf("link.sock");
        File.CreateSymbolicLink(link, target);
        var refused = Assert.Throws<IOException>(() => MessageListener.ListenUnix(link));
        Assert.Contains("symbolic link", refused.Message);
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.False(File.Exists(target));
    }

    [Fact]
    public void ARegularFileIsRefusedAndLeftAlone()
    {
        string path = PathOf("data.txt");
        File.WriteAllText(path, "keep me");
        Assert.Throws<IOException>(() => MessageListener.ListenUnix(path));
        Assert.Equal("keep me", File.ReadAllText(path));
    }

    public void Dispose() => _directory.Dispose();
}
