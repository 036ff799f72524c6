using System.Diagnostics;
using System.IO.Compression;
using System.Text.RegularExpressions;
using ZeroLane.Tests.Infrastructure;

namespace ZeroLane.Tests.Docs;

/// <summary>
/// The README's "Use ZeroLane from your own project", followed as written: pack ZeroLane into a local folder, make a console
/// project outside the repository with the README's <c>nuget.config</c> and <c>PackageReference</c>, build and run it
/// (a reader and a writer in it exchange a frame, and the fault guard's native library came with the package).
/// The project's packages go to a private NuGet cache, so a ZeroLane package cached by an earlier run cannot stand in.
/// </summary>
public sealed class ReadmeConsumerProjectTests : BufferTest
{
    private static readonly TimeSpan CommandGuard = TimeSpan.FromMinutes(4);

    [Fact]
    public void AConsoleProjectOutsideTheRepositoryUsesThePackedPackageFromALocalSource()
    {
        string root = ReadmeQuickStartTests.RepositoryRoot();
        string readme = File.ReadAllText(Path.Combine(root, "README.md"));
        string section = Regex.Match(readme, "## Use ZeroLane from your own project\n(.*?)\n## ", RegexOptions.Singleline).Groups[1].Value;
        Assert.Contains("dotnet add reference /path/to/zerolane/src/ZeroLane/ZeroLane.csproj", section);
        Assert.Contains("dotnet pack /path/to/zerolane/src/ZeroLane -c Release -o /path/to/packages", section);
        string[] xml = Regex.Matches(section, "```xml\n(.*?)```", RegexOptions.Singleline).Select(match => match.Groups[1].Value).ToArray();
        Assert.Equal(2, xml.Length);
        string version = Regex.Match(File.ReadAllText(Path.Combine(root, "Directory.Build.props")), "<Version>(.*?)</Version>").Groups[1].Value;
        Assert.Contains($"<PackageReference Include=\"ZeroLane\" Version=\"{version}\" />", xml[1]);

        using var work = new TempDirectory();
        string packages = Path.Combine(work.Path, "packages");
        string app = Path.Combine(work.Path, "app");
        Directory.CreateDirectory(app);

        // The README's command (the library is already built, so its build step is quick).
        string nuGetCache = Path.Combine(work.Path, "nuget-cache");
        Dotnet(root, nuGetCache, "pack", Path.Combine(root, "src/ZeroLane"), "-c", "Release", "-o", packages);
        string package = Path.Combine(packages, $"ZeroLane.{version}.nupkg");
        Assert.True(File.Exists(package), $"no {package}");
        using (ZipArchive archive = ZipFile.OpenRead(package))
        {
            Assert.Contains(archive.Entries, entry => entry.FullName == "lib/net10.0/ZeroLane.dll");
            // The tests require a C compiler (Prerequisites), so the fault guard is built and must be packed.
            Assert.Contains(archive.Entries, entry => entry.FullName.StartsWith("runtimes/linux-", StringComparison.Ordinal) &&
                entry.FullName.EndsWith("/native/libzerolane_native.so", StringComparison.Ordinal));
        }

        File.WriteAllText(Path.Combine(app, "nuget.config"), xml[0].Replace("/path/to/packages", packages));
        File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
            {xml[1]}
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using System.Text;
            using ZeroLane;
            using ZeroLane.Arrays;
            using ZeroLane.Buffers;

            string name = args[0];
            using var reader = new RingReader(name, new ReaderOptions { PayloadSize = 1 << 16 });
            using RingWriter writer = RingWriter.Connect(name, TimeSpan.FromSeconds(10));
            writer.Write("hello from a package"u8);
            using (Frame frame = reader.Read(TimeSpan.FromSeconds(10)))
            {
                Console.WriteLine($"frame {frame.Sequence}: {Encoding.UTF8.GetString(frame.Span)}");
            }
            try
            {
                new RingWriter(name);
            }
            catch (WriterAlreadyConnectedException)
            {
                Console.WriteLine("one writer at a time");
            }
            Console.WriteLine($"fault guard active: {MappedArray.IsFaultGuardActive}");
            """);

        string name = NewName("consumer");
        string output = Dotnet(app, nuGetCache, "run", "-c", "Release", "--", name);

        Assert.Equal(["frame 1: hello from a package", "one writer at a time", "fault guard active: True"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.True(Directory.Exists(Path.Combine(nuGetCache, "zerolane", version)), "the package was not restored from the local source");
        Assert.Empty(TestBuffers.Leftovers(name));
    }

    /// <summary>Runs <c>dotnet</c> in <paramref name="directory"/> with the NuGet cache <paramref name="nuGetCache"/>; fails with its output unless it exits 0.</summary>
    private static string Dotnet(string directory, string nuGetCache, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // The test host's MSBuild variables would point the child build at this repository's build.
        foreach (string variable in start.Environment.Keys.Where(key => key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToArray())
        {
            start.Environment.Remove(variable);
        }
        start.Environment["NUGET_PACKAGES"] = nuGetCache;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(CommandGuard))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"dotnet {string.Join(' ', arguments)} did not finish within {CommandGuard.TotalMinutes} min (hung?): {output.Result}{error.Result}");
        }
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} exited {process.ExitCode}: {output.Result}{error.Result}");
        return output.Result;
    }
}
