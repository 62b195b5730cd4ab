using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Platform.AppHost.Infrastructure;

namespace Platform.Tests.Unit.Admin;

/// <summary>
/// No default port of the system is one that browsers refuse to open (the Fetch standard's "bad ports": Chromium
/// answers ERR_UNSAFE_PORT, Firefox "This address is restricted"), so every printed URL opens in an ordinary browser.
/// </summary>
public sealed partial class DefaultPortsTests
{
    // https://fetch.spec.whatwg.org/#port-blocking
    private static readonly HashSet<int> BadPorts =
    [
        0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111,
        113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548,
        554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566,
        6665, 6666, 6667, 6668, 6669, 6697, 10080,
    ];

    [Fact]
    public void AppHost_default_ports_are_not_on_the_browsers_blocked_list()
    {
        var ports = PlatformPorts.From(new ConfigurationBuilder().Build());
        var all = new[] { ports.Api, ports.Worker, ports.Admin, ports.Postgres, ports.Redis }.Concat(ports.Realtime).ToArray();
        Assert.DoesNotContain(all, BadPorts.Contains);
        Assert.Equal(5050, ports.Admin);
    }

    [Fact]
    public void Ports_named_in_platform_sh_and_the_launch_profiles_are_not_on_the_blocked_list()
    {
        var root = Path.GetDirectoryName(Path.GetDirectoryName(EndToEnd.AdminSystemFixture.ArtifactsDirectory))!;
        var files = new[] { "platform.sh", "Platform.Admin/Properties/launchSettings.json", "Platform.Api/Properties/launchSettings.json" }
            .Select(f => Path.Combine(root, f)).Where(File.Exists).ToArray();
        Assert.NotEmpty(files);
        var ports = files.SelectMany(f => Port().Matches(File.ReadAllText(f)).Select(m => (File: f, Port: int.Parse(m.Groups[1].Value)))).ToArray();
        Assert.Contains(ports, p => p.Port == 5050);
        Assert.DoesNotContain(ports, p => BadPorts.Contains(p.Port));
    }

    [GeneratedRegex(@"(?:localhost:|127\.0\.0\.1:|_PORT=|PORTS="")(\d{2,5})")]
    private static partial Regex Port();
}
