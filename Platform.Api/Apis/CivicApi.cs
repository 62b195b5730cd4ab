using System.Security.Claims;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using NpgsqlTypes;
using Platform.Api.Security;
using Platform.Core.Data;
using Platform.Core.Civic;
using Platform.Core.Security;
using Platform.Core.Jobs;

namespace Platform.Api.Apis;

public sealed record CitySourceRequest(string? Kind, string? Location);
public sealed record CreateCityRequest(string? Slug, string? Name, string? Cron, IReadOnlyList<CitySourceRequest>? Sources);
public sealed record CitySourceView(Guid Id, string Kind, string Location, DateTimeOffset? LastCheckedAt, DateTimeOffset? LastSuccessAt, string? LastError);
public sealed record CityView(Guid Id, string Slug, string Name, string? Cron, DateTimeOffset? NextScanAt, IReadOnlyList<CitySourceView> Sources);
public sealed record MeetingListItem(Guid Id, Guid CityId, string MeetingUid, string Title, DateOnly? MeetingDate, string Status, DateTimeOffset? PublishedAt);
public sealed record MeetingPage(IReadOnlyList<MeetingListItem> Items, string? NextCursor);
public sealed record SummaryView(Guid Id, int Version, string ShortSummary, JsonElement KeyDecisions, JsonElement NotableTopics,
    string ConfidenceLabel, double EvidenceCoverage, string Summarizer, DateTimeOffset CreatedAt, string? Model, string? PromptVersion, string? FallbackReason);
public sealed record MeetingView(Guid Id, Guid CityId, string MeetingUid, string Title, DateOnly? MeetingDate, string Status,
    DateTimeOffset? PublishedAt, Guid ArtifactId, SummaryView? Summary);
