using System.Diagnostics.CodeAnalysis;

namespace ZeroLane.Cli;

/// <summary>An expected failure of a command, reported as one line without a stack trace.</summary>
internal sealed class CommandException : Exception
{
    internal CommandException(string message) : base(message)
    {
    }
}

/// <summary>Which exceptions are the user's or the environment's doing (one-line message, exit code 1) and which are bugs.</summary>
internal static class CliErrors
{
    /// <summary>Exit code of every expected failure.</summary>
    internal const int ExitCode = 1;

    internal static bool IsExpected(Exception exception) => exception is
        CommandException or
        ZeroLaneException or
        InvalidNameException or
        TimeoutException or
        UnauthorizedAccessException or
        IOException or
        // The library's validation of options a user typed (a size out of range, say): its message names the option.
        ArgumentException;

    internal static string Describe(Exception exception) => exception switch
    {
        // .NET reports opening a directory as a file as "Access to the path '/x' is denied."
        UnauthorizedAccessException when QuotedPath(exception.Message) is { } path && Directory.Exists(path) =>
            $"'{path}' is a directory; give a file.",
        UnauthorizedAccessException => "permission denied: " + exception.Message,
        FileNotFoundException { FileName: { } path } => $"no file '{path}': check the path.",
        // "Could not find a part of the path '/x/a/b'."
        DirectoryNotFoundException when QuotedPath(exception.Message) is { } path =>
            $"no directory '{Path.GetDirectoryName(path)}' for '{path}': create it first, or check the path.",
        // ArgumentException appends " (Parameter 'name')", which means nothing to someone at a shell.
        // ArgumentOutOfRangeException adds a line "Actual value was N.": kept, on the same line.
        ArgumentException { ParamName: { } parameter } argument when argument.Message.Contains($" (Parameter '{parameter}')", StringComparison.Ordinal) =>
            OptionNames(string.Join(' ', argument.Message.Replace($" (Parameter '{parameter}')", "", StringComparison.Ordinal)
                .Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries))),
        _ => exception.Message,
    };

    /// <summary>
    /// The library's option properties in a message, by the names of the tool's options that set them:
    /// "--payload-size must be at least 64 bytes", not "PayloadSize must be ...".
    /// </summary>
    private static string OptionNames(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message, @"\b(PayloadSize|MetadataSize|MaxSampleSize|QueueDepth|Slots|History)\b",
            match => match.Value switch
            {
                "PayloadSize" => "--payload-size",
                "MetadataSize" => "--metadata-size",
                "MaxSampleSize" => "--max-sample-size",
                "QueueDepth" => "--queue-depth",
                "Slots" => "--slots",
                _ => "--history",
            });

    /// <summary>The path in .NET's file error messages ("... the path '/x' ..."), or null.</summary>
    private static string? QuotedPath(string message)
    {
        int start = message.IndexOf('\'');
        int end = message.LastIndexOf('\'');
        return start >= 0 && end > start + 1 ? message[(start + 1)..end] : null;
    }

    /// <summary>Throws a <see cref="CommandException"/> with <paramref name="message"/> unless <paramref name="condition"/> holds.</summary>
    /// <remarks>
    /// Option ranges are checked here, in the action, rather than in System.CommandLine validators: a command
    /// validator sees default(T), not the default value, for an option that was not given.
    /// </remarks>
    internal static void Require([DoesNotReturnIf(false)] bool condition, string message)
    {
        if (!condition)
        {
            throw new CommandException(message);
        }
    }

    /// <summary>Throws a <see cref="CommandException"/> with <paramref name="message"/>.</summary>
    [DoesNotReturn]
    internal static void Fail(string message) => throw new CommandException(message);
}
