using System.Buffers.Binary;
using System.Globalization;

namespace ZeroLane.TestPeer;

/// <summary>
/// poke: another process writing one little-endian u64 straight into a buffer's segment through /dev/shm, as a stray
/// process (or a buggy peer) would. The ring's corruption tests use it so the damage comes from outside the test process.
/// </summary>
internal static class PokeScenario
{
    internal static int Run(PeerArguments arguments)
    {
        long offset = arguments.Number("offset") ?? throw new UsageException("poke needs --offset N");
        string text = arguments.Text("value") ?? throw new UsageException("poke needs --value V (a u64)");
        if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value))
        {
            throw new UsageException($"--value must be a u64, not '{text}'");
        }
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        using (var segment = new FileStream("/dev/shm/" + arguments.Name, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
        {
            segment.Position = offset;
            segment.Write(bytes);
        }
        Console.WriteLine($"{PeerOutput.Poked} offset={offset} value={value}");
        return ExitCodes.Success;
    }
}