public sealed record EvidenceView(Guid ArtifactId, string SectionRef, int Start, int End, string Excerpt, int? Page);
public sealed record ClaimView(int Ordinal, string Kind, string Text, IReadOnlyList<EvidenceView> Evidence);
public sealed record MeetingEvidence(Guid MeetingId, int Version, IReadOnlyList<ClaimView> Claims);
public sealed record ProfileView(string UserId, string? DisplayName, string? Email, Guid? HomeCityId, bool NotificationsEnabled, DateTimeOffset? PauseUntil);
public sealed record ProfilePatch(string? DisplayName, string? Email, Guid? HomeCityId, bool? NotificationsEnabled, DateTimeOffset? PauseUntil, bool? ClearPause);
public sealed record RunView(Guid Id, Guid CityId, Guid? MeetingId, Guid? ArtifactId, string Trigger, string Status, JsonElement Stages,
    JsonElement? Gate, string? Error, string? TraceId, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt);
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

        var me = app.MapGroup("/v1/me").WithTags("Civic").RequireAuthorization(UserOnly()).AddEndpointFilter<TenantRateLimitFilter>();
        me.MapGet("/", GetProfile).WithName("GetProfile").WithSummary("The caller's profile");
        me.MapPatch("/", PatchProfile).WithName("PatchProfile").WithSummary("Change home city, notifications, pause-until");
        me.MapDelete("/", DeleteProfile).WithName("DeleteProfile").WithSummary("Anonymise and delete the caller's profile (a job)");

        var ops = app.MapGroup("/v1/internal").WithTags("Civic ops").RequireAuthorization(Ops()).AddEndpointFilter<TenantRateLimitFilter>();
        ops.MapPost("/cities/{id}/scan", ScanCity).WithName("ScanCity").WithSummary("Scan a city's sources now");
        ops.MapGet("/cities/{id}/runs", ListRuns).WithName("ListCityRuns").WithSummary("A city's processing runs, newest first");
        ops.MapPost("/meetings/{id}/rerun", RerunMeeting).WithName("RerunMeeting").WithSummary("Process a meeting again and publish a new version");
        ops.MapGet("/runs/{id}", GetRun).WithName("GetRun").WithSummary("A processing run with its stages, gate result and errors");
        return app;
    }

    private static AuthorizationPolicy Reader() => new AuthorizationPolicyBuilder().RequireAuthenticatedUser()
        .RequireAssertion(c => Active(c.User) && Kind(c.User) is CallerKinds.Tenant or CallerKinds.User).Build();

    private static AuthorizationPolicy UserOnly() => new AuthorizationPolicyBuilder().RequireAuthenticatedUser()
        .RequireAssertion(c => Active(c.User) && Kind(c.User) == CallerKinds.User).Build();

    private static AuthorizationPolicy Ops() => new AuthorizationPolicyBuilder().RequireAuthenticatedUser()
        .RequireAssertion(c => Kind(c.User) == CallerKinds.Operator ||
                               (Active(c.User) && Kind(c.User) == CallerKinds.User && c.User.HasClaim(PlatformClaims.Role, OpsRole))).Build();

    private static string? Kind(ClaimsPrincipal user) => user.FindFirstValue(PlatformClaims.Kind);

    private static bool Active(ClaimsPrincipal user) => !user.HasClaim(c => c.Type == PlatformClaims.Inactive);

    /// <summary>The tenant a query is narrowed to; null for the operator, who sees every tenant.</summary>
    private static Guid? CallerTenant(ClaimsPrincipal user) => Kind(user) == CallerKinds.Operator ? null : Caller.From(user).TenantId;

    /// <summary>The tenant's scope for a tenant caller; the operator's civic operations span every tenant's cities.</summary>
    private static Task<NpgsqlConnection> OpenScopedAsync(NpgsqlDataSource db, Guid? tenant, CancellationToken ct) =>
        tenant is { } t ? db.OpenForTenantAsync(t, ct) : db.OpenSystemScopeAsync("operator's civic operations across tenants", ct);

    private static async Task<ScopedCommand> ScopedCommandAsync(NpgsqlDataSource db, Guid? tenant, string sql, CancellationToken ct) =>
        tenant is { } t ? await db.CreateTenantCommandAsync(t, sql, ct) : await db.CreateSystemCommandAsync("operator's civic operations across tenants", sql, ct);

    // ---- cities ----

    public static async Task<Results<Created<CityView>, ProblemHttpResult>> CreateCity(HttpRequest request, ClaimsPrincipal user,
        NpgsqlDataSource db, SourceOptions sources, OutboundOptions outbound, CancellationToken ct)
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
        var cityId = Guid.CreateVersion7();
        await using var conn = await db.OpenForTenantAsync(tenant, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var cmd = new NpgsqlCommand(
            "INSERT INTO civic.cities (id, tenant_id, slug, name, cron, next_scan_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, slug) DO NOTHING", conn, tx))
        {
            cmd.Parameters.Add(new() { Value = cityId });
            cmd.Parameters.Add(new() { Value = tenant });
            cmd.Parameters.Add(new() { Value = body.Slug! });
            cmd.Parameters.Add(new() { Value = body.Name!.Trim() });
            cmd.Parameters.Add(new() { Value = (object?)body.Cron ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            cmd.Parameters.Add(new() { Value = body.Cron is { } c ? (object?)CivicCron.Next(c, DateTimeOffset.UtcNow) ?? DBNull.Value : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            if (await cmd.ExecuteNonQueryAsync(ct) == 0)
            {
                return TypedResults.Problem(new ProblemDetails
                {
                    Status = StatusCodes.Status409Conflict, Type = "urn:platform:problem:conflict", Title = "The city already exists.",
                    Detail = $"This tenant already has a city with slug '{body.Slug}'.",
                });
            }
        }
        foreach (var s in body.Sources!)
        {
            await using var cmd = new NpgsqlCommand("INSERT INTO civic.sources (id, city_id, kind, location) VALUES ($1, $2, $3, $4)", conn, tx);
            cmd.Parameters.Add(new() { Value = Guid.CreateVersion7() });
            cmd.Parameters.Add(new() { Value = cityId });
            cmd.Parameters.Add(new() { Value = s.Kind! });
            cmd.Parameters.Add(new() { Value = s.Location! });
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        var city = (await LoadCitiesAsync(db, tenant, cityId, ct)).Single();
        return TypedResults.Created($"/v1/civic/cities/{cityId}", city);
    }

    public static async Task<Ok<IReadOnlyList<CityView>>> ListCities(ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct) =>
        TypedResults.Ok(await LoadCitiesAsync(db, Caller.From(user).TenantId, null, ct));

    private static async Task<IReadOnlyList<CityView>> LoadCitiesAsync(NpgsqlDataSource db, Guid tenant, Guid? cityId, CancellationToken ct)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenant, """
            SELECT c.id, c.slug, c.name, c.cron, c.next_scan_at, s.id, s.kind, s.location, s.last_checked_at, s.last_success_at, s.last_error
            FROM civic.cities c LEFT JOIN civic.sources s ON s.city_id = c.id
            WHERE c.tenant_id = $1 AND ($2::uuid IS NULL OR c.id = $2) ORDER BY c.slug, s.id
            """, ct);
        cmd.Parameters.Add(new() { Value = tenant });
        cmd.Parameters.Add(new() { Value = (object?)cityId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        var cities = new List<(CityView City, List<CitySourceView> Sources)>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var id = r.GetGuid(0);
            if (cities.Count == 0 || cities[^1].City.Id != id)
            {
                var list = new List<CitySourceView>();
                cities.Add((new CityView(id, r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3),
                    r.IsDBNull(4) ? null : r.GetFieldValue<DateTimeOffset>(4), list), list));
            }
            if (!r.IsDBNull(5))
            {
                cities[^1].Sources.Add(new CitySourceView(r.GetGuid(5), r.GetString(6), r.GetString(7),
                    r.IsDBNull(8) ? null : r.GetFieldValue<DateTimeOffset>(8), r.IsDBNull(9) ? null : r.GetFieldValue<DateTimeOffset>(9),
                    r.IsDBNull(10) ? null : r.GetString(10)));
            }
        }
        return cities.Select(c => c.City).ToList();
    }

    // ---- reader ----

    private static readonly string[] MeetingStatuses = ["ingested", "processed", "limited_confidence", "manual_review_needed", "failed"];

    public static async Task<Results<Ok<MeetingPage>, ProblemHttpResult>> ListMeetings(string id, string? cursor, string? limit, string? status,
        ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var cityId, out var bad))
        {
            return bad!;
        }
        if (!Problems.TryParseQuery(limit, "limit", 1, 100, 20, out var take, out bad))
        {
            return bad!;
        }
        if (status is not null && !MeetingStatuses.Contains(status))
        {
            return Problems.Invalid("status", $"status must be one of: {string.Join(", ", MeetingStatuses)}.");
        }
        DateOnly afterDate = DateOnly.MaxValue;
        Guid afterId = Guid.Empty;
        if (cursor is not null && !TryReadCursor(cursor, out afterDate, out afterId))
        {
            return Problems.Invalid("cursor", "cursor is not one this API returned.");
        }
        var tenant = Caller.From(user).TenantId;
        await using (var exists = await db.CreateTenantCommandAsync(tenant, "SELECT 1 FROM civic.cities WHERE id = $1 AND tenant_id = $2", ct))
        {
            exists.Parameters.Add(new() { Value = cityId });
            exists.Parameters.Add(new() { Value = tenant });
            if (await exists.ExecuteScalarAsync(ct) is null)
            {
                return Problems.NotFound("City");
            }
        }
        await using var cmd = await db.CreateTenantCommandAsync(tenant, """
            SELECT id, city_id, meeting_uid, title, meeting_date, status, published_at, COALESCE(meeting_date, '0001-01-01'::date)
            FROM civic.meetings
            WHERE city_id = $1 AND tenant_id = $2 AND ($3::text IS NULL OR status = $3)
              AND ($4::boolean = false OR (COALESCE(meeting_date, '0001-01-01'::date), id) < ($5::date, $6::uuid))
            ORDER BY COALESCE(meeting_date, '0001-01-01'::date) DESC, id DESC LIMIT $7
            """, ct);
        cmd.Parameters.Add(new() { Value = cityId });
        cmd.Parameters.Add(new() { Value = tenant });
        cmd.Parameters.Add(new() { Value = (object?)status ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = cursor is not null });
        cmd.Parameters.Add(new() { Value = afterDate });
        cmd.Parameters.Add(new() { Value = afterId });
        cmd.Parameters.Add(new() { Value = (int)take + 1 });
        var items = new List<(MeetingListItem Item, DateOnly Key)>();
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                items.Add((new MeetingListItem(r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetString(3),
                    r.IsDBNull(4) ? null : r.GetFieldValue<DateOnly>(4), r.GetString(5), r.IsDBNull(6) ? null : r.GetFieldValue<DateTimeOffset>(6)),
                    r.GetFieldValue<DateOnly>(7)));
            }
        }
        string? next = null;
        if (items.Count > take)
        {
            items.RemoveAt(items.Count - 1);
            next = $"{items[^1].Key:yyyy-MM-dd}_{items[^1].Item.Id:N}";
        }
        return TypedResults.Ok(new MeetingPage(items.Select(i => i.Item).ToList(), next));
    }

    private static bool TryReadCursor(string cursor, out DateOnly date, out Guid id)
    {
        id = Guid.Empty;
        date = default;
        var parts = cursor.Split('_');
        return parts.Length == 2 &&
               DateOnly.TryParseExact(parts[0], "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out date) &&
               Guid.TryParseExact(parts[1], "N", out id);
    }

    public static async Task<Results<Ok<MeetingView>, ProblemHttpResult>> GetMeeting(string id, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var meetingId, out var bad))
        {
            return bad!;
        }
        await using var cmd = await db.CreateTenantCommandAsync(Caller.From(user).TenantId, """
            SELECT m.id, m.city_id, m.meeting_uid, m.title, m.meeting_date, m.status, m.published_at, m.artifact_id,
                   v.id, v.version, v.short_summary, v.key_decisions::text, v.notable_topics::text, v.confidence_label, v.evidence_coverage, v.summarizer, v.created_at,
                   v.model, v.prompt_version, v.fallback_reason
            FROM civic.meetings m LEFT JOIN civic.summary_versions v ON v.meeting_id = m.id AND v.is_current
            WHERE m.id = $1 AND m.tenant_id = $2
            """, ct);
        cmd.Parameters.Add(new() { Value = meetingId });
        cmd.Parameters.Add(new() { Value = Caller.From(user).TenantId });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
        {
            return Problems.NotFound("Meeting");
        }
        var summary = r.IsDBNull(8) ? null : new SummaryView(r.GetGuid(8), r.GetInt32(9), r.GetString(10), Json(r.GetString(11)), Json(r.GetString(12)),
            r.GetString(13), r.GetDouble(14), r.GetString(15), r.GetFieldValue<DateTimeOffset>(16),
            r.IsDBNull(17) ? null : r.GetString(17), r.IsDBNull(18) ? null : r.GetString(18), r.IsDBNull(19) ? null : r.GetString(19));
        return TypedResults.Ok(new MeetingView(r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetString(3), r.IsDBNull(4) ? null : r.GetFieldValue<DateOnly>(4),
            r.GetString(5), r.IsDBNull(6) ? null : r.GetFieldValue<DateTimeOffset>(6), r.GetGuid(7), summary));
    }

    public static async Task<Results<Ok<MeetingEvidence>, ProblemHttpResult>> GetEvidence(string id, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var meetingId, out var bad))
        {
            return bad!;
        }
        await using var cmd = await db.CreateTenantCommandAsync(Caller.From(user).TenantId, """
            SELECT v.version, c.ordinal, c.kind, c.text, e.artifact_id, e.section_ref, e.start_offset, e.end_offset, e.excerpt, e.page
            FROM civic.meetings m
            JOIN civic.summary_versions v ON v.meeting_id = m.id AND v.is_current
            JOIN civic.claims c ON c.summary_version_id = v.id
            LEFT JOIN civic.claim_evidence e ON e.claim_id = c.id
            WHERE m.id = $1 AND m.tenant_id = $2 ORDER BY c.ordinal, e.start_offset
            """, ct);
        cmd.Parameters.Add(new() { Value = meetingId });
        cmd.Parameters.Add(new() { Value = Caller.From(user).TenantId });
        var claims = new List<(ClaimView Claim, List<EvidenceView> Evidence)>();
        var version = 0;
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                version = r.GetInt32(0);
                var ordinal = r.GetInt32(1);
                if (claims.Count == 0 || claims[^1].Claim.Ordinal != ordinal)
                {
                    var list = new List<EvidenceView>();
                    claims.Add((new ClaimView(ordinal, r.GetString(2), r.GetString(3), list), list));
                }
                if (!r.IsDBNull(4))
                {
                    claims[^1].Evidence.Add(new EvidenceView(r.GetGuid(4), r.GetString(5), r.GetInt32(6), r.GetInt32(7), r.GetString(8),
                        r.IsDBNull(9) ? null : r.GetInt32(9)));
                }
            }
        }
        if (claims.Count == 0)
        {
            return Problems.NotFound("Published meeting");
        }
        return TypedResults.Ok(new MeetingEvidence(meetingId, version, claims.Select(c => c.Claim).ToList()));
    }

    // ---- profile ----

    public static async Task<Ok<ProfileView>> GetProfile(ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        var caller = Caller.From(user);
        return TypedResults.Ok(await UpsertProfileAsync(db, caller.TenantId, caller.UserId!, null, ct));
    }

    public static async Task<Results<Ok<ProfileView>, ProblemHttpResult>> PatchProfile(HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
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
        if (patch.HomeCityId is { } city)
        {
            await using var cmd = await db.CreateTenantCommandAsync(caller.TenantId, "SELECT 1 FROM civic.cities WHERE id = $1 AND tenant_id = $2", ct);
            cmd.Parameters.Add(new() { Value = city });
            cmd.Parameters.Add(new() { Value = caller.TenantId });
            if (await cmd.ExecuteScalarAsync(ct) is null)
            {
                errors["homeCityId"] = ["homeCityId is not a city of this tenant."];
            }
        }
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }
        return TypedResults.Ok(await UpsertProfileAsync(db, caller.TenantId, caller.UserId!, patch, ct));
    }

    private static async Task<ProfileView> UpsertProfileAsync(NpgsqlDataSource db, Guid tenant, string userId, ProfilePatch? patch, CancellationToken ct)
    {
        await using var cmd = await db.CreateTenantCommandAsync(tenant, """
            INSERT INTO civic.profiles (tenant_id, user_id, display_name, email, home_city_id, notifications_enabled, pause_until)
            VALUES ($1, $2, $3, $4, $5, COALESCE($6, true), $7)
            ON CONFLICT (tenant_id, user_id) DO UPDATE SET
                display_name = COALESCE($3, civic.profiles.display_name),
                email = COALESCE($4, civic.profiles.email),
                home_city_id = COALESCE($5, civic.profiles.home_city_id),
                notifications_enabled = COALESCE($6, civic.profiles.notifications_enabled),
                pause_until = CASE WHEN $8 THEN NULL ELSE COALESCE($7, civic.profiles.pause_until) END,
                updated_at = CASE WHEN $9 THEN now() ELSE civic.profiles.updated_at END
            RETURNING user_id, display_name, email, home_city_id, notifications_enabled, pause_until
            """, ct);
        cmd.Parameters.Add(new() { Value = tenant });
        cmd.Parameters.Add(new() { Value = userId });
        cmd.Parameters.Add(new() { Value = (object?)patch?.DisplayName ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = (object?)patch?.Email ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = (object?)patch?.HomeCityId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new() { Value = (object?)patch?.NotificationsEnabled ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Boolean });
        cmd.Parameters.Add(new() { Value = (object?)patch?.PauseUntil ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = patch?.ClearPause == true });
        cmd.Parameters.Add(new() { Value = patch is not null });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return new ProfileView(r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2),
            r.IsDBNull(3) ? null : r.GetGuid(3), r.GetBoolean(4), r.IsDBNull(5) ? null : r.GetFieldValue<DateTimeOffset>(5));
    }

    public static async Task<Accepted<ScanAccepted>> DeleteProfile(ClaimsPrincipal user, IJobQueue jobs, CancellationToken ct)
    {
        var caller = Caller.From(user);
        var key = $"profile-delete:{caller.TenantId}:{caller.UserId}";
        var job = await jobs.EnqueueAsync(new ProfileDeleteArgs(caller.TenantId, caller.UserId!, key), new JobOptions { UniqueKey = key }, ct);
        return TypedResults.Accepted($"/v1/admin/jobs/{job.Id}", new ScanAccepted(job.Id, job.Duplicate));
    }

    // ---- ops ----

    public static async Task<Results<Accepted<ScanAccepted>, ProblemHttpResult>> ScanCity(string id, ClaimsPrincipal user, NpgsqlDataSource db,
        IJobQueue jobs, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var cityId, out var bad))
        {
            return bad!;
        }
        var scope = CallerTenant(user);
        await using var cmd = await ScopedCommandAsync(db, scope, "SELECT tenant_id FROM civic.cities WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2)", ct);
        cmd.Parameters.Add(new() { Value = cityId });
        cmd.Parameters.Add(new() { Value = (object?)scope ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        if (await cmd.ExecuteScalarAsync(ct) is not Guid tenant)
        {
            return Problems.NotFound("City");
        }
        var key = $"scan:{cityId}";
        var job = await jobs.EnqueueAsync(new CityScanArgs(tenant, cityId, "manual", key, CivicJobOptions.CurrentTraceId()),
            new JobOptions { UniqueKey = key, MaxAttempts = 3 }, ct);
        return TypedResults.Accepted($"/v1/admin/jobs/{job.Id}", new ScanAccepted(job.Id, job.Duplicate));
    }

    public static async Task<Results<Accepted<RunAccepted>, ProblemHttpResult>> RerunMeeting(string id, ClaimsPrincipal user, NpgsqlDataSource db,
        IJobQueue jobs, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var meetingId, out var bad))
        {
            return bad!;
        }
        await using var conn = await OpenScopedAsync(db, CallerTenant(user), ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        Guid tenant, cityId, artifactId;
        await using (var cmd = new NpgsqlCommand(
            "SELECT tenant_id, city_id, artifact_id FROM civic.meetings WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2) FOR UPDATE", conn, tx))
        {
            cmd.Parameters.Add(new() { Value = meetingId });
            cmd.Parameters.Add(new() { Value = (object?)CallerTenant(user) ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            if (!await r.ReadAsync(ct))
            {
                return Problems.NotFound("Meeting");
            }
            (tenant, cityId, artifactId) = (r.GetGuid(0), r.GetGuid(1), r.GetGuid(2));
        }
        var runId = Guid.CreateVersion7();
        await using (var cmd = new NpgsqlCommand("""
            INSERT INTO civic.processing_runs (id, tenant_id, city_id, meeting_id, artifact_id, trigger, status, trace_id)
            VALUES ($1, $2, $3, $4, $5, 'rerun', 'running', $6) ON CONFLICT DO NOTHING
            """, conn, tx))
        {
            cmd.Parameters.Add(new() { Value = runId });
            cmd.Parameters.Add(new() { Value = tenant });
            cmd.Parameters.Add(new() { Value = cityId });
            cmd.Parameters.Add(new() { Value = meetingId });
            cmd.Parameters.Add(new() { Value = artifactId });
            cmd.Parameters.Add(new() { Value = (object?)CivicJobOptions.CurrentTraceId() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            if (await cmd.ExecuteNonQueryAsync(ct) == 0)
            {
                return TypedResults.Problem(new ProblemDetails
                {
                    Status = StatusCodes.Status409Conflict, Type = "urn:platform:problem:conflict", Title = "A run is in progress.",
                    Detail = "This meeting has a processing run in progress; rerun it once that run has finished.",
                });
            }
        }
        await jobs.EnqueueAsync(tx, new MeetingExtractArgs(tenant, runId, meetingId, $"extract:{runId}", CivicJobOptions.CurrentTraceId()),
            CivicJobOptions.Stage("extract", runId, meetingId), ct);
        await tx.CommitAsync(ct);
        return TypedResults.Accepted($"/v1/internal/runs/{runId}", new RunAccepted(runId));
    }

    public static async Task<Results<Ok<RunView>, ProblemHttpResult>> GetRun(string id, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var runId, out var bad))
        {
            return bad!;
        }
        var runs = await LoadRunsAsync(db, CallerTenant(user), runId, null, 1, ct);
        return runs.Count == 0 ? Problems.NotFound("Run") : TypedResults.Ok(runs[0]);
    }

    public static async Task<Results<Ok<IReadOnlyList<RunView>>, ProblemHttpResult>> ListRuns(string id, string? limit, ClaimsPrincipal user,
        NpgsqlDataSource db, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var cityId, out var bad))
        {
            return bad!;
        }
        if (!Problems.TryParseQuery(limit, "limit", 1, 1000, 100, out var take, out bad))
        {
            return bad!;
        }
        return TypedResults.Ok(await LoadRunsAsync(db, CallerTenant(user), null, cityId, (int)take, ct));
    }

    private static async Task<IReadOnlyList<RunView>> LoadRunsAsync(NpgsqlDataSource db, Guid? tenant, Guid? runId, Guid? cityId, int limit, CancellationToken ct)
    {
        await using var cmd = await ScopedCommandAsync(db, tenant, """
            SELECT id, city_id, meeting_id, artifact_id, trigger, status, stages::text, gate::text, error, trace_id, created_at, finished_at
            FROM civic.processing_runs
            WHERE ($1::uuid IS NULL OR tenant_id = $1) AND ($2::uuid IS NULL OR id = $2) AND ($3::uuid IS NULL OR city_id = $3)
            ORDER BY created_at DESC, id DESC LIMIT $4
            """, ct);
        cmd.Parameters.Add(new() { Value = (object?)tenant ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new() { Value = (object?)runId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new() { Value = (object?)cityId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new() { Value = limit });
        var list = new List<RunView>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new RunView(r.GetGuid(0), r.GetGuid(1), r.IsDBNull(2) ? null : r.GetGuid(2), r.IsDBNull(3) ? null : r.GetGuid(3),
                r.GetString(4), r.GetString(5), Json(r.GetString(6)), r.IsDBNull(7) ? null : Json(r.GetString(7)),
                r.IsDBNull(8) ? null : r.GetString(8), r.IsDBNull(9) ? null : r.GetString(9),
                r.GetFieldValue<DateTimeOffset>(10), r.IsDBNull(11) ? null : r.GetFieldValue<DateTimeOffset>(11)));
        }
        return list;
    }

    /// <summary>Civic bodies are read with the web defaults (camelCase) through reflection metadata.</summary>
    private static System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> TypeInfo<T>() =>
        (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)JsonSerializerOptions.Web.GetTypeInfo(typeof(T));

    private static JsonElement Json(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,39}$")]
    private static partial Regex Slug();
}
