using System.Text.Json;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Events.Matching;
using Platform.Core.Notifications;
using StackExchange.Redis;

namespace Platform.Core.Events;

public enum RsvpOutcome { Recorded, GatheringNotFound, NotAttendee, Full }

/// <summary>
/// Gatherings, their invitations and RSVPs. Seats are counted under a row lock on the gathering, so invitations
/// and acceptances never exceed its capacity however many arrive at once. Every change is published on the
/// conference's Realtime channel.
/// </summary>
public sealed class Gatherings(EventsStore store, EventsBus bus, NotificationOutbox notifications)
{
    public const string InviteNotificationType = "events.gathering-invite";

    private const string Columns = "id, conference_id, topic, tags, place, starts_at, ends_at, capacity, created_at";

    public async Task<Gathering> CreateAsync(Guid tenantId, Guid conferenceId, string topic, IReadOnlyList<string> tags, string place,
        DateTimeOffset startsAt, DateTimeOffset endsAt, int capacity, CancellationToken ct)
    {
        await using var cmd = await store.DataSource.CreateTenantCommandAsync(tenantId, $"""
            INSERT INTO events.gatherings (id, tenant_id, conference_id, topic, tags, place, starts_at, ends_at, capacity)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {Columns}
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.CreateVersion7() });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conferenceId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. tags] });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = place });
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = startsAt.ToUniversalTime() });
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = endsAt.ToUniversalTime() });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = capacity });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        var g = Read(r, []);
        await bus.PublishAsync(tenantId, new EventUpdate("gathering.created", conferenceId, null, null, g));
        return g;
    }

    public async Task<Gathering?> FindAsync(Guid tenantId, Guid id, CancellationToken ct)
    {
        await using var conn = await store.DataSource.OpenForTenantAsync(tenantId, ct);
        return await FindAsync(conn, null, tenantId, id, forUpdate: false, ct);
    }

    /// <summary>A gathering with its invitations, for readers that do not send invitations (the Realtime live stream).</summary>
    public static async Task<Gathering?> ReadAsync(EventsStore store, Guid tenantId, Guid id, CancellationToken ct)
    {
        await using var conn = await store.DataSource.OpenForTenantAsync(tenantId, ct);
        return await FindAsync(conn, null, tenantId, id, forUpdate: false, ct);
    }

    /// <summary>Who to invite: the pure suggester over the conference's profiles, up to the free seats.</summary>
    public async Task<InviteSuggestions?> SuggestInviteesAsync(Guid tenantId, Guid id, CancellationToken ct)
    {
        var g = await FindAsync(tenantId, id, ct);
        if (g is null)
        {
            return null;
        }
        var attendees = await store.ListAttendeesAsync(tenantId, g.ConferenceId, ct);
        var invitees = GatheringSuggester.InviteesFor(Slot(g), [.. attendees.Select(a => a.ToCandidate())]);
        return new InviteSuggestions(g.Id, GatheringSuggester.Version, g.Capacity - g.Invitations.Count, invitees);
    }

    /// <summary>
    /// Invites the given attendees (or, with none given, the suggested ones). Only attendees of the conference who
    /// consent to invites and are free for the whole gathering are invited, and never beyond the capacity.
    /// </summary>
    public async Task<InvitesSent?> InviteAsync(Guid tenantId, Guid id, IReadOnlyList<string>? userIds, string source, CancellationToken ct)
    {
        await using var conn = await store.DataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var g = await FindAsync(conn, tx, tenantId, id, forUpdate: true, ct);
        if (g is null)
        {
            return null;
        }
        var attendees = await store.ListAttendeesAsync(tenantId, g.ConferenceId, ct);
        var candidates = attendees.Select(a => a.ToCandidate()).ToList();
        IReadOnlyList<string> chosen;
        if (userIds is null)
        {
            chosen = GatheringSuggester.InviteesFor(Slot(g), candidates);
        }
        else
        {
            // Named invitees still have to be free and consenting; the topic need not match.
            var invited = g.Invitations.Select(i => i.UserId).ToHashSet(StringComparer.Ordinal);
            var byId = candidates.ToDictionary(c => c.AttendeeId, StringComparer.Ordinal);
            chosen = [.. userIds.Distinct(StringComparer.Ordinal)
                .Where(u => !invited.Contains(u) && byId.TryGetValue(u, out var c) && c.ConsentToInvites && c.Availability.Any(s => s.Covers(g.StartsAt, g.EndsAt)))
                .Take(Math.Max(0, g.Capacity - g.Invitations.Count))];
        }
        if (chosen.Count > 0)
        {
            await using var insert = new NpgsqlCommand("""
                INSERT INTO events.gathering_invitations (gathering_id, tenant_id, user_id, source)
                SELECT $1, $2, u, $4 FROM unnest($3::text[]) AS u ON CONFLICT DO NOTHING
                """, conn, tx);
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. chosen] });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = source });
            await insert.ExecuteNonQueryAsync(ct);
            // Delivered through the notifications outbox in this same transaction: an invitation exists only with
            // its notification, and the outbox's dedupe key (user, gathering, type) makes a re-run send nothing twice.
            var payload = JsonSerializer.SerializeToElement(
                new GatheringInvite(g.Id, g.ConferenceId, g.Topic, g.Place, g.StartsAt, g.EndsAt), EventsJsonContext.Default.GatheringInvite);
            foreach (var userId in chosen)
            {
                await notifications.EnqueueAsync(tx, new Notification(tenantId, userId, $"gathering:{g.Id}", InviteNotificationType, payload,
                    NotificationChannels.InApp | NotificationChannels.WebPush), ct);
            }
        }
        var updated = await FindAsync(conn, tx, tenantId, id, forUpdate: false, ct);
        await tx.CommitAsync(ct);
        await bus.PublishAsync(tenantId, new EventUpdate("gathering.invited", g.ConferenceId, null, null, updated));
        return new InvitesSent(id, chosen, "notifications");
    }

    /// <summary>
    /// Accept or decline. An attendee need not have been invited; accepting takes a seat, so it is refused when
    /// the accepted count has reached the capacity.
    /// </summary>
    public async Task<(RsvpOutcome Outcome, Gathering? Gathering)> RsvpAsync(Guid tenantId, Guid id, string userId, bool accept, CancellationToken ct)
    {
        await using var conn = await store.DataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var g = await FindAsync(conn, tx, tenantId, id, forUpdate: true, ct);
        if (g is null)
        {
            return (RsvpOutcome.GatheringNotFound, null);
        }
        if (await store.FindAttendeeAsync(tenantId, g.ConferenceId, userId, ct) is null)
        {
            return (RsvpOutcome.NotAttendee, null);
        }
        var current = g.Invitations.FirstOrDefault(i => i.UserId == userId);
        if (accept && current?.Status != "accepted" && g.Accepted >= g.Capacity)
        {
            return (RsvpOutcome.Full, g);
        }
        await using (var upsert = new NpgsqlCommand("""
            INSERT INTO events.gathering_invitations (gathering_id, tenant_id, user_id, status, source, responded_at)
            VALUES ($1, $2, $3, $4, 'rsvp', now())
            ON CONFLICT (gathering_id, user_id) DO UPDATE SET status = excluded.status, responded_at = now()
            """, conn, tx))
        {
            upsert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            upsert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            upsert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
            upsert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = accept ? "accepted" : "declined" });
            await upsert.ExecuteNonQueryAsync(ct);
        }
        var updated = await FindAsync(conn, tx, tenantId, id, forUpdate: false, ct);
        await tx.CommitAsync(ct);
        await bus.PublishAsync(tenantId, new EventUpdate("gathering.rsvp", g.ConferenceId, userId, accept ? "accepted" : "declined", updated));
        return (RsvpOutcome.Recorded, updated);
    }

    /// <summary>Accepted RSVPs of every gathering of a conference: who sat together (report's interaction graph).</summary>
    public async Task<IReadOnlyList<(Guid GatheringId, string UserId, DateTimeOffset At)>> AcceptedAsync(Guid tenantId, Guid conferenceId, CancellationToken ct)
    {
        await using var cmd = await store.DataSource.CreateTenantCommandAsync(tenantId, """
            SELECT i.gathering_id, i.user_id, g.starts_at FROM events.gathering_invitations i JOIN events.gatherings g ON g.id = i.gathering_id
            WHERE g.tenant_id = $1 AND g.conference_id = $2 AND i.status = 'accepted' ORDER BY i.gathering_id, i.user_id
            """, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = conferenceId });
        var list = new List<(Guid, string, DateTimeOffset)>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add((r.GetGuid(0), r.GetString(1), r.GetFieldValue<DateTimeOffset>(2)));
        }
        return list;
    }

    private static GatheringSlot Slot(Gathering g) =>
        new(g.Tags.Count > 0 ? g.Tags : [g.Topic], g.StartsAt, g.EndsAt, g.Capacity, [.. g.Invitations.Select(i => i.UserId)]);

    private static async Task<Gathering?> FindAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Guid tenantId, Guid id, bool forUpdate, CancellationToken ct)
    {
        var invitations = new List<Invitation>();
        await using (var inv = new NpgsqlCommand(
            "SELECT user_id, status, source, invited_at, responded_at FROM events.gathering_invitations WHERE tenant_id = $1 AND gathering_id = $2 ORDER BY invited_at, user_id",
            conn, tx))
        {
            inv.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            inv.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            await using var ri = await inv.ExecuteReaderAsync(ct);
            while (await ri.ReadAsync(ct))
            {
                invitations.Add(new Invitation(ri.GetString(0), ri.GetString(1), ri.GetString(2), ri.GetFieldValue<DateTimeOffset>(3),
                    ri.IsDBNull(4) ? null : ri.GetFieldValue<DateTimeOffset>(4)));
            }
        }
        // The lock is taken before the invitations are trusted: re-read them under it below when locking.
        await using var cmd = new NpgsqlCommand(
            $"SELECT {Columns} FROM events.gatherings WHERE tenant_id = $1 AND id = $2" + (forUpdate ? " FOR UPDATE" : ""), conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        Gathering? g;
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            g = await r.ReadAsync(ct) ? Read(r, invitations) : null;
        }
        return forUpdate && g is not null ? await FindAsync(conn, tx, tenantId, id, forUpdate: false, ct) : g;
    }

    private static Gathering Read(NpgsqlDataReader r, List<Invitation> invitations) => new(
        r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetFieldValue<string[]>(3), r.GetString(4), r.GetFieldValue<DateTimeOffset>(5),
        r.GetFieldValue<DateTimeOffset>(6), r.GetInt32(7), invitations.Count(i => i.Status == "accepted"), invitations, r.GetFieldValue<DateTimeOffset>(8));
}

/// <summary>
/// Live conference updates over Redis pub/sub: channel <c>platform:events:{tenantId}</c>, JSON <see cref="EventUpdate"/>.
/// Realtime nodes forward them to the tenant's connected attendees of that conference. At-most-once like any
/// pub/sub: clients re-read the gathering after a reconnect.
/// </summary>
public sealed class EventsBus(IConnectionMultiplexer redis)
{
    public static string ChannelOf(Guid tenantId) => $"platform:events:{tenantId:N}";

    public async Task PublishAsync(Guid tenantId, EventUpdate update)
    {
        try
        {
            await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(ChannelOf(tenantId)), JsonSerializer.Serialize(update, EventsJsonContext.Default.EventUpdate));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // The write is committed; a lost live update only delays what clients see until they re-read.
        }
    }
}
