using SharpFuzz;
using ZeroLane.Fuzz;

// zerolane fuzz targets: see docs/FUZZING.md.
//   ZeroLane.Fuzz list                                   the targets
//   ZeroLane.Fuzz TARGET                                 one input from stdin, or AFL's persistent loop under afl-fuzz
//   ZeroLane.Fuzz replay TARGET FILE...                  runs inputs (crashes AFL found), prints what escaped; exit 1 if any
//   ZeroLane.Fuzz mutate TARGET [INPUTS] [SEED]          the in-process run the tests do, with a larger budget
//   ZeroLane.Fuzz seeds DIR                              writes the seed corpus (fuzz/corpus)
//   ZeroLane.Fuzz instrument DLL                         adds AFL instrumentation to DLL in place (what the sharpfuzz tool does)
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("usage: ZeroLane.Fuzz list | TARGET | replay TARGET FILE... | mutate TARGET [INPUTS] [SEED] | seeds DIR | instrument DLL");
    return 2;
}
switch (args[0])
{
    case "list":
        foreach (FuzzTarget target in FuzzTarget.All)
        {
            Console.WriteLine($"{target.Name,-16} {target.Description}");
        }
        return 0;
    case "seeds":
        Seeds.Write(args[1]);
        return 0;
    case "instrument":
        // Every type of the assembly: the parsers and validators are all in ZeroLane.dll. Instrument a copy, never the
        // build output the tests use: the instrumented DLL reports to AFL's shared memory on every branch.
        Fuzzer.Instrument(args[1], _ => true, Options.Value);
        Console.WriteLine($"instrumented {args[1]}");
        return 0;
    case "replay":
    {
        FuzzTarget target = FuzzTarget.Find(args[1]);
        int failures = 0;
        foreach (string path in args.Skip(2))
        {
            try
            {
                target.Run(File.ReadAllBytes(path));
                Console.WriteLine($"ok    {path}");
            }
            catch (Exception exception)
            {
                failures++;
                Console.WriteLine($"FAIL  {path}\n{exception}");
            }
        }
        return failures == 0 ? 0 : 1;
    }
    case "mutate":
    {
        FuzzTarget target = FuzzTarget.Find(args[1]);
        int inputs = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        int seed = args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 1;
        var started = System.Diagnostics.Stopwatch.StartNew();
        InProcessRun.Finding? finding = InProcessRun.Run(target, Corpus.Load(target), inputs, seed);
        if (finding is null)
        {
            Console.WriteLine($"{target.Name}: {inputs} mutations of {Corpus.Load(target).Count} seeds (seed {seed}) in {started.Elapsed.TotalSeconds:0.0} s: no finding");
            return 0;
        }
        string file = Path.GetFullPath($"finding-{target.Name}-{Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(finding.Input))[..12]}");
        File.WriteAllBytes(file, finding.Input);
        Console.WriteLine($"{target.Name}: {finding.Origin} escaped, input saved as {file}\n{finding.Exception}");
        return 1;
    }
    default:
    {
        FuzzTarget target = FuzzTarget.Find(args[0]);
        // Under afl-fuzz: the fork server's persistent loop, one input per iteration from AFL's shared memory or file.
        // Without it: one input from stdin.
        Fuzzer.Run(stream =>
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            target.Run(copy.ToArray());
        });
        return 0;
    }
}
