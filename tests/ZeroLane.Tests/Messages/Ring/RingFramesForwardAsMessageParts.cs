using ZeroLane.Buffers;
using ZeroLane.Messages;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Messages.Ring;

/// <summary>
/// A frame read from one ring can be a part of a message written into another: its bytes are copied once, in
/// place, and the source frame goes back to its ring when the message is disposed.
/// </summary>
public sealed class RingFramesForwardAsMessageParts : BufferTest
{
    [Fact]
    public void AFrameFromOneRingIsAPartOfAMessageInAnotherAndIsReleasedWithTheMessage()
    {
        string source = NewName("msg-src");
        string destination = NewName("msg-dst");
        using var sourceReader = new RingReader(source, new ReaderOptions { PayloadSize = 1 << 20 });
        using var sourceWriter = new RingWriter(source);
        using var destinationReader = new RingReader(destination, new ReaderOptions { PayloadSize = 1 << 20 });
        using var destinationWriter = new RingWriter(destination);
        sourceWriter.Write(Patterns.Create(5000, PatternedMessages.PartSeed(3, 0)), Safety.Timeout);
        Frame frame = sourceReader.Read(Safety.Timeout);
        byte[] body = Patterns.Create(12, 3);

        using (Message message = Message.CreateBuilder().WithBody(body).AddPart(frame).Build())
        {
            destinationWriter.WriteMessage(message, Safety.Timeout);
            Assert.Equal(1, sourceReader.FramesHeld);
        }

        Assert.True(frame.IsReleased);
        Assert.Equal(0, sourceReader.FramesHeld);
        using Message received = destinationReader.ReadMessage(Safety.Timeout);
        PatternedMessages.AssertMatches(received, 3, 12, 5000);
    }
}
