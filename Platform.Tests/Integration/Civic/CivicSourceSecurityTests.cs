using Microsoft.AspNetCore.Builder;
using Platform.Tests.Unit.Security;

namespace Platform.Tests.Integration.Civic;

/// <summary>
/// A tenant names civic sources; it must not reach the server's files or internal network through them, nor learn
/// which server paths exist. Only 127.0.0.1 is ever listened on.
/// </summary>
public sealed class CivicSourceSecurityTests(CivicFixture f) : IClassFixture<CivicFixture>
{
    private static async Task<HttpResponseMessage> CreateAsync(CivicFixture f, string key, string slug, string kind, string location) =>
        await f.Client(key).PostAsJsonAsync("/v1/civic/cities", new { slug, name = slug, sources = new[] { new { kind, location } } });

    [Fact]
    public async Task File_sources_outside_the_operator_root_are_refused_alike_whether_or_not_the_path_exists_and_nothing_is_stored()
    {
        var (tenant, key) = await f.CreateTenantAsync("files");
        var outside = Path.Combine(Path.GetTempPath(), "civic-outside-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(outside);
        var escape = Path.Combine(CivicFixture.FileRoot, "escape-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(CivicFixture.FileRoot);
        Directory.CreateSymbolicLink(escape, outside);
        try
        {
            var details = new List<string>();
            foreach (var location in new[] { "/etc", "/definitely/not/here", outside, escape, CivicFixture.FileRoot + "/../etc", "relative/path" })
            {
                var response = await CreateAsync(f, key, "f" + details.Count, "file", location);
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                details.Add((await CivicFixture.Json(response)).GetProperty("errors").GetProperty("sources[0]")[0].GetString()!);
            }
            Assert.Single(details.Distinct()); // one answer for all: existence is not revealed
            Assert.Equal(0, await f.CountAsync("SELECT count(*) FROM civic.cities WHERE tenant_id = $1", tenant));
        }
        finally
        {
            Directory.Delete(escape);
            Directory.Delete(outside);
        }
    }

    [Fact]
    public async Task A_folder_removed_after_creation_fails_its_scan_without_a_system_message()
    {
        var (_, key) = await f.CreateTenantAsync("gone");
        var folder = CivicFixture.CopyToTemp(Platform.Tests.Unit.Civic.CivicSeeds.Riverton, take: 1);
        var created = await CreateAsync(f, key, "gone", "file", folder);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var city = (await CivicFixture.Json(created)).GetProperty("id").GetGuid();
        Directory.Delete(folder, recursive: true);
        await f.ScanAsync(city);
        var error = await f.ScalarAsync("SELECT last_error FROM civic.sources WHERE city_id = $1", city);
        Assert.Contains(Platform.Core.Civic.SourceReader.FolderUnavailable, error);
        Assert.DoesNotContain("Could not find", error);
    }

    [Fact]
    public async Task A_feed_host_resolving_to_loopback_and_a_feed_entry_naming_loopback_are_refused_without_a_connection()
    {
        using var listener = new LoopbackListener();
        var (_, key) = await f.CreateTenantAsync("ssrf-feed");
        await using var feed = await StubServer.StartAsync(app => app.MapGet("/feed.json", () => Microsoft.AspNetCore.Http.Results.Json(new
        {
            meetings = new[] { new { uid = "2025-05-01-regular", title = "Regular", date = "2025-05-01", url = $"http://localhost:{listener.Port}/internal.txt" } },
        })));

        var byName = await CreateAsync(f, key, "byname", "http", $"http://localhost:{listener.Port}/feed.json");
        Assert.Equal(HttpStatusCode.Created, byName.StatusCode); // the name is judged after DNS, when connecting
        var entry = await CreateAsync(f, key, "entry", "http", new Uri(feed.BaseAddress, "feed.json").ToString());
        Assert.Equal(HttpStatusCode.Created, entry.StatusCode);
        foreach (var city in new[] { byName, entry })
        {
            var id = (await CivicFixture.Json(city)).GetProperty("id").GetGuid();
            await f.ScanAsync(id);
            Assert.Contains("refused", await f.ScalarAsync("SELECT last_error FROM civic.sources WHERE city_id = $1", id));
        }
        Assert.Equal(0, listener.Accepted);

        var literal = await CreateAsync(f, key, "metadata", "http", "http://169.254.169.254/latest/meta-data/");
        Assert.Equal(HttpStatusCode.BadRequest, literal.StatusCode);
        var scheme = await CreateAsync(f, key, "scheme", "http", "file:///etc/passwd");
        Assert.Equal(HttpStatusCode.BadRequest, scheme.StatusCode);
    }
}
