using System.CommandLine;
using ZeroLane.Cli.Bench;

// Minimal entry point for the bench branch; the real one (with every command) replaces it at merge.
var root = new RootCommand("zerolane: zero-copy data exchange between processes.");
root.Subcommands.Add(BenchCommand.Create());
foreach (Command hidden in BenchCommand.CreateHidden())
{
    root.Subcommands.Add(hidden);
}
return await root.Parse(args).InvokeAsync();
