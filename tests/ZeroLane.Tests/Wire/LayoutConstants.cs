using System.Buffers.Binary;
using System.Text;
using ZeroLane.Buffers;
using Xunit;

namespace ZeroLane.Tests.Wire;

/// <summary>The library's layout types hold exactly the offsets and sizes of the spec tables (zerobuffer-v1.md).</summary>
public sealed class LayoutConstants
{
    [Fact]
    public void EveryOiebOffsetMatchesTheSpecTable()
    {
        Assert.Equal(128, OiebLayout.Size);
        Assert.Equal(0, OiebLayout.OiebSize);
        Assert.Equal(4, OiebLayout.VersionMajor);
        Assert.Equal(5, OiebLayout.VersionMinor);
        Assert.Equal(6, OiebLayout.VersionPatch);
        Assert.Equal(7, OiebLayout.VersionReserved);
        Assert.Equal(8, OiebLayout.MetadataSize);
        Assert.Equal(16, OiebLayout.MetadataFreeBytes);
        Assert.Equal(24, OiebLayout.MetadataWrittenBytes);
        Assert.Equal(32, OiebLayout.PayloadSize);
        Assert.Equal(40, OiebLayout.PayloadFreeBytes);
        Assert.Equal(48, OiebLayout.PayloadWritePos);
        Assert.Equal(56, OiebLayout.PayloadReadPos);
        Assert.Equal(64, OiebLayout.PayloadWrittenCount);
        Assert.Equal(72, OiebLayout.PayloadReadCount);
        Assert.Equal(80, OiebLayout.WriterPid);
        Assert.Equal(88, OiebLayout.ReaderPid);
    }

    [Fact]
    public void TheProtocolVersionIsOneZeroZero()
    {
        Assert.Equal(1, OiebLayout.ProtocolMajor);
        Assert.Equal(0, OiebLayout.ProtocolMinor);
        Assert.Equal(0, OiebLayout.ProtocolPatch);
    }

    [Fact]
    public void TheZeroLaneExtensionLiesWithinTheReservedBytes()
    {
        Assert.Equal(96, OiebLayout.WriterStartTime);
        Assert.Equal(104, OiebLayout.ReaderStartTime);
        Assert.Equal(112, OiebLayout.ExtensionMagic);
        Assert.Equal(116, OiebLayout.ExtensionFlags);
        Assert.Equal(120, OiebLayout.WriterState);
        Assert.Equal(1ul, OiebLayout.WriterStateConnected);
        Assert.Equal(1, OiebLayout.WriterConnectionsShift);
        Assert.Equal(0x314E4C5Au, OiebLayout.ExtensionMagicValue);
        Assert.Equal(0x314E4C5Au, BinaryPrimitives.ReadUInt32LittleEndian(Encoding.ASCII.GetBytes("ZLN1")));
        Assert.Equal(1u, (uint)ReaderFlags.CountsFramesAndReleasesInOrder);
    }

    [Fact]
    public void TheFrameHeaderIsPayloadSizeThenSequence()
    {
        Assert.Equal(16, FrameHeaderLayout.Size);
        Assert.Equal(0, FrameHeaderLayout.PayloadSize);
        Assert.Equal(8, FrameHeaderLayout.Sequence);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 64)]
    [InlineData(63, 64)]
    [InlineData(64, 64)]
    [InlineData(65, 128)]
    [InlineData(100, 128)]
    [InlineData(1024, 1024)]
    [InlineData(10000, 10048)]
    [InlineData(10240, 10240)]
    public void BlocksAreRoundedUpToSixtyFourBytes(long requested, long aligned)
    {
        Assert.Equal(64, BufferLayout.Alignment);
        Assert.Equal(aligned, BufferLayout.Align(requested));
    }

    [Theory]
    [InlineData(100, 10000, 128, 10048, 256, 10304)]
    [InlineData(0, 64, 0, 64, 128, 192)]
    [InlineData(1024, 10240, 1024, 10240, 1152, 11392)]
    public void TheMetadataBlockFollowsTheOiebAndThePayloadBlockFollowsTheMetadata(
        long metadata, long payload, long metadataBlock, long payloadBlock, long payloadOffset, long total)
    {
        BufferLayout layout = BufferLayout.ForRequested(metadata, payload);

        Assert.Equal(metadataBlock, layout.MetadataBlockSize);
        Assert.Equal(payloadBlock, layout.PayloadBlockSize);
        Assert.Equal(128, layout.MetadataOffset);
        Assert.Equal(payloadOffset, layout.PayloadOffset);
        Assert.Equal(total, layout.TotalSize);
    }

    [Fact]
    public void TheObjectNamesAreThoseThePeersUse()
    {
        BufferNames names = BufferNames.Create("abc");

        Assert.Equal("abc", names.SharedMemory);
        Assert.Equal("/sem-w-abc", names.WriteSemaphore);
        Assert.Equal("/sem-r-abc", names.ReadSemaphore);
        Assert.Equal("/tmp/zerobuffer/abc.lock", names.LockPath);
    }
}
