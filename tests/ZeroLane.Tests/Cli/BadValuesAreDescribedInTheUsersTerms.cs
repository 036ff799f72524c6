using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Cli;

/// <summary>
/// The messages the sweep (<see cref="EveryBadOptionValueIsOneLine"/>) made the tool give: the option by its name and
/// what it takes, never a .NET type or .NET's wording; a directory called a directory; the whole command in the pointer
/// to its help.
/// </summary>
[Collection(ToolInThisProcessCollection.Name)]
public sealed class BadValuesAreDescribedInTheUsersTerms : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("zltest-terms-").FullName;

    [Theory]
    [InlineData("read x --count abc", "--count takes a whole number up to 9223372036854775807, not 'abc'. (see 'zerolane read --help')")]
    [InlineData("stat x --watch --count 99999999999999999999", "--count takes a whole number up to 2147483647, not '99999999999999999999'. (see 'zerolane stat --help')")]
    [InlineData("read x --timeout abc", "--timeout takes a number (seconds), not 'abc'. (see 'zerolane read --help')")]
    [InlineData("bridge receive x --listen 7000 --wait sometimes", "--wait takes 'busy-spin', 'spin-then-block', 'blocking', 'busy', 'spin', not 'sometimes'. (see 'zerolane bridge receive --help')")]
    [InlineData("read x --out", "--out needs a file, not an empty string. (see 'zerolane read --help')", "")]
    [InlineData("clean x --lock-dir", "--lock-dir needs a directory, not an empty string. (see 'zerolane clean --help')", "")]
    [InlineData("bench --seconds 0", "--seconds takes a length above 0 and at most 3600 seconds, not 0.")]
    [InlineData("bridge receive a/b --listen 7000", "'a/b' is not a valid buffer name: character 2 ('/') is not allowed")]
    [InlineData("pub zltest-terms-q --rate 0 --count 1 --queue-depth 0", "--queue-depth must be from 1 to 65,536. Actual value was 0.")]
    [InlineData("read zltest-terms-p --payload-size 10", "--payload-size must be at least 64 bytes")]
    public async Task TheMessageNamesTheOptionAndWhatItTakes(string commandLine, string expected, string? lastArgument = null)
    {
        string[] arguments = [.. commandLine.Split(' '), .. lastArgument is null ? Array.Empty<string>() : [lastArgument]];

        InProcessResult result = await ToolInThisProcess.RunAsync(arguments, _directory);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.StartsWith("zerolane: " + expected, result.Error);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("write x --in")]
    [InlineData("read x --timeout 0.05 --out")]
    [InlineData("pub x --in")]
    public async Task ADirectoryGivenForAFileIsCalledADirectory(string commandLine)
    {
        string name = "zltest-terms-dir-" + Environment.ProcessId;
        string[] arguments = [.. commandLine.Replace(" x ", $" {name} ", StringComparison.Ordinal).Split(' '), _directory];

        InProcessResult result = await ToolInThisProcess.RunAsync(arguments, _directory);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal($"zerolane: '{_directory}' is a directory; give a file.", result.Error.TrimEnd('\n'));
    }

    [Theory]
    [InlineData("read zltest-terms-l --timeout 0.05 --lock-dir", "a directory")]
    [InlineData("write zltest-terms-l --in", "a file")]
    public async Task APathWithANameLongerThanAFileSystemTakesSaysSo(string commandLine, string what)
    {
        string path = Path.Combine(_directory, new string('n', 300));
        string option = commandLine.Split(' ')[^1];

        InProcessResult result = await ToolInThisProcess.RunAsync([.. commandLine.Split(' '), path], _directory);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal($"zerolane: {option} '{path}' has a name longer than 255 bytes, which no file system takes; give {what} with shorter names.", result.Error.TrimEnd('\n'));
    }

    [Fact]
    public async Task CleanRefusesALockDirectoryThatDoesNotExist()
    {
        string missing = Path.Combine(_directory, "missing");

        InProcessResult result = await ToolInThisProcess.RunAsync(["clean", "x", "--yes", "--lock-dir", missing], _directory);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal($"zerolane: --lock-dir '{missing}' is not a directory: give the one the readers were given (default /tmp/zerobuffer).", result.Error.TrimEnd('\n'));
    }

    [Fact]
    public async Task AnOutputFileInAMissingDirectorySaysWhichDirectory()
    {
        string file = Path.Combine(_directory, "no", "such", "out.bin");

        InProcessResult result = await ToolInThisProcess.RunAsync(["read", "zltest-terms-" + Environment.ProcessId, "--timeout", "0.05", "--out", file], _directory);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal($"zerolane: no directory '{Path.GetDirectoryName(file)}' for '{file}': create it first, or check the path.", result.Error.TrimEnd('\n'));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
