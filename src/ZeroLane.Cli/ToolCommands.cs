using System.CommandLine;
using ZeroLane.Bench;
using ZeroLane.Cli.Commands;

namespace ZeroLane.Cli;

/// <summary>The tool's command tree: what <c>zerolane</c> runs, and what the tests walk to try every option.</summary>
internal static class ToolCommands
{
    internal static RootCommand CreateRoot()
    {
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
            GatewayCommand.Create(),
            TopicsCommand.Create(),
            PubCommand.Create(),
            SubCommand.Create(),
            ServeCommand.Create(),
            CallCommand.Create(),
            BenchCommand.Create(SelfProcess.CreateStartInfo),
        };

        // The commands of the child processes the tool starts itself (SelfProcess): not for people, so left out of help.
        // Every one is registered here, and only here is any command made hidden.
        Command[] childProcessCommands =
        [
            DemoReaderCommand.Create(),
            DemoWriterCommand.Create(),
            DemoPublisherCommand.Create(),
            DemoSubscriberCommand.Create(),
            .. BenchCommand.CreatePeerCommands(),
        ];
        foreach (Command command in childProcessCommands)
        {
            command.Hidden = true;
            root.Add(command);
        }
        return root;
    }
}
