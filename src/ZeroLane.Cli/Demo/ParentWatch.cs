namespace ZeroLane.Cli.Demo;

/// <summary>
/// For a child process: a token that is cancelled when standard input reaches its end, which happens when
/// the parent closes it (asking the child to stop) or dies (so no child outlives a killed parent).
/// </summary>
internal sealed class ParentWatch : IDisposable
{
    private readonly CancellationTokenSource _stop;

    /// <summary>Starts watching; the token is also cancelled when <paramref name="outer"/> is.</summary>
    internal ParentWatch(CancellationToken outer)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(outer);
        var thread = new Thread(WatchStandardInput) { IsBackground = true, Name = "zerolane parent watch" };
        thread.Start();
    }

    /// <summary>Cancelled when the parent wants this child to stop (or is gone), or on Ctrl+C.</summary>
    internal CancellationToken Token => _stop.Token;

    private void WatchStandardInput()
    {
        try
        {
            using Stream input = Console.OpenStandardInput();
            Span<byte> sink = stackalloc byte[64];
            while (input.Read(sink) > 0)
            {
                // The parent writes nothing; anything that arrives is ignored.
            }
        }
        catch (IOException)
        {
            // A broken input is as good as a closed one.
        }
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The command already finished.
        }
    }

    public void Dispose() => _stop.Dispose();
}
