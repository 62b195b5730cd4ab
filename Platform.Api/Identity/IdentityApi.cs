using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using OpenIddict.Abstractions;
using Platform.Api.Apis;
using Platform.Api.Security;
using Platform.Core.Identity;
using Platform.Core.Security;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Platform.Api.Identity;

public sealed record RegisterClientRequest(string? DisplayName, IReadOnlyList<string>? RedirectUris, IReadOnlyList<string>? PostLogoutRedirectUris, bool? Confidential);
public sealed record IdentityClientView(string ClientId, string DisplayName, IReadOnlyList<string> RedirectUris, IReadOnlyList<string> PostLogoutRedirectUris,
    bool Confidential, string Issuer)
{
    /// <summary>Returned once, at registration, for a confidential client.</summary>
    public string? ClientSecret { get; init; }
}
public sealed record IdentityClientList(IReadOnlyList<IdentityClientView> Clients);
public sealed record BrandingRequest(string? DisplayName, string? PrimaryColor, string? LogoUrl);
public sealed record MembershipRequest(string? Role, string? ScopeId);
public sealed record MembershipView(string Role, string? ScopeId);
public sealed record TrustedIssuerRequest(string? Issuer, string? Audience, string? JwksUri, string? UserClaim, string? RolesClaim);
public sealed record TrustedIssuerView(string Issuer, string Audience, string JwksUri, string UserClaim, string? RolesClaim);
public sealed record TrustedIssuerList(IReadOnlyList<TrustedIssuerView> Issuers);
public sealed record IdentityUserView(Guid Id, string Email, IReadOnlyList<MembershipView> Roles);
public sealed record ExternalProviderRequest(string? DisplayName, string? Issuer, string? ClientId, string? ClientSecret);
public sealed record ExternalProviderView(string Name, string DisplayName, string Issuer, string ClientId, bool HasClientSecret, string RedirectUri,
    string PostLogoutRedirectUri);
public sealed record ExternalProviderList(IReadOnlyList<ExternalProviderView> Providers);
public sealed record SignUpSettings(bool? LinkSignUp);

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(RegisterClientRequest))]
[JsonSerializable(typeof(IdentityClientView))]
[JsonSerializable(typeof(IdentityClientList))]
[JsonSerializable(typeof(BrandingRequest))]
[JsonSerializable(typeof(MembershipRequest))]
[JsonSerializable(typeof(IdentityUserView))]
[JsonSerializable(typeof(TrustedIssuerRequest))]
[JsonSerializable(typeof(TrustedIssuerList))]
[JsonSerializable(typeof(ExternalProviderRequest))]
[JsonSerializable(typeof(ExternalProviderList))]
[JsonSerializable(typeof(SignUpSettings))]
internal sealed partial class IdentityJsonContext : JsonSerializerContext;

/// <summary>
/// What a tenant manages of its issuer with its API key: client applications (web and mobile), the sign-in pages'
/// branding, and the roles of its users.
/// </summary>
public static partial class IdentityApi
{
    private const int MaxUris = 10;

