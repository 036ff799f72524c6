using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;

namespace ZeroLane.Cli;

/// <summary>
/// The one line the tool prints for a command line it cannot parse: System.CommandLine's messages, with the option
/// named instead of a .NET type ("--count takes a whole number ..., not 'abc'", not "System.Nullable`1[System.Int64]"),
/// and the whole command in the pointer to its help ("zerolane bridge receive --help").
/// </summary>
/// <remarks>
/// Design: System.CommandLine's own messages are kept where they already speak to a user (an unknown option, a missing
/// argument); only the two that do not are rewritten, recognized by their English text. Under another UI culture
/// System.CommandLine translates them, they are not recognized, and its message is shown as it is.
/// </remarks>
internal static partial class ParseErrorText
{
    /// <summary>All of <paramref name="parseResult"/>'s errors, and where to look, as one line (without "zerolane: ").</summary>
    internal static string Describe(ParseResult parseResult)
    {
        string errors = string.Join(" ", parseResult.Errors.Select(error => Describe(error).TrimEnd('.') + "."));
        return $"{errors} (see '{CommandLine(parseResult.CommandResult)} --help')";
    }

    /// <summary>
    /// The error of a value no file system takes, given to an option that names a file or directory (its help name is
    /// <c>file</c> or <c>dir</c>): empty, or with a name longer than 255 bytes. Null if there is none. Otherwise .NET's
    /// "The value cannot be an empty string." or an lstat failure would be all the user sees.
    /// </summary>
    internal static string? DescribeBadPath(ParseResult parseResult)
    {
        const int MaxNameBytes = 255;
        foreach (OptionResult result in parseResult.CommandResult.Children.OfType<OptionResult>())
        {
            if (result.Option.HelpName is not ("file" or "dir"))
            {
                continue;
            }
            string what = result.Option.HelpName == "dir" ? "a directory" : "a file";
            foreach (string value in result.Tokens.Select(token => token.Value))
            {
                if (value.Length == 0)
                {
                    return $"{result.Option.Name} needs {what}, not an empty string. (see '{CommandLine(parseResult.CommandResult)} --help')";
                }
                if (value.Split('/').Any(name => System.Text.Encoding.UTF8.GetByteCount(name) > MaxNameBytes))
                {
                    return $"{result.Option.Name} '{value}' has a name longer than {MaxNameBytes} bytes, which no file system takes; give {what} with shorter names.";
                }
            }
        }
        return null;
    }

    private static string Describe(ParseError error)
    {
        string message = OneLine(error.Message);
        Option? option = error.SymbolResult switch
        {
            OptionResult result => result.Option,
            ArgumentResult { Parent: OptionResult result } => result.Option,
            _ => null,
        };
        if (option is null)
        {
            return message;
        }
        if (CannotParse().Match(message) is { Success: true } cannotParse)
        {
            string value = cannotParse.Groups["value"].Value;
            Type type = Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType;
            string? takes = type == typeof(int) ? $"a whole number up to {int.MaxValue.ToString(CultureInfo.InvariantCulture)}"
                : type == typeof(long) ? $"a whole number up to {long.MaxValue.ToString(CultureInfo.InvariantCulture)}"
                : type == typeof(double) ? (option.HelpName is { } unit && unit != "n" ? $"a number ({unit})" : "a number")
                : null;
            return takes is null ? message : $"{option.Name} takes {takes}, not '{value}'";
        }
        if (NotRecognized().Match(message) is { Success: true } notRecognized)
        {
            string choices = string.Join(", ", ChoiceList().Matches(notRecognized.Groups["choices"].Value).Select(choice => choice.Value));
            return $"{option.Name} takes {choices}, not '{notRecognized.Groups["value"].Value}'";
        }
        return message;
    }

    /// <summary>"zerolane bridge receive": the command and the commands it is under.</summary>
    private static string CommandLine(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? current = result; current is CommandResult command; current = current.Parent)
        {
            if (command.Parent is not null)
            {
                names.Insert(0, command.Command.Name);
            }
        }
        return string.Join(' ', ["zerolane", .. names]);
    }

    /// <summary>A message on one line: its line breaks and tabs (System.CommandLine lists choices one per line) become spaces.</summary>
    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n', '\t', ' '], StringSplitOptions.RemoveEmptyEntries));

    [GeneratedRegex("^Cannot parse argument '(?<value>.*)' for option '[^']*' as expected type '[^']*'", RegexOptions.CultureInvariant)]
    private static partial Regex CannotParse();

    [GeneratedRegex("^Argument '(?<value>.*)' not recognized\\. Must be one of: (?<choices>.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex NotRecognized();

    [GeneratedRegex("'[^']*'", RegexOptions.CultureInvariant)]
    private static partial Regex ChoiceList();
}
