using ZeroLane.Bench;
using ZeroLane.Buffers;

namespace ZeroLane.Tests.Bench;

/// <summary>
/// <c>zerolane bench</c>'s options, parsed and checked by <see cref="BenchSettings.Parse"/> without running a
/// benchmark: what each accepts, the defaults, and an <see cref="ArgumentException"/> naming the option for
/// each kind of bad value (the command prints it in one line and exits with code 1, see <see cref="BenchArgumentTests"/>).
/// </summary>
public sealed class BenchSettingsParsing
{
    [Fact]
    public void NoOptionsMeanTheDefaults()
    {
        BenchSettings settings = BenchSettings.Parse();

        Assert.Equal([64, 1024, 64 * 1024, 1024 * 1024, 6_220_800], settings.Sizes);
        Assert.False(settings.SizesGiven);
        Assert.Equal(1, settings.Seconds);
        Assert.Equal(0.5, settings.WarmupSeconds);
        Assert.Equal(3, settings.Repeat);
        Assert.Equal(BenchSettings.DefaultParts.Order(), settings.Only.Order());
        Assert.Equal([WaitStrategy.BusySpin, WaitStrategy.SpinThenBlock, WaitStrategy.Blocking], settings.Waits);
        Assert.False(settings.Json);
    }

    [Theory]
    [InlineData("64", 64)]
    [InlineData("1_000", 1000)]
    [InlineData("1K", 1024)]
    [InlineData("1k", 1024)]
    [InlineData("64KiB", 64 << 10)]
    [InlineData("64kib", 64 << 10)]
    [InlineData("1M", 1 << 20)]
    [InlineData("2MiB", 2 << 20)]
    [InlineData("256M", 256 << 20)]
    [InlineData("268435456", 256 << 20)]
    public void SizesAcceptBinarySuffixes(string text, int expected)
    {
        Assert.Equal([expected], BenchSettings.Parse(sizes: text).Sizes);
    }

    [Fact]
    public void SizesKeepTheirOrderAndDropRepeatsAndEmptyEntries()
    {
        Assert.Equal([1 << 20, 64, 1024], BenchSettings.Parse(sizes: " 1M, 64,,1K ,64, 1024").Sizes);
    }

    [Theory]
    [InlineData(0.001, 0)]
    [InlineData(3600, 3600)]
    public void SecondsAndWarmupAcceptTheirWholeRange(double seconds, double warmup)
    {
        BenchSettings settings = BenchSettings.Parse(seconds: seconds, warmupSeconds: warmup);

        Assert.Equal(seconds, settings.Seconds);
        Assert.Equal(warmup, settings.WarmupSeconds);
    }

    [Fact]
    public void OnlyRunsTheNamedParts()
    {
        BenchSettings settings = BenchSettings.Parse(only: "ring, memcpy,ring");

        Assert.Equal(["memcpy", "ring"], settings.Only.Order());
    }

