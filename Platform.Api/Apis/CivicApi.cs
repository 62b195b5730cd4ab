using System.Security.Claims;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Security;
using Platform.Core.Civic;
using Platform.Core.Security;

namespace Platform.Api.Apis;

public sealed record CitySourceRequest(string? Kind, string? Location);
public sealed record CreateCityRequest(string? Slug, string? Name, string? Cron, IReadOnlyList<CitySourceRequest>? Sources);
public sealed record RunAccepted(Guid RunId);
public sealed record ScanAccepted(long JobId, bool Duplicate);

/// <summary>
/// Civic meeting digests: cities and their sources (tenant key), reader endpoints and the reader's
/// profile (user token), and ops endpoints (operator key or a user token with role <c>ops</c>). See docs/civic.md.
/// </summary>
public static partial class CivicApi
{
    private const string OpsRole = "ops";

    public static IEndpointRouteBuilder MapCivicApi(this IEndpointRouteBuilder app)
    {
        var cities = app.MapGroup("/v1/civic/cities").WithTags("Civic").AddEndpointFilter<TenantRateLimitFilter>();
        cities.MapPost("/", CreateCity).RequireAuthorization(AuthPolicies.Tenant).WithName("CreateCity").WithSummary("Add a city with its sources and scan schedule");
        cities.MapGet("/", ListCities).RequireAuthorization(Reader()).WithName("ListCities").WithSummary("The tenant's cities");
        cities.MapGet("/{id}/meetings", ListMeetings).RequireAuthorization(Reader()).WithName("ListMeetings").WithSummary("A city's meetings, newest first (cursor paging)");

        var meetings = app.MapGroup("/v1/civic/meetings").WithTags("Civic").RequireAuthorization(Reader()).AddEndpointFilter<TenantRateLimitFilter>();
        meetings.MapGet("/{id}", GetMeeting).WithName("GetMeeting").WithSummary("A meeting with its current summary");
        meetings.MapGet("/{id}/evidence", GetEvidence).WithName("GetMeetingEvidence").WithSummary("The claims of the current summary with their evidence");

        // The reader's civic profile lives under the module's prefix. It was first served at /v1/me, which later became
        // the prefix of everything about the caller across modules (notifications, consents, personal data), so a bare
        // /v1/me read as "all of me" while it held only the civic profile, and DELETE /v1/me erased only that. The old
        // address keeps answering for existing clients, marked deprecated with a link to the new one.
        MapProfile(app.MapGroup("/v1/civic/me"), "CivicProfile");
        MapProfile(app.MapGroup("/v1/me").MovedTo("/v1/civic/me", new DateTimeOffset(2026, 12, 5, 0, 0, 0, TimeSpan.Zero)), "Profile");

        var ops = app.MapGroup("/v1/internal").WithTags("Civic ops").RequireAuthorization(Ops()).AddEndpointFilter<TenantRateLimitFilter>();
        ops.MapPost("/cities/{id}/scan", ScanCity).WithName("ScanCity").WithSummary("Scan a city's sources now");
        ops.MapGet("/cities/{id}/runs", ListRuns).WithName("ListCityRuns").WithSummary("A city's processing runs, newest first");
        ops.MapPost("/meetings/{id}/rerun", RerunMeeting).WithName("RerunMeeting").WithSummary("Process a meeting again and publish a new version");
        ops.MapGet("/runs/{id}", GetRun).WithName("GetRun").WithSummary("A processing run with its stages, gate result and errors");
        return app;
    }

    private static AuthorizationPolicy Reader() => new AuthorizationPolicyBuilder().RequireAuthenticatedUser()
        .RequireAssertion(c => Active(c.User) && Kind(c.User) is CallerKinds.Tenant or CallerKinds.User).Build();

    private static void MapProfile(RouteGroupBuilder me, string name)
    {
        me.WithTags("Civic").RequireAuthorization(UserOnly()).AddEndpointFilter<TenantRateLimitFilter>();
        me.MapGet("/", GetProfile).WithName("Get" + name).WithSummary("The caller's civic reader profile");
        me.MapPatch("/", PatchProfile).WithName("Patch" + name).WithSummary("Change home city, notifications, pause-until");
        me.MapDelete("/", DeleteProfile).WithName("Delete" + name).WithSummary("Anonymise and delete the caller's civic profile (a job)");
    }

    private static AuthorizationPolicy UserOnly() => new AuthorizationPolicyBuilder().RequireAuthenticatedUser()
        .RequireAssertion(c => Active(c.User) && Kind(c.User) == CallerKinds.User).Build();

    private static AuthorizationPolicy Ops() => new AuthorizationPolicyBuilder().RequireAuthenticatedUser()
        .RequireAssertion(c => Kind(c.User) == CallerKinds.Operator ||
                               (Active(c.User) && Kind(c.User) == CallerKinds.User && c.User.HasClaim(PlatformClaims.Role, OpsRole))).Build();

