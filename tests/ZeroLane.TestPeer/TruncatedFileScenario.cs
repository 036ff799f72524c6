using System.IO.MemoryMappedFiles;
using ZeroLane.Arrays;

namespace ZeroLane.TestPeer;

/// <summary>
/// touch-truncated: reads the last element of a mapped int32 array after the test truncated the file, through a
/// ZeroLane mapping (guarded: expected to throw) or a System.IO.MemoryMappedFiles view (not ours: the SIGBUS must
/// reach the runtime, which ends the process).
/// </summary>
internal static class TruncatedFileScenario
{
    internal static int Run(PeerArguments arguments, ManualResetEventSlim go)
    {
        string path = arguments.Name;
        bool foreign = arguments.Text("via") switch
        {
            null or "array" => false,
            "foreign-mapping" => true,
            string other => throw new UsageException($"--via must be array or foreign-mapping, not '{other}'"),
        };
        using MappedArray<int> array = MappedArray<int>.Open(path);
        using MemoryMappedFile? file = foreign ? MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read) : null;
        using MemoryMappedViewAccessor? view = file?.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        Console.WriteLine($"{PeerOutput.Ready} pid={Environment.ProcessId} guard={MappedArray.IsFaultGuardActive}");
        go.Wait();
        try
        {
            int value = view is not null
                ? view.ReadInt32(array.Header.DataOffset + (array.Length - 1) * sizeof(int))
                : array.GetAt(array.Length - 1);
            Console.WriteLine($"{PeerOutput.Value} value={value}");
        }
        catch (Exception e)
        {
            Console.WriteLine($"{PeerOutput.Threw} {e.GetType().Name}: {e.Message}");
        }
        return ExitCodes.Success;
    }
}
