using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Platform.Core.Data;

namespace Platform.Core.Search;

/// <summary>A position in a ranked result list: the last row's rank and id (keyset paging, stable under inserts).</summary>
public sealed record SearchCursor(float Rank, string Id)
{
    public string Encode() => Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{Rank.ToString("R", CultureInfo.InvariantCulture)}|{Id}"));

    public static bool TryDecode(string? value, out SearchCursor? cursor)
    {
        cursor = null;
        if (value is null)
        {
            return true;
        }
        if (value.Length is 0 or > 600)
        {
            return false;
        }
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(value));
            var bar = text.IndexOf('|', StringComparison.Ordinal);
            if (bar <= 0 || bar == text.Length - 1 ||
                !float.TryParse(text[..bar], NumberStyles.Float, CultureInfo.InvariantCulture, out var rank) || !float.IsFinite(rank))
            {
                return false;
            }
            cursor = new SearchCursor(rank, text[(bar + 1)..]);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

public sealed record SearchPage<T>(IReadOnlyList<T> Items, string? NextCursor);

public sealed record MeetingHit(Guid Id, Guid CityId, string Title, DateOnly? MeetingDate, string Status, float Rank, string Highlight);

public sealed record DecisionHit(Guid Id, Guid MeetingId, string MeetingTitle, DateOnly? MeetingDate, string Text, float Rank, string Highlight);

public sealed record MessageHit(string Id, Guid ConversationId, long Seq, string FromId, string? FromName, DateTimeOffset Timestamp, float Rank, string Highlight);

public sealed record MemberHit(string UserId, string DisplayName, string? Team, IReadOnlyList<string> Skills, float Rank, string Highlight);

public sealed record AttendeeHit(string UserId, string DisplayName, string Kind, string? Company, float Rank, string Highlight);

/// <summary>
/// Who may see which conversations' messages: the whole tenant (tenant key, operators), one channel (channel secret),
/// one conversation (client token), or the conversations a member has posted in (user token).
/// </summary>
public sealed record MessageScope(Guid? ChannelId = null, Guid? ConversationId = null, string? ParticipantId = null);

/// <summary>
/// PostgreSQL full-text search (docs/search.md). Every query runs in the tenant's row-level-security scope and also
/// filters by tenant. The query text is parsed by <c>websearch_to_tsquery</c> (quotes, <c>or</c>, <c>-word</c>) in
/// the tenant's configuration OR'd with <c>simple</c>; results are ordered by <c>ts_rank_cd</c> then id, and paged
/// by keyset on that pair. Highlights are HTML: the text is escaped first, matches are wrapped in &lt;mark&gt;.
/// </summary>
public sealed class SiteSearch(NpgsqlDataSource dataSource)
{
    public const int MaxQueryLength = 200;

    /// <summary>The text search configurations a tenant may choose (those installed with PostgreSQL).</summary>
    public async Task<IReadOnlyList<string>> ConfigurationsAsync(CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("SELECT cfgname FROM pg_ts_config ORDER BY cfgname");
        var list = new List<string>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(r.GetString(0));
        }
        return list;
    }

