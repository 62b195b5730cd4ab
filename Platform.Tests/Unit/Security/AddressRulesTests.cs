using Platform.Core.Security;

namespace Platform.Tests.Unit.Security;

/// <summary>The address rules as pure functions: nothing here opens a connection.</summary>
public sealed class AddressRulesTests
{
    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.255.0.9", "loopback")]
    [InlineData("10.1.2.3", "private")]
    [InlineData("172.16.0.1", "private")]
    [InlineData("172.31.255.255", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("169.254.169.254", "link-local (cloud metadata)")]
    [InlineData("100.100.100.200", "shared (carrier-grade NAT)")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("224.0.0.251", "multicast")]
    [InlineData("239.255.255.250", "multicast")]
    [InlineData("255.255.255.255", "reserved")]
    [InlineData("198.18.0.1", "benchmarking")]
    [InlineData("192.0.2.10", "documentation")]
    [InlineData("::1", "loopback")]
    [InlineData("::", "unspecified")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("fd00:ec2::254", "unique local (private)")]
    [InlineData("fc12::1", "unique local (private)")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    [InlineData("::ffff:169.254.169.254", "link-local (cloud metadata)")]
    [InlineData("64:ff9b::a9fe:a9fe", "link-local (cloud metadata)")]
    [InlineData("2002:0a00:0001::", "private")]
    [InlineData("::7f00:1", "IPv4-compatible (deprecated)")]
    [InlineData("2001:db8::1", "documentation")]
    public void Internal_and_special_addresses_are_refused_with_their_reason(string address, string why) =>
        Assert.Equal(why, AddressRules.WhyRefused(IPAddress.Parse(address)));

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("1.1.1.1")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("193.0.14.129")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("2a00:1450:4001:80b::200e")]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("64:ff9b::808:808")]
    public void Public_unicast_addresses_are_allowed(string address) =>
        Assert.Null(AddressRules.WhyRefused(IPAddress.Parse(address)));

    [Theory]
    [InlineData("http://127.0.0.1/x", true, "only https URLs are called")]
    [InlineData("https://127.0.0.1/x", true, "the address is not public (loopback)")]
    [InlineData("https://[::1]:8443/x", false, "the address is not public (loopback)")]
    [InlineData("http://169.254.169.254/latest/meta-data", false, "the address is not public (link-local (cloud metadata))")]
    [InlineData("file:///etc/passwd", false, "only http(s) URLs are called")]
    [InlineData("gopher://example.com/", false, "only http(s) URLs are called")]
    [InlineData("https://user:pw@example.com/", true, "URLs with credentials in them are not called")]
    public void Urls_are_refused_before_any_lookup(string url, bool requireHttps, string why) =>
        Assert.Equal(why, OutboundHttp.WhyRefused(new Uri(url), new OutboundOptions(), requireHttps));

    [Fact]
    public void The_operator_allow_list_admits_a_named_host_over_http_and_nothing_else()
    {
        var options = new OutboundOptions { AllowedHosts = ["127.0.0.1", "feeds.dev.internal"] };
        Assert.Null(OutboundHttp.WhyRefused(new Uri("http://127.0.0.1:8080/feed"), options, requireHttps: true));
        Assert.Null(OutboundHttp.WhyRefused(new Uri("http://FEEDS.dev.internal/feed"), options, requireHttps: true));
        Assert.Equal("only https URLs are called", OutboundHttp.WhyRefused(new Uri("http://other.example/"), options, requireHttps: true));
        Assert.NotNull(OutboundHttp.WhyRefused(new Uri("https://127.0.0.2/"), options, requireHttps: true));
        Assert.Null(OutboundHttp.WhyRefused(new Uri("https://example.com/"), options, requireHttps: true));
    }
}