    [Theory]
    [InlineData("all")]
    [InlineData(" all ")]
    public void OnlyAllRunsEveryPartIceoryxAndPythonIncluded(string text)
    {
        IReadOnlySet<string> only = BenchSettings.Parse(only: text).Only;

        Assert.Equal(BenchSettings.AllParts.Order(), only.Order());
        Assert.Contains("iceoryx", only);
        Assert.Contains("python", only);
        Assert.Contains("python-topic", only);
        Assert.Contains("duplex", only);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public void OnlyBlankRunsTheDefaultPartsWhichLeaveOutIceoryxPythonDuplexAndGateway(string text)
    {
        IReadOnlySet<string> only = BenchSettings.Parse(only: text).Only;

        Assert.Equal(BenchSettings.AllParts.Where(part => part is not ("iceoryx" or "python" or "python-topic" or "duplex" or "gateway")).Order(), only.Order());
    }

    [Fact]
    public void OnlyAcceptsGatewayAloneAndItTakesEverySizeGiven()
    {
        BenchSettings settings = BenchSettings.Parse(only: "gateway", sizes: "64,1M");

        Assert.Equal(["gateway"], settings.Only.Order());
        Assert.Equal([64, 1 << 20], settings.SizesFor("gateway").Sizes);
    }

    [Fact]
    public void OnlyAcceptsDuplexAloneOrBesideTheRing()
    {
        Assert.Equal(["duplex"], BenchSettings.Parse(only: "duplex").Only.Order());
        Assert.Equal(["duplex", "ring"], BenchSettings.Parse(only: "ring, duplex").Only.Order());
    }

    [Fact]
    public void DuplexTakesEverySizeOfSizes()
    {
        BenchSettings settings = BenchSettings.Parse(sizes: "1,64,1M", only: "duplex");

        Assert.Equal([1, 64, 1 << 20], settings.SizesFor("duplex").Sizes);
    }

    [Fact]
    public void OnlyAcceptsPythonBesideTheRing()
    {
        Assert.Equal(["python", "python-topic", "ring"], BenchSettings.Parse(only: "ring,python,python-topic").Only.Order());
    }

    [Fact]
    public void OnlyAcceptsIceoryxBesideTheRing()
    {
        Assert.Equal(["iceoryx", "ring"], BenchSettings.Parse(only: "ring,iceoryx").Only.Order());
    }

    [Fact]
    public void WaitMeasuresTheNamedStrategiesOnceEachInTheGivenOrder()
    {
        BenchSettings settings = BenchSettings.Parse(waits: "blocking, busy-spin,blocking");

        Assert.Equal([WaitStrategy.Blocking, WaitStrategy.BusySpin], settings.Waits);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public void WaitBlankMeasuresAllThreeStrategies(string text)
    {
        Assert.Equal([WaitStrategy.BusySpin, WaitStrategy.SpinThenBlock, WaitStrategy.Blocking], BenchSettings.Parse(waits: text).Waits);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(100)]
    public void RepeatAcceptsOneToAHundredRuns(int repeat)
    {
        Assert.Equal(repeat, BenchSettings.Parse(repeat: repeat).Repeat);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(101)]
    public void RepeatOutsideOneToAHundredIsRejected(int repeat)
    {
        AssertRejected(() => BenchSettings.Parse(repeat: repeat), "--repeat", "100");
    }

    [Fact]
    public void GivenSizesApplyToEveryPartWithASizeDimensionAsFarAsItCanCarryThem()
    {
        BenchSettings settings = BenchSettings.Parse(sizes: "64,1001,4K");

        Assert.True(settings.SizesGiven);
        foreach (string part in new[] { "ring", "socket", "topics", "message-sockets" })
        {
            Assert.Equal([64, 1001, 4096], settings.SizesFor(part).Sizes);
        }
        Assert.Equal([4096], settings.SizesFor("messages").Sizes);
        Assert.Equal([64, 4096], settings.SizesFor("arrays").Sizes);
        Assert.Null(settings.SizesFor("memcpy").Sizes);
        Assert.Null(settings.SizesFor("cacheline").Sizes);
    }

    [Fact]
    public void WithoutSizesEveryPartMeasuresItsOwn()
    {
        BenchSettings settings = BenchSettings.Parse();

        Assert.All(BenchSettings.AllParts, part => Assert.Null(settings.SizesFor(part).Sizes));
    }

    [Theory]
    [InlineData("messages", "64,512", "--only messages needs frames of at least 1 KiB")]
    [InlineData("ring,messages", "64", "--only messages needs frames of at least 1 KiB")]
    [InlineData("arrays", "1001,3", "--only arrays needs sizes that are whole float32 elements")]
    public void APartNamedInOnlyThatCanCarryNoneOfTheSizesIsRejected(string only, string sizes, string message)
    {
        AssertRejected(() => BenchSettings.Parse(sizes: sizes, only: only), message, "--sizes gave only");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("all")]
    public void APartTheRunIncludesByDefaultThatCanCarryNoneOfTheSizesIsNotAnError(string? only)
    {
        // The run skips it with a note: the user asked for small frames, not for the part.
        BenchSettings settings = BenchSettings.Parse(sizes: "64", only: only);

        Assert.Empty(settings.SizesFor("messages").Sizes!);
    }

    [Fact]
    public void JsonIsKeptAsGiven()
    {
        Assert.True(BenchSettings.Parse(json: true).Json);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("+64")]
    [InlineData("1.5K")]
    [InlineData("0x40")]
    [InlineData("64B")]
    [InlineData("64KK")]
    [InlineData("1 K")]
    [InlineData("K")]
    public void SizesRejectWhatIsNotAWholeNumberWithASuffix(string text)
    {
        AssertRejected(() => BenchSettings.Parse(sizes: $"64,{text}"), "--sizes", $"'{text}'");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("0K")]
    [InlineData("268435457")]
    [InlineData("257M")]
    [InlineData("1G")]
    [InlineData("1GiB")]
    public void SizesRejectFramesOutsideOneByteTo256MiB(string text)
    {
        AssertRejected(() => BenchSettings.Parse(sizes: text), "--sizes", "268435456");
    }

    [Fact]
    public void SizesRejectANumberWhoseMultipleWouldOverflow()
    {
        // (2^44 + 1) MiB wraps around 64 bits to exactly 1 MiB if multiplied out.
        AssertRejected(() => BenchSettings.Parse(sizes: "17592186044417M"), "--sizes", "'17592186044417M'");
    }

    [Theory]
    [InlineData("")]
    [InlineData(",")]
    [InlineData(" , ")]
    public void SizesNeedAtLeastOneSize(string text)
    {
        AssertRejected(() => BenchSettings.Parse(sizes: text), "--sizes", "at least one");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(3600.5)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void SecondsOutsideAboveZeroTo3600AreRejected(double seconds)
    {
        AssertRejected(() => BenchSettings.Parse(seconds: seconds), "--seconds", "3600");
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(3601)]
    [InlineData(double.NaN)]
    public void WarmupOutsideZeroTo3600IsRejected(double warmup)
    {
        AssertRejected(() => BenchSettings.Parse(warmupSeconds: warmup), "--warmup", "3600");
    }

    [Theory]
    [InlineData("pipes", "pipes")]
    [InlineData("ring,pipes", "pipes")]
    [InlineData("Ring", "Ring")]
    [InlineData("ring,all", "all")]
    public void OnlyRejectsAnUnknownPartAndListsTheKnownOnes(string text, string unknown)
    {
        AssertRejected(() => BenchSettings.Parse(only: text), "--only", $"'{unknown}'", "message-sockets");
    }

    [Fact]
    public void OnlyNeedsAtLeastOnePart()
    {
        AssertRejected(() => BenchSettings.Parse(only: " , "), "--only", "at least one");
    }

    [Theory]
    [InlineData("sometimes")]
    [InlineData("spinning")]
    [InlineData("BusySpin")]
    public void WaitRejectsAnUnknownStrategyAndListsTheKnownOnes(string text)
    {
        AssertRejected(() => BenchSettings.Parse(waits: $"blocking,{text}"), "--wait", $"'{text}'", "spin-then-block");
    }

    [Fact]
    public void WaitNeedsAtLeastOneStrategy()
    {
        AssertRejected(() => BenchSettings.Parse(waits: ","), "--wait", "at least one");
    }

    private static void AssertRejected(Func<BenchSettings> parse, params string[] messageParts)
    {
        ArgumentException exception = Assert.Throws<ArgumentException>(() => parse());
        foreach (string part in messageParts)
        {
            Assert.Contains(part, exception.Message);
        }
    }
}
