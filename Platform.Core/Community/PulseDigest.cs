using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Community.Algorithms;
using Platform.Core.Data;
using Platform.Core.Governance;
using Platform.Core.Jobs;
using Platform.Core.Notifications;

namespace Platform.Core.Community;

/// <summary>The weekly pulse and champions digest sweep for community managers and team leads.</summary>
public sealed record PulseDigestSweepArgs : IJobArgs
{
    public static string Kind => "community.pulse-digests";
    public static string Queue => "notifications";
}

/// <summary>
/// Once a week, at the person's digest weekday and local time (Monday 08:00 unless they chose otherwise) and outside
/// their quiet hours, every community manager and team lead with an email address gets the week's pulse and champions:
/// a manager for every team, a team lead for their own team. The digest shows only what the Discover and Pulse reads
/// would show the same person: groups under the k-anonymity floor are counted, never described; champions are named
/// only with their recognition consent as of the send; each send appends a provenance read of the names it exposed.
/// Exactly one per person and ISO week (the digest ledger's claim, in the transaction that enqueues the email).
/// </summary>
public sealed partial class PulseDigestSweepHandler(NpgsqlDataSource db, Pulse pulse, ChampionScoring scoring, Consents consents, ProvenanceLedger ledger,
    NotificationOutbox outbox, TimeProvider time) : IJobHandler<PulseDigestSweepArgs>
{
    public const string NotificationType = "digest.community-pulse";
    public const int ChampionLines = 5;
    public const int MaxTeams = 12;
    private static readonly TimeSpan Window = TimeSpan.FromDays(7);

    private sealed record Recipient(Guid TenantId, string UserId, string? Team, bool IsManager, string Period);

    public async Task HandleAsync(PulseDigestSweepArgs args, JobContext context)
    {
        var ct = context.CancellationToken;
        var now = time.GetUtcNow();
        var due = new List<Recipient>();
        await using (var cmd = await db.CreateSystemCommandAsync("weekly pulse digest: every tenant's community managers and team leads", """
            SELECT m.tenant_id, m.user_id, m.team, 'community_manager' = ANY (m.roles),
                   p.email, p.email_status, p.email_reason, p.time_zone, p.digest, p.digest_time, p.digest_weekday, p.quiet_start, p.quiet_end
            FROM community.members m
            JOIN ops.notification_profiles p ON p.tenant_id = m.tenant_id AND p.user_id = m.user_id
            WHERE m.roles && ARRAY['community_manager', 'team_lead'] AND p.email IS NOT NULL AND p.email_status = 'active' AND p.email_verified_at IS NOT NULL
            ORDER BY m.tenant_id, m.user_id
            """, ct))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                var isManager = r.GetBoolean(3);
                var team = r.IsDBNull(2) ? null : r.GetString(2);
                // A team lead outside any team has nothing of their own to read.
                if (!isManager && team is null)
                {
                    continue;
                }
                // Weekly at the person's digest weekday and time, whatever their own digest is set to.
                var profile = NotificationProfiles.Read(r, 4) with { Digest = DigestFrequencies.Weekly };
                if (NotificationDigests.DuePeriod(profile, now) is { } week)
                {
                    due.Add(new Recipient(r.GetGuid(0), r.GetString(1), team, isManager, "pulse:" + week["weekly:".Length..]));
                }
            }
        }
        foreach (var recipient in due)
        {
            try
            {
                await SendOneAsync(recipient, now, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One person's failure must not hold back everyone else's digest; nothing was claimed, so the next
                // sweep tries them again.
                LogFailed(context.Logger, recipient.TenantId, recipient.UserId, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pulse digest for tenant {TenantId} user {UserId} not sent; the next sweep tries again")]
    private static partial void LogFailed(ILogger logger, Guid tenantId, string userId, Exception exception);

    private async Task SendOneAsync(Recipient who, DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = await db.OpenForTenantAsync(who.TenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (await DigestLedger.ClaimAsync(conn, tx, who.TenantId, who.UserId, DigestFrequencies.Weekly, who.Period, ct) is not { } digestId)
        {
            return; // this week's digest was sent (another run, or before a restart)
        }
        var scope = who.IsManager ? null : who.Team;
        var aggregate = await pulse.AggregateAsync(who.TenantId, "team", Window, now, scope, ct);
        var ranking = await scoring.LatestAsync(who.TenantId, ct);
        var champions = new List<RankingEntry>();
        if (ranking is not null)
        {
            var inScope = ranking.Champions.Where(e => scope is null || e.Team == scope).ToList();
            var granted = await consents.GrantedAsync(who.TenantId, ConsentPurposes.Recognition, [.. inScope.Select(e => e.UserId)], ct);
            champions = [.. inScope.Where(e => granted.Contains(e.UserId)).Take(ChampionLines)];
        }

        // Teams with risk flags first; as many teams as fit one notification (its payload has a byte limit).
        var lines = 0;
        var payload = NotificationPayloads.Fit(teams =>
        {
            (var body, lines) = Compose(aggregate, champions, scope, teams);
            return new Dictionary<string, object?>
            {
                ["title"] = scope is null ? "Your community this week" : $"Team {scope} this week",
                ["body"] = body,
                ["period"] = who.Period,
                ["rankingId"] = ranking?.Id,
            };
        }, MaxTeams, "body");
        var enqueued = await outbox.EnqueueAsync(tx, new Notification(who.TenantId, who.UserId, who.Period, NotificationType, payload,
            NotificationChannels.Email), ct);
        if (champions.Count > 0)
        {
            // Naming people is a read of the ranking like any other: it leaves the same provenance trail.
            await ledger.AppendAsync(conn, tx, who.TenantId, new ProvenanceEntry(ProvenanceActions.RankingRead, $"digest:{who.UserId}", null,
                ChampionScoring.Algorithm, ranking!.Version, JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["rankingId"] = ranking.Id, ["kind"] = "champion", ["team"] = scope, ["returned"] = champions.Select(c => c.UserId).ToArray(),
                    ["notification"] = enqueued.OutboxId,
                })), ct);
        }
        await DigestLedger.RecordAsync(conn, tx, digestId, lines, enqueued.OutboxId, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>The digest's text: reportable teams with their numbers and flags, what the floor hid, then the champions.</summary>
    internal static (string Body, int Lines) Compose(JsonObject aggregate, IReadOnlyList<RankingEntry> champions, string? team, int maxTeams = MaxTeams)
    {
        var sb = new StringBuilder();
        var lines = 0;
        var groups = (aggregate["groups"]?.AsArray() ?? []).OfType<JsonObject>()
            .OrderByDescending(g => g["riskFlags"]?.AsArray().Count ?? 0).ThenBy(g => (string?)g["group"], StringComparer.Ordinal).ToList();
        sb.Append("Pulse over the last 7 days (only people who consented to pulse are counted):\n");
        foreach (var g in groups.Take(maxTeams))
        {
            var name = (string?)g["group"] ?? "(no team)";
            sb.Append("• ").Append(name).Append(": ").Append(Num(g["activeMembers"])).Append(" active");
            if (g["engagement"] is JsonObject e)
            {
                sb.Append(", ").Append(Num(e["activitiesPerMember"])).Append(" activities each");
                if (g["trend"] is JsonObject t && t["activitiesPerMember"] is { } delta)
                {
                    sb.Append(" (").Append(Signed(delta)).Append(" on the week before)");
                }
            }
            if (g["sentiment"] is JsonObject s)
            {
                sb.Append(", sentiment ").Append(Signed(s["mean"]));
            }
            if (g["psychologicalSafety"] is JsonObject ps)
            {
                sb.Append(", psychological safety ").Append(Num(ps["mean"])).Append("/7");
            }
            sb.Append('\n');
            foreach (var flag in (g["riskFlags"]?.AsArray() ?? []).OfType<JsonObject>())
            {
                sb.Append("  ! ").Append((string?)flag["reason"]).Append('\n');
            }
            lines++;
        }
        if (groups.Count > maxTeams)
        {
            sb.Append("• … and ").Append(groups.Count - maxTeams).Append(" more teams (all of them: the pulse aggregate).\n");
        }
        var hidden = (long?)aggregate["suppressed"]?["groups"] ?? 0;
        if (groups.Count == 0 && hidden == 0)
        {
            sb.Append(team is null ? "• No activity from consenting members this week.\n" : "• No activity from consenting members of your team this week.\n");
        }
        if (hidden > 0)
        {
            sb.Append(team is null
                ? $"• {hidden} team{(hidden == 1 ? " has" : "s have")} fewer than {KAnonymity.DefaultFloor} active consenting members and {(hidden == 1 ? "is" : "are")} not shown, to keep individuals unidentifiable.\n"
                : $"• Your team has fewer than {KAnonymity.DefaultFloor} active consenting members this week, so its pulse is not shown, to keep individuals unidentifiable.\n");
        }
        sb.Append('\n');
        if (champions.Count == 0)
        {
            sb.Append("Champions: none to name yet (no ranking, or nobody ranked has consented to recognition).");
        }
        else
        {
            sb.Append("Champions (named with their consent to recognition):\n");
            for (var i = 0; i < champions.Count; i++)
            {
                var c = champions[i];
                sb.Append(i + 1).Append(". ").Append(c.DisplayName);
                if (team is null && c.Team is not null)
                {
                    sb.Append(" (").Append(c.Team).Append(')');
                }
                sb.Append('\n');
                lines++;
            }
        }
        return (sb.ToString().TrimEnd(), lines);
    }

    private static string Num(JsonNode? n) => n is null ? "–" : Value(n).ToString("0.##", CultureInfo.InvariantCulture);

    private static string Signed(JsonNode? n) => n is null ? "–" : Value(n).ToString("+0.##;−0.##;0", CultureInfo.InvariantCulture);

    // The aggregate holds integers and doubles alike; its JSON text is the one representation both have.
    private static double Value(JsonNode n) => double.Parse(n.ToJsonString(), CultureInfo.InvariantCulture);
}