    public static RouteGroupBuilder MapIdentityApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/identity").WithTags("Identity").RequireAuthorization(AuthPolicies.Tenant)
            .AddEndpointFilter<TenantRateLimitFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        api.MapPost("/clients", RegisterClient).WithName("RegisterIdentityClient")
            .WithSummary("Register a client application with the tenant's OpenID Connect issuer (authorization code + PKCE).")
            .Accepts<RegisterClientRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/clients", ListClients).WithName("ListIdentityClients").WithSummary("The tenant's registered client applications.");
        api.MapDelete("/clients/{clientId}", DeleteClient).WithName("DeleteIdentityClient")
            .WithSummary("Remove a client application: its sign-ins and tokens end.").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPut("/branding", SetBranding).WithName("SetIdentityBranding").WithSummary("Name, colour and logo of the sign-in pages.")
            .Accepts<BrandingRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapPut("/sign-up", SetSignUp).WithName("SetIdentitySignUp")
            .WithSummary("Whether a sign-in link asked for an address without an account creates the account when it is used (off by default).")
            .Accepts<SignUpSettings>("application/json").ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/sign-up", GetSignUp).WithName("GetIdentitySignUp").WithSummary("The tenant's sign-up settings.");
        api.MapGet("/users/{userId}", GetUser).WithName("GetIdentityUser").WithSummary("A signed-up user and their roles.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/users/{userId}/roles", GrantRole).WithName("GrantIdentityRole")
            .WithSummary("Give a user a role (company_user needs the company id, attendee the conference id as scopeId).")
            .Accepts<MembershipRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/users/{userId}/roles/remove", RemoveRole).WithName("RemoveIdentityRole").WithSummary("Take a role away from a user.")
            .Accepts<MembershipRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPut("/trusted-issuers", SetTrustedIssuer).WithName("SetTrustedIssuer")
            .WithSummary("Trust the tenant's own issuer: its JWTs (checked against its JWKS) are accepted as user tokens of this tenant.")
            .Accepts<TrustedIssuerRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/trusted-issuers", ListTrustedIssuers).WithName("ListTrustedIssuers").WithSummary("The issuers this tenant trusts.");
        api.MapPost("/trusted-issuers/remove", RemoveTrustedIssuer).WithName("RemoveTrustedIssuer").WithSummary("Stop trusting an issuer.")
            .Accepts<TrustedIssuerRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPut("/providers/{name}", SetProvider).WithName("SetExternalProvider")
            .WithSummary("Let the tenant's users sign in with an upstream OpenID provider (Google, Microsoft, any compliant issuer).")
            .Accepts<ExternalProviderRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapGet("/providers", ListProviders).WithName("ListExternalProviders").WithSummary("The tenant's upstream OpenID providers.");
        api.MapDelete("/providers/{name}", DeleteProvider).WithName("DeleteExternalProvider")
            .WithSummary("Remove an upstream provider: its sign-in option and the account links made through it go.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        app.MapIdentityAdminApi();
        return api;
    }

    private static Guid Tenant(ClaimsPrincipal user) => Caller.From(user).TenantId;

    private static string IssuerOf(HttpRequest request, Guid tenantId) => $"{request.Scheme}://{request.Host}{request.PathBase}/t/{tenantId:D}";

