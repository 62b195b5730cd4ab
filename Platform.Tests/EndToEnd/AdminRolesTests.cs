using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Playwright;
using Platform.Tests.Integration.Identity;
using static Microsoft.Playwright.Assertions;

namespace Platform.Tests.EndToEnd;

/// <summary>
/// Users and roles in the Admin panel (headless Chromium): an operator sees a tenant's signed-up users with their roles,
/// grants and takes away roles, and each change shows in the tenant's role audit with the operator as actor.
/// </summary>
public sealed class AdminRolesTests(AdminSystemFixture system) : IClassFixture<AdminSystemFixture>
{
    /// <summary>Registers a person on the tenant's issuer page over HTTP (a browser's form post with its antiforgery token).</summary>
    private async Task RegisterAsync(Guid tenant, string email)
    {
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new() })
        {
            BaseAddress = system.ApiAddress,
        };
        var html = await browser.GetStringAsync($"/t/{tenant}/account/register");
        var registered = await browser.PostAsync($"/t/{tenant}/account/register", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__af"] = IdentityFixture.AntiforgeryToken(html), ["email"] = email, ["password"] = "a long walk to the library",
            ["returnUrl"] = $"/t/{tenant}/account/login",
        }));
        Assert.True(registered.StatusCode == HttpStatusCode.Redirect, await registered.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_operator_grants_and_removes_roles_and_the_audit_shows_each_change()
    {
        var created = await system.OperatorClient.PostAsJsonAsync("/v1/tenants", new { name = "Springfield " + Guid.NewGuid().ToString("N")[..4] });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var tenantJson = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        var tenant = tenantJson.GetProperty("id").GetGuid();
        await RegisterAsync(tenant, "chief@springfield.example");
        await RegisterAsync(tenant, "lou@springfield.example");

        var page = await system.SignedInPageAsync();
        await page.OpenLiveAsync($"/tenants/{tenant}/users");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Users and roles" })).ToBeVisibleAsync();
        await Expect(page.Locator("nav.pager[data-live=true]")).ToBeVisibleAsync();
        var chief = page.Locator("tr[data-user='chief@springfield.example']");
        await Expect(chief.Locator("li[data-role=member]")).ToBeVisibleAsync();

        // Grant team_lead.
        await page.GetByLabel("Role for chief@springfield.example").SelectOptionAsync("team_lead");
        await chief.GetByRole(AriaRole.Button, new() { Name = "Grant" }).ClickAsync();
        await Expect(page.Locator(".toasts")).ToContainTextAsync("chief@springfield.example now has the role team_lead.");
        chief = page.Locator("tr[data-user='chief@springfield.example']");
        await Expect(chief.Locator("li[data-role=team_lead]")).ToBeVisibleAsync();

        // Take member away (confirmed).
        await Expect(page.Locator("nav.pager[data-live=true]")).ToBeVisibleAsync();
        await chief.GetByRole(AriaRole.Button, new() { Name = "Remove member" }).ClickAsync();
        await Expect(page.Locator("dialog.confirm")).ToContainTextAsync("Take the role member from chief@springfield.example?");
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Expect(page.Locator(".toasts")).ToContainTextAsync("no longer has the role member");
        chief = page.Locator("tr[data-user='chief@springfield.example']");
        await Expect(chief.Locator("li[data-role=member]")).ToHaveCountAsync(0);
        await Expect(chief.Locator("li[data-role=team_lead]")).ToBeVisibleAsync();

        // The audit names each change and who made it; the other user is untouched.
        var audit = page.Locator("table.audit tbody tr");
        await Expect(audit).ToHaveCountAsync(2);
        await Expect(audit.Nth(0)).ToContainTextAsync("removed");
        await Expect(audit.Nth(0)).ToContainTextAsync("operator (admin panel)");
        await Expect(audit.Nth(1)).ToContainTextAsync("granted");
        await Expect(audit.Nth(1)).ToContainTextAsync("team_lead");
        await Expect(page.Locator("tr[data-user='lou@springfield.example'] li[data-role=member]")).ToBeVisibleAsync();
        await AdminSystemFixture.ScreenshotAsync(page, "admin-roles");

        // Api says the same.
        var users = JsonDocument.Parse(await system.OperatorClient.GetStringAsync($"/v1/admin/tenants/{tenant}/identity/users")).RootElement;
        var roles = users.GetProperty("items").EnumerateArray().Single(u => u.GetProperty("email").GetString() == "chief@springfield.example")
            .GetProperty("roles").EnumerateArray().Select(r => r.GetProperty("role").GetString()!).ToArray();
        Assert.Equal(new[] { "team_lead" }, roles);
    }

    [Fact]
    public async Task Bad_role_requests_to_the_admin_api_are_problems_and_change_nothing()
    {
        var created = await system.OperatorClient.PostAsJsonAsync("/v1/tenants", new { name = "Shelbyville " + Guid.NewGuid().ToString("N")[..4] });
        var tenant = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
        await RegisterAsync(tenant, "mayor@shelbyville.example");
        var users = JsonDocument.Parse(await system.OperatorClient.GetStringAsync($"/v1/admin/tenants/{tenant}/identity/users")).RootElement;
        var id = users.GetProperty("items")[0].GetProperty("id").GetGuid();
        foreach (var body in new object[] { new { role = "king" }, new { role = "company_user" }, new { role = "ops", scopeId = Guid.NewGuid() } })
        {
            var response = await system.OperatorClient.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/identity/users/{id}/roles", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        var changes = JsonDocument.Parse(await system.OperatorClient.GetStringAsync($"/v1/admin/tenants/{tenant}/identity/role-changes")).RootElement;
        Assert.Empty(changes.GetProperty("items").EnumerateArray());
        using var anonymous = new HttpClient { BaseAddress = system.ApiAddress };
        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "pk_not_a_key");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/v1/admin/tenants/{tenant}/identity/users")).StatusCode);
    }
}
