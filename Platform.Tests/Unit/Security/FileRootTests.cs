using Platform.Core.Civic;

namespace Platform.Tests.Unit.Security;

/// <summary>Which folders a tenant's <c>file</c> source may name: only under an operator's root, after every link is resolved.</summary>
public sealed class FileRootTests : IDisposable
{
    private readonly string _base = Path.Combine(Path.GetTempPath(), "file-roots-" + Guid.NewGuid().ToString("N"));
    private readonly Guid _tenant = Guid.NewGuid();

    public FileRootTests()
    {
        Directory.CreateDirectory(Path.Combine(_base, "root", "city"));
        Directory.CreateDirectory(Path.Combine(_base, "outside"));
        File.WriteAllText(Path.Combine(_base, "outside", "2025-01-01-secret.txt"), "not for tenants");
    }

    public void Dispose() => Directory.Delete(_base, recursive: true);

    private SourceOptions Options(params string[] roots) => new() { FileRoots = [.. roots] };

    [Fact]
    public void Without_roots_no_folder_is_allowed() =>
        Assert.Null(Options().ResolveFolder(Path.Combine(_base, "root", "city"), _tenant));

    [Fact]
    public void A_folder_under_the_root_is_allowed_and_others_are_not()
    {
        var options = Options(Path.Combine(_base, "root"));
        Assert.Equal(Path.Combine(_base, "root", "city"), options.ResolveFolder(Path.Combine(_base, "root", "city"), _tenant));
        Assert.Null(options.ResolveFolder(Path.Combine(_base, "outside"), _tenant));
        Assert.Null(options.ResolveFolder("/etc", _tenant));
        Assert.Null(options.ResolveFolder(Path.Combine(_base, "root", "..", "outside"), _tenant));
        Assert.Null(options.ResolveFolder(Path.Combine(_base, "rootsibling"), _tenant));
        Assert.Null(options.ResolveFolder("relative/city", _tenant));
    }

    [Fact]
    public void A_link_under_the_root_that_points_outside_is_refused()
    {
        Directory.CreateSymbolicLink(Path.Combine(_base, "root", "escape"), Path.Combine(_base, "outside"));
        Directory.CreateSymbolicLink(Path.Combine(_base, "root", "relative-escape"), Path.Combine("..", "outside"));
        var options = Options(Path.Combine(_base, "root"));
        Assert.Null(options.ResolveFolder(Path.Combine(_base, "root", "escape"), _tenant));
        Assert.Null(options.ResolveFolder(Path.Combine(_base, "root", "relative-escape"), _tenant));
        // ".." after a link goes up from the link's target, as the kernel would, not lexically.
        Directory.CreateDirectory(Path.Combine(_base, "outside", "deep"));
        Directory.CreateSymbolicLink(Path.Combine(_base, "root", "deep"), Path.Combine(_base, "outside", "deep"));
        Assert.Null(options.ResolveFolder(Path.Combine(_base, "root", "deep", ".."), _tenant));
    }

    [Fact]
    public void A_root_that_is_itself_a_link_allows_what_is_under_its_target()
    {
        Directory.CreateSymbolicLink(Path.Combine(_base, "root-link"), Path.Combine(_base, "root"));
        Assert.NotNull(Options(Path.Combine(_base, "root-link")).ResolveFolder(Path.Combine(_base, "root", "city"), _tenant));
    }

    [Fact]
    public void A_per_tenant_root_admits_only_that_tenant()
    {
        var other = Guid.NewGuid();
        Directory.CreateDirectory(Path.Combine(_base, "tenants", _tenant.ToString(), "city"));
        Directory.CreateDirectory(Path.Combine(_base, "tenants", other.ToString(), "city"));
        var options = Options(Path.Combine(_base, "tenants", "{tenant}"));
        Assert.NotNull(options.ResolveFolder(Path.Combine(_base, "tenants", _tenant.ToString(), "city"), _tenant));
        Assert.Null(options.ResolveFolder(Path.Combine(_base, "tenants", other.ToString(), "city"), _tenant));
    }

    [Fact]
    public async Task A_scan_skips_files_linking_outside_refuses_oversized_documents_and_never_names_server_paths()
    {
        var city = Path.Combine(_base, "root", "city");
        File.WriteAllText(Path.Combine(city, "2025-02-01-regular.txt"), "Minutes of the regular meeting.");
        File.CreateSymbolicLink(Path.Combine(city, "2025-03-01-stolen.txt"), Path.Combine(_base, "outside", "2025-01-01-secret.txt"));
        var limits = new SourceOptions { FileRoots = [Path.Combine(_base, "root")], MaxDocumentBytes = 1024 };
        var reader = new SourceReader(new CivicOptions(), limits, new Platform.Core.Security.OutboundOptions(), new HttpClient());
        var listing = await reader.ListAsync(new SourceRow(Guid.NewGuid(), Guid.NewGuid(), "file", city, null, null), _tenant, CancellationToken.None);
        Assert.Equal(["2025-02-01-regular"], listing.Documents.Select(d => d.MeetingUid));

        File.WriteAllBytes(Path.Combine(city, "2025-04-01-huge.txt"), new byte[2048]);
        var tooBig = await Assert.ThrowsAsync<SourceException>(() =>
            reader.ListAsync(new SourceRow(Guid.NewGuid(), Guid.NewGuid(), "file", city, null, null), _tenant, CancellationToken.None));
        Assert.Contains("2025-04-01-huge.txt", tooBig.Message);
        Assert.DoesNotContain(_base, tooBig.Message);

        // A folder that does not exist and one outside the root fail with the same words.
        var missing = await Assert.ThrowsAsync<SourceException>(() =>
            reader.ListAsync(new SourceRow(Guid.NewGuid(), Guid.NewGuid(), "file", Path.Combine(_base, "root", "nope"), null, null), _tenant, CancellationToken.None));
        var outside = await Assert.ThrowsAsync<SourceException>(() =>
            reader.ListAsync(new SourceRow(Guid.NewGuid(), Guid.NewGuid(), "file", "/etc", null, null), _tenant, CancellationToken.None));
        Assert.Equal(SourceReader.FolderUnavailable, missing.Message);
        Assert.Equal(SourceReader.FolderUnavailable, outside.Message);
    }

    [Fact]
    public void Feeds_with_a_DTD_are_refused()
    {
        const string bomb = """
            <?xml version="1.0"?>
            <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
            <rss><channel><item><guid>a</guid><title>&lol2;</title><link>https://example.com/a.txt</link></item></channel></rss>
            """;
        Assert.Throws<SourceException>(() => SourceReader.ParseFeed(bomb, "application/rss+xml"));
        Assert.Single(SourceReader.ParseFeed("<rss><channel><item><guid>a</guid><link>https://example.com/a.txt</link></item></channel></rss>", null));
    }
}