    public async Task<string> LanguageAsync(Guid tenantId, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, "SELECT core.search_config_for($1)::text", ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        return (string)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// Sets the tenant's configuration and re-indexes the rows that may change (meetings, documents, members,
    /// attendees) in one transaction. Messages and decisions are append-only and keep the configuration they were
    /// indexed with; queries still find them through the <c>simple</c> half of the query.
    /// </summary>
    public async Task SetLanguageAsync(Guid tenantId, string configuration, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        string[] statements =
        [
            """
            INSERT INTO core.search_settings (tenant_id, text_search_config) VALUES ($1, $2::regconfig)
            ON CONFLICT (tenant_id) DO UPDATE SET text_search_config = excluded.text_search_config, updated_at = now()
            """,
            "UPDATE civic.meetings SET search_config = $2::regconfig WHERE tenant_id = $1 AND search_config <> $2::regconfig",
            "UPDATE civic.artifacts SET search_config = $2::regconfig WHERE tenant_id = $1 AND search_config <> $2::regconfig",
            "UPDATE community.members SET search_config = $2::regconfig WHERE tenant_id = $1 AND search_config <> $2::regconfig",
            "UPDATE events.attendees SET search_config = $2::regconfig WHERE tenant_id = $1 AND search_config <> $2::regconfig",
        ];
        foreach (var sql in statements)
        {
            await using var cmd = new NpgsqlCommand(sql, conn, tx);
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = configuration });
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    // The query: the tenant's configuration OR 'simple' (see the migration). $1 tenant, $2 text.
    private const string QueryCte = """
        WITH cfg AS (SELECT core.search_config_for($1) AS c),
        q AS (SELECT CASE WHEN cfg.c = 'simple'::regconfig THEN websearch_to_tsquery('simple', $2)
                          ELSE websearch_to_tsquery(cfg.c, $2) || websearch_to_tsquery('simple', $2) END AS query FROM cfg)
        """;

    // $3 has cursor, $4 cursor rank, $5 cursor id, $6 limit.
    private const string Keyset = "WHERE NOT $3 OR (rank, id) < ($4::real, $5)";

    private static string Headline(string column, string config = "search_config") =>
        $"ts_headline({config}, replace(replace(replace({column}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), q.query, " +
        "'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=10, MaxFragments=2, FragmentDelimiter=\" … \"')";

    public Task<SearchPage<MeetingHit>> MeetingsAsync(Guid tenantId, string query, Guid? cityId, SearchCursor? after, int limit, CancellationToken ct) =>
        PageAsync(tenantId, query, after, limit, $"""
            {QueryCte},
            hits AS (
                SELECT m.id, sum(h.rank)::real AS rank FROM (
                    SELECT m.id, ts_rank_cd(m.search_tsv, q.query) AS rank FROM civic.meetings m, q
                     WHERE m.tenant_id = $1 AND m.search_tsv @@ q.query
                    UNION ALL
                    SELECT m.id, ts_rank_cd(a.search_tsv, q.query) FROM civic.artifacts a JOIN civic.meetings m ON m.artifact_id = a.id, q
                     WHERE a.tenant_id = $1 AND m.tenant_id = $1 AND a.search_tsv @@ q.query
                ) h JOIN civic.meetings m ON m.id = h.id
                WHERE $7::uuid IS NULL OR m.city_id = $7
                GROUP BY m.id
            ), page AS (
                SELECT * FROM (SELECT id::text AS id, id AS meeting_id, rank FROM hits) h {Keyset} ORDER BY rank DESC, id DESC LIMIT $6
            )
            SELECT p.id, p.rank, m.city_id, m.title, m.meeting_date, m.status,
                   CASE WHEN m.search_tsv @@ q.query THEN {Headline("m.title", "m.search_config")} ELSE '' END ||
                   CASE WHEN a.search_tsv @@ q.query
                        THEN ' … ' || {Headline("left(coalesce(a.text_content, ''), 200000)", "a.search_config")} ELSE '' END
              FROM page p JOIN civic.meetings m ON m.id = p.meeting_id JOIN civic.artifacts a ON a.id = m.artifact_id, q
             ORDER BY p.rank DESC, p.id DESC
            """,
            p => p.Add(new NpgsqlParameter { Value = (object?)cityId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid }),
            r => new MeetingHit(Guid.Parse(r.GetString(0)), r.GetGuid(2), r.GetString(3), r.IsDBNull(4) ? null : r.GetFieldValue<DateOnly>(4), r.GetString(5),
                r.GetFloat(1), Trim(r.GetString(6))),
            h => new SearchCursor(h.Rank, h.Id.ToString()), ct);

    public Task<SearchPage<DecisionHit>> DecisionsAsync(Guid tenantId, string query, Guid? cityId, SearchCursor? after, int limit, CancellationToken ct) =>
        PageAsync(tenantId, query, after, limit, $"""
            {QueryCte},
            hits AS (
                SELECT c.id::text AS id, c.id AS claim_id, m.id AS meeting_id, m.title, m.meeting_date, c.text, c.search_config,
                       ts_rank_cd(c.search_tsv, q.query) AS rank
                  FROM civic.claims c
                  JOIN civic.summary_versions v ON v.id = c.summary_version_id AND v.is_current
                  JOIN civic.meetings m ON m.id = v.meeting_id, q
                 WHERE m.tenant_id = $1 AND c.kind = 'decision' AND c.search_tsv @@ q.query AND ($7::uuid IS NULL OR m.city_id = $7)
            ), page AS (
                SELECT * FROM hits {Keyset} ORDER BY rank DESC, id DESC LIMIT $6
            )
            SELECT p.id, p.rank, p.meeting_id, p.title, p.meeting_date, p.text, {Headline("p.text")}
              FROM page p, q ORDER BY p.rank DESC, p.id DESC
            """,
            p => p.Add(new NpgsqlParameter { Value = (object?)cityId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid }),
            r => new DecisionHit(Guid.Parse(r.GetString(0)), r.GetGuid(2), r.GetString(3), r.IsDBNull(4) ? null : r.GetFieldValue<DateOnly>(4), r.GetString(5),
                r.GetFloat(1), r.GetString(6)),
            h => new SearchCursor(h.Rank, h.Id.ToString()), ct);

    public Task<SearchPage<MessageHit>> MessagesAsync(Guid tenantId, string query, MessageScope scope, SearchCursor? after, int limit, CancellationToken ct) =>
        PageAsync(tenantId, query, after, limit, $"""
            {QueryCte},
            hits AS (
                SELECT a.id, a.conversation_id, a.seq, a.from_id, a.from_name, a.created_at, a.text, a.search_config,
                       ts_rank_cd(a.search_tsv, q.query) AS rank
                  FROM core.activities a JOIN core.conversations c ON c.id = a.conversation_id AND c.tenant_id = a.tenant_id, q
                 WHERE a.tenant_id = $1 AND a.type = 'message' AND a.search_tsv @@ q.query
                   AND ($7::uuid IS NULL OR c.channel_id = $7)
                   AND ($8::uuid IS NULL OR a.conversation_id = $8)
                   AND ($9::text IS NULL OR EXISTS (SELECT 1 FROM core.activities own
                                                     WHERE own.conversation_id = a.conversation_id AND own.tenant_id = $1 AND own.from_id = $9))
            ), page AS (
                SELECT * FROM hits {Keyset} ORDER BY rank DESC, id DESC LIMIT $6
            )
            SELECT p.id, p.rank, p.conversation_id, p.seq, p.from_id, p.from_name, p.created_at, {Headline("p.text")}
              FROM page p, q ORDER BY p.rank DESC, p.id DESC
            """,
            p =>
            {
                p.Add(new NpgsqlParameter { Value = (object?)scope.ChannelId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
                p.Add(new NpgsqlParameter { Value = (object?)scope.ConversationId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
                p.Add(new NpgsqlParameter { Value = (object?)scope.ParticipantId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            },
            r => new MessageHit(r.GetString(0), r.GetGuid(2), r.GetInt64(3), r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5),
                r.GetFieldValue<DateTimeOffset>(6), r.GetFloat(1), r.GetString(7)),
            h => new SearchCursor(h.Rank, h.Id), ct);

    public Task<SearchPage<MemberHit>> MembersAsync(Guid tenantId, string query, string? team, SearchCursor? after, int limit, CancellationToken ct) =>
        PageAsync(tenantId, query, after, limit, $"""
            {QueryCte},
            hits AS (
                SELECT m.user_id AS id, m.display_name, m.team, m.skills, m.search_config, ts_rank_cd(m.search_tsv, q.query) AS rank
                  FROM community.members m, q
                 WHERE m.tenant_id = $1 AND m.search_tsv @@ q.query AND ($7::text IS NULL OR m.team = $7)
            ), page AS (
                SELECT * FROM hits {Keyset} ORDER BY rank DESC, id DESC LIMIT $6
            )
            SELECT p.id, p.rank, p.display_name, p.team, p.skills,
                   {Headline("core.search_words(p.skills) || ' · ' || p.display_name")}
              FROM page p, q ORDER BY p.rank DESC, p.id DESC
            """,
            p => p.Add(new NpgsqlParameter { Value = (object?)team ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text }),
            r => new MemberHit(r.GetString(0), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3), r.GetFieldValue<string[]>(4), r.GetFloat(1), r.GetString(5)),
            h => new SearchCursor(h.Rank, h.UserId), ct);

    public Task<SearchPage<AttendeeHit>> AttendeesAsync(Guid tenantId, Guid conferenceId, string query, SearchCursor? after, int limit, CancellationToken ct) =>
        PageAsync(tenantId, query, after, limit, $"""
            {QueryCte},
            hits AS (
                SELECT a.user_id AS id, a.display_name, a.kind, a.company, a.search_config, ts_rank_cd(a.search_tsv, q.query) AS rank,
                       coalesce((SELECT string_agg(k, ', ' ORDER BY k) FROM jsonb_object_keys(
                                    CASE WHEN jsonb_typeof(a.profile -> 'interests') = 'object' THEN a.profile -> 'interests' ELSE jsonb_build_object() END) k), '')
                       || ' · ' || coalesce(a.bio, '') AS about
                  FROM events.attendees a, q
                 WHERE a.tenant_id = $1 AND a.conference_id = $7 AND a.search_tsv @@ q.query
            ), page AS (
                SELECT * FROM hits {Keyset} ORDER BY rank DESC, id DESC LIMIT $6
            )
            SELECT p.id, p.rank, p.display_name, p.kind, p.company, {Headline("p.about")}
              FROM page p, q ORDER BY p.rank DESC, p.id DESC
            """,
            p => p.Add(new NpgsqlParameter<Guid> { TypedValue = conferenceId }),
            r => new AttendeeHit(r.GetString(0), r.GetString(2), r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4), r.GetFloat(1), r.GetString(5)),
            h => new SearchCursor(h.Rank, h.UserId), ct);

    private static string Trim(string highlight) => highlight.StartsWith(" … ", StringComparison.Ordinal) ? highlight[3..] : highlight;

    private async Task<SearchPage<T>> PageAsync<T>(Guid tenantId, string query, SearchCursor? after, int limit, string sql,
        Action<NpgsqlParameterCollection> extra, Func<NpgsqlDataReader, T> read, Func<T, SearchCursor> cursorOf, CancellationToken ct)
    {
        await using var cmd = await dataSource.CreateTenantCommandAsync(tenantId, sql, ct);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = query });
        cmd.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = after is not null });
        cmd.Parameters.Add(new NpgsqlParameter<float> { TypedValue = after?.Rank ?? 0f });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = after?.Id ?? "" });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit + 1 });
        extra(cmd.Parameters);
        var items = new List<T>();
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                items.Add(read(r));
            }
        }
        string? next = null;
        if (items.Count > limit)
        {
            items.RemoveAt(items.Count - 1);
            next = cursorOf(items[^1]).Encode();
        }
        return new SearchPage<T>(items, next);
    }
}
