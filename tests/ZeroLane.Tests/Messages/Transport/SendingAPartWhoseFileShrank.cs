using ZeroLane.Arrays;
using ZeroLane.Messages;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Messages.Transport;

/// <summary>
/// A message part mapped from an array whose pages the fault guard already replaced (the file shrank and an access
/// touched the lost pages) is refused before anything is written, instead of sending zeros as data.
/// </summary>
public sealed class SendingAPartWhoseFileShrank : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), TestBuffers.UniqueName("shrink-socket") + ".npy");

    [Fact]
    public async Task FailsWithoutWritingAnythingAndLeavesTheWriterUsable()
    {
        Prerequisites.FaultGuard.Require();
        const int count = 64 * 1024;
        MappedArray<int>.Save(_path, Enumerable.Range(1, count).ToArray(), [count]);
        using var listener = new TestListener(SocketKind.Unix);
        var (client, server) = await listener.PairAsync();
        using (client)
        using (server)
        using (MappedArray<int> array = MappedArray<int>.Open(_path))
        {
            Assert.True(array.IsGuarded, MappedArray.FaultGuardInactiveReason);
            using Message message = Message.CreateBuilder().AddPart(array).Build();
            ExternalCommand.Truncate(_path, array.Header.DataOffset + 4096);
            Assert.Throws<MappedArrayFormatException>(() => array.GetAt(count - 1)); // the guard has now replaced the lost pages

            await Assert.ThrowsAsync<MappedArrayFormatException>(async () => await client.SendAsync(message, HangGuard.Token));
            Assert.False(client.Sender.IsFaulted);

            using Message fine = TestMessages.Numbered(3, 1, 2);
            await client.SendAsync(fine, HangGuard.Token);
            using Message received = await server.ReceiveAsync(HangGuard.Token);
            TestMessages.AssertNumbered(received, 3, 1, 2);
        }
    }

    public void Dispose() => File.Delete(_path);
}