    /// <remarks>Registration works even while the issuers are off (no ES256 key): the client is used once they are on.</remarks>
    public static async Task<Results<Created<IdentityClientView>, ProblemHttpResult>> RegisterClient(HttpRequest request, ClaimsPrincipal user,
        IOpenIddictApplicationManager applications)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, IdentityJsonContext.Default.RegisterClientRequest);
        if (problem is not null)
        {
            return problem;
        }
        var name = body!.DisplayName?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 100)
        {
            return Problems.Invalid("displayName", "displayName must be 1–100 characters.");
        }
        if (CheckUris(body.RedirectUris, "redirectUris", required: true) is { } bad)
        {
            return bad;
        }
        if (CheckUris(body.PostLogoutRedirectUris, "postLogoutRedirectUris", required: false) is { } badLogout)
        {
            return badLogout;
        }
        var confidential = body.Confidential ?? false;
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = "cl_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            DisplayName = name,
            ClientType = confidential ? ClientTypes.Confidential : ClientTypes.Public,
            ApplicationType = ApplicationTypes.Web,
            ConsentType = ConsentTypes.Implicit,
            Permissions =
            {
                Permissions.Endpoints.Authorization, Permissions.Endpoints.Token, Permissions.Endpoints.Revocation,
                Permissions.Endpoints.EndSession, Permissions.GrantTypes.AuthorizationCode, Permissions.GrantTypes.RefreshToken,
                Permissions.ResponseTypes.Code, Permissions.Scopes.Email, Permissions.Scopes.Profile, Permissions.Scopes.Roles,
                Permissions.Prefixes.Scope + Scopes.OfflineAccess,
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        };
        foreach (var uri in body.RedirectUris!)
        {
            descriptor.RedirectUris.Add(new Uri(uri));
        }
        foreach (var uri in body.PostLogoutRedirectUris ?? [])
        {
            descriptor.PostLogoutRedirectUris.Add(new Uri(uri));
        }
        string? secret = null;
        if (confidential)
        {
            secret = "cls_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            descriptor.ClientSecret = secret;
        }
        await applications.CreateAsync(descriptor, request.HttpContext.RequestAborted);
        var view = new IdentityClientView(descriptor.ClientId, name, body.RedirectUris!, body.PostLogoutRedirectUris ?? [], confidential,
            IssuerOf(request, Tenant(user))) { ClientSecret = secret };
        return TypedResults.Created($"/v1/identity/clients/{descriptor.ClientId}", view);
    }

    /// <summary>Absolute URIs without a fragment or credentials; http only to a loopback host (native apps); a private scheme for mobile apps.</summary>
    internal static ProblemHttpResult? CheckUris(IReadOnlyList<string>? uris, string field, bool required)
    {
        if (uris is null || uris.Count == 0)
        {
            return required ? Problems.Invalid(field, $"{field} must list 1–{MaxUris} URIs.") : null;
        }
        if (uris.Count > MaxUris)
        {
            return Problems.Invalid(field, $"{field} must list 1–{MaxUris} URIs.");
        }
        foreach (var value in uris)
        {
            if (value is null || value.Length > 2000 || !Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Fragment.Length > 0
                || uri.UserInfo.Length > 0 || value.Any(char.IsControl))
            {
                return Problems.Invalid(field, "Each URI must be absolute, at most 2000 characters, without a fragment or credentials.");
            }
            var loopback = uri.IsLoopback && uri.Host is "127.0.0.1" or "[::1]" or "localhost";
            if (uri.Scheme == Uri.UriSchemeHttp && !loopback)
            {
                return Problems.Invalid(field, "http is allowed only to a loopback address (127.0.0.1, [::1], localhost); use https.");
            }
            if (uri.Scheme is "javascript" or "data" or "file" or "vbscript")
            {
                return Problems.Invalid(field, $"The scheme '{uri.Scheme}' cannot receive a sign-in.");
            }
        }
        return null;
    }

    public static async Task<Ok<IdentityClientList>> ListClients(HttpRequest request, ClaimsPrincipal user, IdentityDb db)
    {
        var rows = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(
            db.Clients.OrderBy(c => c.DisplayName), request.HttpContext.RequestAborted);
        var issuer = IssuerOf(request, Tenant(user));
        return TypedResults.Ok(new IdentityClientList([.. rows.Select(c => new IdentityClientView(c.ClientId!, c.DisplayName ?? "",
            ParseList(c.RedirectUris), ParseList(c.PostLogoutRedirectUris), c.ClientType == ClientTypes.Confidential, issuer))]));
    }

    private static IReadOnlyList<string> ParseList(string? json) =>
        string.IsNullOrEmpty(json) ? [] : System.Text.Json.JsonSerializer.Deserialize(json, IdentityStringsJson.Default.StringArray) ?? [];

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteClient(string clientId, HttpContext http,
        IOpenIddictApplicationManager applications, Revocations revocations, IdentityDb db)
    {
        if (string.IsNullOrEmpty(clientId) || clientId.Length > 100 || await applications.FindByClientIdAsync(clientId, http.RequestAborted) is not { } app)
        {
            return Problems.NotFound("Client");
        }
        var appId = Guid.Parse((await applications.GetIdAsync(app, http.RequestAborted))!);
        var signIns = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(
            db.Authorizations.Where(a => a.Application!.Id == appId).Select(a => a.Id), http.RequestAborted);
        await applications.DeleteAsync(app, http.RequestAborted);
        foreach (var id in signIns)
        {
            await revocations.PublishAsync(Revocations.Authorization(id));
        }
        return TypedResults.NoContent();
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> SetBranding(HttpRequest request, ClaimsPrincipal user, IdentityBranding branding)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, IdentityJsonContext.Default.BrandingRequest);
        if (problem is not null)
        {
            return problem;
        }
        var name = body!.DisplayName?.Trim();
        if (name is not null && (name.Length is 0 or > 100 || name.Any(char.IsControl)))
        {
            return Problems.Invalid("displayName", "displayName must be 1–100 characters without control characters.");
        }
        if (body.PrimaryColor is { } color && !System.Text.RegularExpressions.Regex.IsMatch(color, "^#[0-9a-fA-F]{6}\\z"))
        {
            return Problems.Invalid("primaryColor", "primaryColor must be #rrggbb.");
        }
        if (body.LogoUrl is { } logo && (logo.Length > 2000 || !Uri.TryCreate(logo, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps
            || logo.Any(char.IsControl)))
        {
            return Problems.Invalid("logoUrl", "logoUrl must be an https URL of at most 2000 characters.");
        }
        await branding.SetAsync(Tenant(user), name, body.PrimaryColor, body.LogoUrl, request.HttpContext.RequestAborted);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<IdentityUserView>, ProblemHttpResult>> GetUser(string userId, ClaimsPrincipal user, IdentityUsers users, HttpContext http)
    {
        if (!Guid.TryParse(userId, out var id) || await users.FindByIdAsync(Tenant(user), id, http.RequestAborted) is not { } found)
        {
            return Problems.NotFound("User");
        }
        var roles = await users.MembershipsAsync(Tenant(user), id, http.RequestAborted);
        return TypedResults.Ok(new IdentityUserView(found.Id, found.Email, [.. roles.Select(r => new MembershipView(r.Role, r.ScopeId))]));
    }

    public static Task<Results<NoContent, ProblemHttpResult>> GrantRole(string userId, HttpRequest request, ClaimsPrincipal user, IdentityUsers users) =>
        ChangeRoleAsync(Tenant(user), userId, request, (tenant, id, m, ct) => users.GrantAsync(tenant, id, m, ApiKeyActor(user), ct));

    public static Task<Results<NoContent, ProblemHttpResult>> RemoveRole(string userId, HttpRequest request, ClaimsPrincipal user, IdentityUsers users) =>
        ChangeRoleAsync(Tenant(user), userId, request, (tenant, id, m, ct) => users.RevokeAsync(tenant, id, m, ApiKeyActor(user), ct));

    /// <summary>Who changed a role through the tenant API, for the audit: the API key (its id, never the key).</summary>
    private static string ApiKeyActor(ClaimsPrincipal user) => "tenant API key " + (user.FindFirstValue(PlatformClaims.Origin) ?? "");

    internal static async Task<Results<NoContent, ProblemHttpResult>> ChangeRoleAsync(Guid tenantId, string userId, HttpRequest request,
        Func<Guid, Guid, Membership, CancellationToken, Task<bool>> change)
    {
        if (!Guid.TryParse(userId, out var id))
        {
            return Problems.NotFound("User");
        }
        var (body, problem) = await JsonBody.ReadAsync(request, IdentityJsonContext.Default.MembershipRequest);
        if (problem is not null)
        {
            return problem;
        }
        if (body!.Role is not { } role || !Roles.All.Contains(role))
        {
            return Problems.Invalid("role", $"role must be one of {string.Join(", ", Roles.All.Order())}.");
        }
        var scoped = Roles.Scoped.Contains(role);
        var scope = body.ScopeId?.Trim();
        if (scoped != !string.IsNullOrEmpty(scope))
        {
            return Problems.Invalid("scopeId", scoped ? $"{role} needs a scopeId (the company or conference id)." : $"{role} takes no scopeId.");
        }
        if (scope is not null && scoped && !Guid.TryParse(scope, out _))
        {
            return Problems.Invalid("scopeId", "scopeId must be the id (a UUID) of the company or conference.");
        }
        if (!await change(tenantId, id, new Membership(role, scoped ? Guid.Parse(scope!).ToString() : null), request.HttpContext.RequestAborted))
        {
            return Problems.NotFound(request.Path.Value!.EndsWith("/remove", StringComparison.Ordinal) ? "Role" : "User");
        }
        return TypedResults.NoContent();
    }
}

[JsonSerializable(typeof(string[]))]
internal sealed partial class IdentityStringsJson : JsonSerializerContext;
