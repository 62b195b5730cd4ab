using System.Net.Http.Headers;
using Microsoft.IdentityModel.JsonWebTokens;
using Platform.Core.Security;
using Platform.Tests.Integration.Civic;
using Platform.Tests.Unit.Civic;

namespace Platform.Tests.Integration.Identity;

/// <summary>The civic stack (Api + Worker) with Api holding the ES256 key, so residents sign in at the tenant's issuer.</summary>
public sealed class CivicIdentityFixture : CivicFixture
{
    protected override Task ConfigureAsync(Dictionary<string, string?> settings)
    {
        settings["Platform:Jwt:Keys:0:Id"] = "civic-id";
        settings["Platform:Jwt:Keys:0:PrivateKey"] = ClientTokens.GenerateKeyPair().PrivatePem;
        return Task.CompletedTask;
    }
}

/// <summary>
/// A resident end to end with their own token: registers and signs in at the civic tenant's issuer (code + PKCE), follows
/// a city, and when a meeting of that city publishes, the civic notification reaches them and they read the meeting.
/// </summary>
public sealed class ResidentEndToEndTests(CivicIdentityFixture f) : IClassFixture<CivicIdentityFixture>
{
    [Fact]
    public async Task A_resident_signed_in_at_the_issuer_follows_a_city_and_receives_the_notification_when_a_meeting_publishes()
    {
        var (tenant, key) = await f.CreateTenantAsync("councilsense");
        var clientId = await f.Api.RegisterClientAsync(key);
        var city = await f.CreateCityAsync(key, "riverton", "file", CivicFixture.CopyToTemp(CivicSeeds.Riverton, take: 1));

        var tokens = await f.Api.SignInAsync(f.Api.Browser(), tenant, clientId, "resident@riverton.example", "a quiet street by the river", register: true);
        var access = tokens.GetProperty("access_token").GetString()!;
        var resident = new JsonWebToken(access).Subject;
        var me = f.Client(access);

        Assert.Equal(HttpStatusCode.OK, (await me.PatchAsJsonAsync("/v1/civic/me", new { homeCityId = city })).StatusCode);
        await f.ScanAsync(city);
        await f.SettledAsync(city);

        // The publish notification reaches the resident's inbox (in-app), addressed to their issuer subject.
        var inbox = await Eventually.ReturnsAsync(async () => await CivicFixture.Json(await me.GetAsync("/v1/me/notifications")),
            page => page.GetProperty("items").GetArrayLength() > 0, TimeSpan.FromSeconds(30), "the civic notification reaches the resident");
        var notification = inbox.GetProperty("items")[0];
        Assert.StartsWith("civic.", notification.GetProperty("type").GetString());
        Assert.Equal(1, await f.CountAsync("SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = $1 AND user_id = $2", tenant, resident));

        // And they read the meeting with their own token.
        var meetings = await CivicFixture.Json(await me.GetAsync($"/v1/civic/cities/{city}/meetings"));
        var meeting = Assert.Single(meetings.GetProperty("items").EnumerateArray());
        var read = await me.GetAsync($"/v1/civic/meetings/{meeting.GetProperty("id").GetGuid()}");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);

        // Someone without a token reads nothing.
        var anonymous = f.Client();
        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/me/notifications")).StatusCode);
    }
}
