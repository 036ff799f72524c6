namespace ZeroLane.Cli.Demo;

/// <summary>
/// Shows the demo's progress: on a terminal one line rewritten in place, otherwise (CI, a pipe) a plain line
/// at most once per second. Messages from the children are printed above the progress line.
/// </summary>
internal sealed class ProgressDisplay
{
    private static readonly long s_plainInterval = TimeSpan.FromSeconds(1).Ticks;

    private readonly object _sync = new();
    private readonly bool _live = !Console.IsOutputRedirected;
    private int _shownLength;
    private long _lastPlainTicks = -s_plainInterval;

    /// <summary>True if a progress update at <paramref name="elapsed"/> would be shown: always on a terminal, once a second otherwise.</summary>
    internal bool IsDue(TimeSpan elapsed)
    {
        lock (_sync)
        {
            return _live || elapsed.Ticks - _lastPlainTicks >= s_plainInterval;
        }
    }

    /// <summary>Shows <paramref name="text"/> as the current progress at <paramref name="elapsed"/>.</summary>
    internal void Show(string text, TimeSpan elapsed)
    {
        lock (_sync)
        {
            if (_live)
            {
                Console.Out.Write("\r" + text.PadRight(_shownLength));
                _shownLength = text.Length;
            }
            else
            {
                Console.Out.Write(text + "\n");
                _lastPlainTicks = elapsed.Ticks;
            }
        }
    }

    /// <summary>Prints a line to standard error, clearing the progress line first so the two do not mix.</summary>
    internal void Message(string line)
    {
        lock (_sync)
        {
            ClearUnsynchronized();
            Console.Error.Write(line + "\n");
        }
    }

    /// <summary>Ends the progress line so what follows starts on a fresh one.</summary>
    internal void Finish()
    {
        lock (_sync)
        {
            if (_live && _shownLength > 0)
            {
                Console.Out.Write("\n");
                _shownLength = 0;
            }
        }
    }

    private void ClearUnsynchronized()
    {
        if (_live && _shownLength > 0)
        {
            Console.Out.Write("\r" + new string(' ', _shownLength) + "\r");
            _shownLength = 0;
        }
    }
}
