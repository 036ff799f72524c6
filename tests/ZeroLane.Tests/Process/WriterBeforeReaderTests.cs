using ZeroLane.Tests.Infrastructure;
using ZeroLane.TestPeer;
using Xunit;

namespace ZeroLane.Tests.CrossProcess;

/// <summary>A writer process that starts before any reader fails at once with a clear "not found" error.</summary>
public sealed class WriterBeforeReaderTests : PeerTest
{
    [Fact]
    public void WriterProcessFailsWithBufferNotFoundAndAMessageThatSaysToStartTheReaderFirst()
    {
        string name = NewName("noreader");

        PeerProcess writer = StartPeer("writer", name, "--count", "1");
        string line = writer.WaitForAnyLine(PeerOutput.Connected, PeerOutput.Error);

        Assert.StartsWith($"{PeerOutput.Error} {nameof(BufferNotFoundException)}:", line);
        Assert.Contains($"'{name}'", line);
        Assert.Contains("start the reader first", line);
        Assert.True(writer.WaitForExit(HangGuard), writer.Describe());
        Assert.Equal(ExitCodes.SetupFailed, writer.ExitCode);
        Assert.Empty(Leftovers(name));
    }
}
