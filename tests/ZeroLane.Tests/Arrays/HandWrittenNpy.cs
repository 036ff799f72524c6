using System.Buffers.Binary;
using System.Text;

namespace ZeroLane.Tests.Arrays;

/// <summary>Builds .npy files byte by byte, for headers our writer would never produce.</summary>
internal static class HandWrittenNpy
{
    /// <summary>
    /// Prelude of version <paramref name="major"/>.<paramref name="minor"/>, then <paramref name="dict"/> padded with
    /// spaces and '\n' so the data starts at <paramref name="dataOffset"/> (default: the next multiple of 64), then
    /// <paramref name="dataLength"/> bytes of 0x01.
    /// </summary>
    internal static byte[] Build(string dict, long dataLength, int major = 1, int minor = 0, int? dataOffset = null)
    {
        int prelude = major == 1 ? 10 : 12;
        byte[] text = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetBytes(dict);
        int offset = dataOffset ?? (prelude + text.Length + 1 + 63) / 64 * 64;
        var bytes = new byte[offset + dataLength];
        new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, (byte)minor }.CopyTo(bytes, 0);
        if (major == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)(offset - prelude));
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)(offset - prelude));
        }
        text.CopyTo(bytes, prelude);
        bytes.AsSpan(prelude + text.Length, offset - prelude - text.Length - 1).Fill((byte)' ');
        bytes[offset - 1] = (byte)'\n';
        bytes.AsSpan(offset).Fill(1);
        return bytes;
    }

    internal static string Dict(string descr, string shape, bool fortran = false) =>
        $"{{'descr': {descr}, 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {shape}, }}";
}