    private static string? Kind(ClaimsPrincipal user) => user.FindFirstValue(PlatformClaims.Kind);

    private static bool Active(ClaimsPrincipal user) => !user.HasClaim(c => c.Type == PlatformClaims.Inactive);

    /// <summary>The tenant a query is narrowed to; null for the operator, who sees every tenant.</summary>
    private static Guid? CallerTenant(ClaimsPrincipal user) => Kind(user) == CallerKinds.Operator ? null : Caller.From(user).TenantId;

    // ---- cities ----

    public static async Task<Results<Created<CityView>, ProblemHttpResult>> CreateCity(HttpRequest request, ClaimsPrincipal user,
        CivicCities cities, SourceOptions sources, OutboundOptions outbound, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, TypeInfo<CreateCityRequest>());
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Dictionary<string, string[]>();
        if (body!.Slug is null || !Slug().IsMatch(body.Slug))
        {
            errors["slug"] = ["slug is required: 2–40 lower-case letters, digits and dashes."];
        }
        if (string.IsNullOrWhiteSpace(body.Name) || body.Name.Length > 200)
        {
            errors["name"] = ["name is required (at most 200 characters)."];
        }
        if (body.Cron is { } cron && !CivicCron.IsValid(cron))
        {
            errors["cron"] = ["cron is not a valid Quartz cron expression (seconds first, UTC), e.g. \"0 0 6 * * ?\"."];
        }
        if (body.Sources is not { Count: >= 1 and <= 10 })
        {
            errors["sources"] = ["sources must hold 1 to 10 sources."];
        }
        else
        {
            var tenantId = Caller.From(user).TenantId;
            for (var i = 0; i < body.Sources.Count; i++)
            {
                var s = body.Sources[i];
                var error = s.Kind switch
                {
                    _ when s.Location is null || s.Location.Length > 2000 => "location is required (at most 2000 characters).",
                    // The same answer whether or not the path exists, so a tenant learns nothing about the server's files.
                    "file" => sources.ResolveFolder(s.Location, tenantId) is null
                        ? "location must be an absolute folder path under one of the file roots the operator configured." : null,
                    "http" => !Uri.TryCreate(s.Location, UriKind.Absolute, out var u) ? "location must be an absolute http(s) feed URL."
                        : OutboundHttp.WhyRefused(u, outbound, requireHttps: false) is { } why ? $"location is not allowed: {why}." : null,
                    _ => "kind must be file (location: a folder under an operator's file root) or http (location: an http(s) feed URL).",
                };
                if (error is not null)
                {
                    errors[$"sources[{i}]"] = [error];
                }
            }
        }
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }
        var tenant = Caller.From(user).TenantId;
        var city = await cities.CreateAsync(tenant, body.Slug!, body.Name!.Trim(), body.Cron,
            body.Sources!.Select(s => new NewCitySource(s.Kind!, s.Location!)).ToList(), ct);
        if (city is null)
        {
            return TypedResults.Problem(new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict, Type = "urn:platform:problem:conflict", Title = "The city already exists.",
                Detail = $"This tenant already has a city with slug '{body.Slug}'.",
            });
        }
        return TypedResults.Created($"/v1/civic/cities/{city.Id}", city);
    }

    public static async Task<Ok<IReadOnlyList<CityView>>> ListCities(ClaimsPrincipal user, CivicCities cities, CancellationToken ct) =>
        TypedResults.Ok(await cities.ListAsync(Caller.From(user).TenantId, null, ct));

    // ---- reader ----

    public static async Task<Results<Ok<MeetingPage>, ProblemHttpResult>> ListMeetings(string id, string? cursor, string? limit, string? status,
        ClaimsPrincipal user, CivicMeetings meetings, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var cityId, out var bad))
        {
            return bad!;
        }
        if (!Problems.TryParseQuery(limit, "limit", 1, 100, 20, out var take, out bad))
        {
            return bad!;
        }
        if (status is not null && !CivicMeetings.Statuses.Contains(status))
        {
            return Problems.Invalid("status", $"status must be one of: {string.Join(", ", CivicMeetings.Statuses)}.");
        }
        if (cursor is not null && !CivicMeetings.IsCursor(cursor))
        {
            return Problems.Invalid("cursor", "cursor is not one this API returned.");
        }
        var page = await meetings.ListAsync(Caller.From(user).TenantId, cityId, status, cursor, (int)take, ct);
        return page is null ? Problems.NotFound("City") : TypedResults.Ok(page);
    }

    public static async Task<Results<Ok<MeetingView>, ProblemHttpResult>> GetMeeting(string id, ClaimsPrincipal user, CivicMeetings meetings, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var meetingId, out var bad))
        {
            return bad!;
        }
        var meeting = await meetings.GetAsync(Caller.From(user).TenantId, meetingId, ct);
        return meeting is null ? Problems.NotFound("Meeting") : TypedResults.Ok(meeting);
    }

    public static async Task<Results<Ok<MeetingEvidence>, ProblemHttpResult>> GetEvidence(string id, ClaimsPrincipal user, CivicMeetings meetings, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var meetingId, out var bad))
        {
            return bad!;
        }
        var evidence = await meetings.EvidenceAsync(Caller.From(user).TenantId, meetingId, ct);
        return evidence is null ? Problems.NotFound("Published meeting") : TypedResults.Ok(evidence);
    }

    // ---- profile ----

    public static async Task<Ok<ProfileView>> GetProfile(ClaimsPrincipal user, ReaderProfiles profiles, CancellationToken ct)
    {
        var caller = Caller.From(user);
        return TypedResults.Ok(await profiles.UpsertAsync(caller.TenantId, caller.UserId!, null, ct));
    }

    public static async Task<Results<Ok<ProfileView>, ProblemHttpResult>> PatchProfile(HttpRequest request, ClaimsPrincipal user,
        ReaderProfiles profiles, CivicCities cities, CancellationToken ct)
    {
        var (patch, problem) = await JsonBody.ReadAsync(request, TypeInfo<ProfilePatch>());
        if (problem is not null)
        {
            return problem;
        }
        var caller = Caller.From(user);
        var errors = new Dictionary<string, string[]>();
        if (patch!.DisplayName is { Length: > 200 })
        {
            errors["displayName"] = ["displayName is at most 200 characters."];
        }
        if (patch.Email is { } email && (email.Length > 320 || !email.Contains('@', StringComparison.Ordinal)))
        {
            errors["email"] = ["email is not an e-mail address."];
        }
        if (patch.HomeCityId is { } city && !await cities.ExistsAsync(caller.TenantId, city, ct))
        {
            errors["homeCityId"] = ["homeCityId is not a city of this tenant."];
        }
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }
        return TypedResults.Ok(await profiles.UpsertAsync(caller.TenantId, caller.UserId!, patch, ct));
    }

    public static async Task<Accepted<ScanAccepted>> DeleteProfile(ClaimsPrincipal user, ReaderProfiles profiles, CancellationToken ct)
    {
        var caller = Caller.From(user);
        var job = await profiles.RequestDeleteAsync(caller.TenantId, caller.UserId!, ct);
        return TypedResults.Accepted($"/v1/admin/jobs/{job.Id}", new ScanAccepted(job.Id, job.Duplicate));
    }

    // ---- ops ----

    public static async Task<Results<Accepted<ScanAccepted>, ProblemHttpResult>> ScanCity(string id, ClaimsPrincipal user, CivicCities cities, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var cityId, out var bad))
        {
            return bad!;
        }
        if (await cities.ScanNowAsync(CallerTenant(user), cityId, ct) is not { } job)
        {
            return Problems.NotFound("City");
        }
        return TypedResults.Accepted($"/v1/admin/jobs/{job.Id}", new ScanAccepted(job.Id, job.Duplicate));
    }

    public static async Task<Results<Accepted<RunAccepted>, ProblemHttpResult>> RerunMeeting(string id, ClaimsPrincipal user, ProcessingRuns runs, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var meetingId, out var bad))
        {
            return bad!;
        }
        var (outcome, runId) = await runs.RerunAsync(CallerTenant(user), meetingId, ct);
        return outcome switch
        {
            RerunOutcome.MeetingNotFound => Problems.NotFound("Meeting"),
            RerunOutcome.RunInProgress => TypedResults.Problem(new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict, Type = "urn:platform:problem:conflict", Title = "A run is in progress.",
                Detail = "This meeting has a processing run in progress; rerun it once that run has finished.",
            }),
            _ => TypedResults.Accepted($"/v1/internal/runs/{runId}", new RunAccepted(runId)),
        };
    }

    public static async Task<Results<Ok<RunView>, ProblemHttpResult>> GetRun(string id, ClaimsPrincipal user, ProcessingRuns runs, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var runId, out var bad))
        {
            return bad!;
        }
        var found = await runs.ListAsync(CallerTenant(user), runId, null, 1, ct);
        return found.Count == 0 ? Problems.NotFound("Run") : TypedResults.Ok(found[0]);
    }

    public static async Task<Results<Ok<IReadOnlyList<RunView>>, ProblemHttpResult>> ListRuns(string id, string? limit, ClaimsPrincipal user,
        ProcessingRuns runs, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var cityId, out var bad))
        {
            return bad!;
        }
        if (!Problems.TryParseQuery(limit, "limit", 1, 1000, 100, out var take, out bad))
        {
            return bad!;
        }
        return TypedResults.Ok(await runs.ListAsync(CallerTenant(user), null, cityId, (int)take, ct));
    }

    /// <summary>Civic bodies are read with the web defaults (camelCase) through reflection metadata.</summary>
    private static System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> TypeInfo<T>() =>
        (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)JsonSerializerOptions.Web.GetTypeInfo(typeof(T));

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,39}$")]
    private static partial Regex Slug();
}
