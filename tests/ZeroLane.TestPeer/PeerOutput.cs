namespace ZeroLane.TestPeer;

/// <summary>The first word of each line a peer prints on stdout; tests wait for these.</summary>
public static class PeerOutput
{
    /// <summary><c>READY pid=P</c>: the reader has created its buffer.</summary>
    public const string Ready = "READY";

    /// <summary><c>CONNECTED pid=P</c>: the writer has connected.</summary>
    public const string Connected = "CONNECTED";

    /// <summary><c>FRAME seq=S len=L</c>: one verified frame (reader with <c>--verbose</c>).</summary>
    public const string Frame = "FRAME";

    /// <summary><c>OK frames=N bytes=B</c>: the reader verified every frame it read.</summary>
    public const string Ok = "OK";

    /// <summary><c>END status=S</c>: the reader's writer disconnected or died.</summary>
    public const string End = "END";

    /// <summary><c>WRITTEN frames=N bytes=B</c>: the writer wrote all it was asked to (or was stopped).</summary>
    public const string Written = "WRITTEN";

    /// <summary><c>READER_GONE frames=N</c>: the writer found the reader gone; it exits with <see cref="ExitCodes.ReaderGone"/>.</summary>
    public const string ReaderGone = "READER_GONE";

    /// <summary><c>ERROR Kind: message</c>: an exception type name (setup failed) or TornFrame / SequenceGap / Usage.</summary>
    public const string Error = "ERROR";

    /// <summary><c>BYE</c>: the peer disposed its end gracefully and is about to exit 0.</summary>
    public const string Bye = "BYE";

    /// <summary><c>VALUE value=V</c>: what touch-truncated read.</summary>
    public const string Value = "VALUE";

    /// <summary><c>THREW Type: message</c>: the exception touch-truncated got instead of a value.</summary>
    public const string Threw = "THREW";

    /// <summary><c>POKED offset=N value=V</c>: poke wrote its word into the segment.</summary>
    public const string Poked = "POKED";

    /// <summary><c>SERVED answered=A failed=F sessions=S</c>: a duplex server stopped after answering A requests.</summary>
    public const string Served = "SERVED";

    /// <summary><c>SENT requests=N</c>: a duplex client (--send-only) wrote its requests and reads no response.</summary>
    public const string Sent = "SENT";

    /// <summary>A subscriber took the samples it was asked to hold and keeps them.</summary>
    public const string Holding = "HOLDING";

    /// <summary>The stdin line that lets a scenario waiting for the test (touch-truncated) go on.</summary>
    public const string GoCommand = "go";

    /// <summary>The stdin line that asks a peer to stop gracefully (dispose its end and exit).</summary>
    public const string ExitCommand = "exit";

    /// <summary>True if <paramref name="line"/> is the line <paramref name="word"/> or starts with it and a space.</summary>
    public static bool Is(string line, string word) =>
        line.StartsWith(word, StringComparison.Ordinal) && (line.Length == word.Length || line[word.Length] == ' ');
}

/// <summary>Exit codes of the peer.</summary>
public static class ExitCodes
{
    /// <summary>Finished as asked.</summary>
    public const int Success = 0;

    /// <summary>A frame failed verification (torn, wrong content, sequence gap).</summary>
    public const int VerificationFailed = 1;

    /// <summary>Creating or connecting failed; the exception was printed as <c>ERROR Type: message</c>.</summary>
    public const int SetupFailed = 2;

    /// <summary>The writer found the reader gone.</summary>
    public const int ReaderGone = 3;

    /// <summary>The command line was not understood.</summary>
    public const int Usage = 4;

    /// <summary>Stdin closed: the test process is gone, so the peer exits at once.</summary>
    public const int ParentGone = 99;
}
