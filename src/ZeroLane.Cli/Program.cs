using ZeroLane.Cli;

return await CommandRunner.RunAsync(ToolCommands.CreateRoot(), args);
