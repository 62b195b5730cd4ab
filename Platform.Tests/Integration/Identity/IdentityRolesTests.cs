using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Platform.Tests.Integration.Identity;

/// <summary>Roles per tenant managed through the API reach the signed-in user's tokens; a company user sees only their company.</summary>
public sealed class IdentityRolesTests(IdentityFixture fx) : IClassFixture<IdentityFixture>
{
    private const string Password = "correct horse battery staple";

    private async Task<Guid> CompanyAsync(string apiKey, string name)
    {
        var response = await fx.Client(apiKey).PostAsJsonAsync("/v1/impact/companies", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await IdentityFixture.Json(response)).GetProperty("id").GetGuid();
    }

    private async Task<JsonElement> RefreshAsync(Guid tenant, string clientId, JsonElement tokens)
    {
        var response = await fx.TokenRequestAsync(tenant, new()
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = tokens.GetProperty("refresh_token").GetString()!, ["client_id"] = clientId,
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    [Fact]
    public async Task A_company_user_sees_only_their_company_and_the_role_reaches_the_token_at_the_next_refresh()
    {
        var tenant = await fx.CreateTenantAsync("teei");
        var acme = await CompanyAsync(tenant.ApiKey, "Acme");
        var globex = await CompanyAsync(tenant.ApiKey, "Globex");
        var clientId = await fx.RegisterClientAsync(tenant.ApiKey);
        var tokens = await fx.SignInAsync(fx.Browser(), tenant.Id, clientId, "sponsor@acme.example", Password, register: true);
        var userId = new JsonWebToken(tokens.GetProperty("access_token").GetString()!).Subject;

        // A plain member sees no company.
        var member = fx.Client(tokens.GetProperty("access_token").GetString()!);
        var none = JsonDocument.Parse(await member.GetStringAsync("/v1/impact/companies")).RootElement;
        Assert.Empty(none.GetProperty("companies").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await member.GetAsync($"/v1/impact/companies/{acme}")).StatusCode);

        var grant = await fx.Client(tenant.ApiKey).PostAsJsonAsync($"/v1/identity/users/{userId}/roles", new { role = "company_user", scopeId = acme });
        Assert.Equal(HttpStatusCode.NoContent, grant.StatusCode);
        var view = JsonDocument.Parse(await fx.Client(tenant.ApiKey).GetStringAsync($"/v1/identity/users/{userId}")).RootElement;
        Assert.Contains(view.GetProperty("roles").EnumerateArray(), r => r.GetProperty("role").GetString() == "company_user"
            && r.GetProperty("scopeId").GetString() == acme.ToString());

        var refreshed = await RefreshAsync(tenant.Id, clientId, tokens);
        var access = refreshed.GetProperty("access_token").GetString()!;
        Assert.Contains($"company_user:{acme}", new JsonWebToken(access).Claims.Where(c => c.Type == "roles").Select(c => c.Value));
        var sponsor = fx.Client(access);
        var listed = JsonDocument.Parse(await sponsor.GetStringAsync("/v1/impact/companies")).RootElement.GetProperty("companies");
        Assert.Equal(new[] { acme }, listed.EnumerateArray().Select(c => c.GetProperty("id").GetGuid()));
        Assert.Equal(HttpStatusCode.OK, (await sponsor.GetAsync($"/v1/impact/companies/{acme}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await sponsor.GetAsync($"/v1/impact/companies/{globex}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await sponsor.GetAsync($"/v1/impact/companies/{globex}/report?period=2026")).StatusCode);
        // Writes stay with the tenant's key.
        Assert.Equal(HttpStatusCode.Forbidden, (await sponsor.PostAsJsonAsync("/v1/impact/companies", new { name = "Mine" })).StatusCode);

        // Taking the role away: the next refresh carries no company.
        var remove = await fx.Client(tenant.ApiKey).PostAsJsonAsync($"/v1/identity/users/{userId}/roles/remove", new { role = "company_user", scopeId = acme });
        Assert.Equal(HttpStatusCode.NoContent, remove.StatusCode);
        var after = await RefreshAsync(tenant.Id, clientId, refreshed);
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Client(after.GetProperty("access_token").GetString()!).GetAsync($"/v1/impact/companies/{acme}")).StatusCode);
    }

    [Fact]
    public async Task Role_changes_refuse_unknown_roles_missing_scopes_and_unknown_users_with_a_problem()
    {
        var tenant = await fx.CreateTenantAsync("roles");
        var other = await fx.CreateTenantAsync("other");
        var clientId = await fx.RegisterClientAsync(tenant.ApiKey);
        var tokens = await fx.SignInAsync(fx.Browser(), tenant.Id, clientId, "lead@example.org", Password, register: true);
        var userId = new JsonWebToken(tokens.GetProperty("access_token").GetString()!).Subject;
        var key = fx.Client(tenant.ApiKey);
        foreach (var (body, status) in new (object, HttpStatusCode)[]
        {
            (new { role = "emperor" }, HttpStatusCode.BadRequest),
            (new { role = "company_user" }, HttpStatusCode.BadRequest),
            (new { role = "team_lead", scopeId = Guid.NewGuid() }, HttpStatusCode.BadRequest),
            (new { role = "attendee", scopeId = "not-a-uuid" }, HttpStatusCode.BadRequest),
        })
        {
            var response = await key.PostAsJsonAsync($"/v1/identity/users/{userId}/roles", body);
            Assert.Equal(status, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        // Another tenant's key cannot see or change this user.
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Client(other.ApiKey).PostAsJsonAsync($"/v1/identity/users/{userId}/roles", new { role = "team_lead" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Client(other.ApiKey).GetAsync($"/v1/identity/users/{userId}")).StatusCode);
        var roles = JsonDocument.Parse(await key.GetStringAsync($"/v1/identity/users/{userId}")).RootElement.GetProperty("roles");
        Assert.Equal(new[] { "member" }, roles.EnumerateArray().Select(r => r.GetProperty("role").GetString()));

        Assert.Equal(HttpStatusCode.NoContent, (await key.PostAsJsonAsync($"/v1/identity/users/{userId}/roles", new { role = "team_lead" })).StatusCode);
        var refreshed = await RefreshAsync(tenant.Id, clientId, tokens);
        Assert.Contains("team_lead", new JsonWebToken(refreshed.GetProperty("access_token").GetString()!).Claims.Where(c => c.Type == "roles").Select(c => c.Value));
    }
}
