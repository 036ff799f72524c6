using System.CommandLine;
using ZeroLane.Bench;
using ZeroLane.Cli;
using ZeroLane.Cli.Commands;

var root = new RootCommand("zerolane: zero-copy data exchange between processes through shared-memory ring buffers (ZeroBuffer v1).")
{
    DemoCommand.Create(),
    LsCommand.Create(),
    StatCommand.Create(),
    ArrayCommand.Create(),
    CleanCommand.Create(),
    ReadCommand.Create(),
    WriteCommand.Create(),
    BridgeCommand.Create(),
    BenchCommand.Create(SelfProcess.CreateStartInfo),
    DemoReaderCommand.Create(),
    DemoWriterCommand.Create(),
};
foreach (Command hidden in BenchCommand.CreateHidden())
{
    hidden.Hidden = true;
    root.Add(hidden);
}

return await CommandRunner.RunAsync(root, args);

