using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Core.Data;

namespace Platform.Core.Ai;

/// <summary>Vectors for a set of texts, all from one model; a text the model could not embed is absent.</summary>
public sealed record EmbeddedTexts(string Model, IReadOnlyDictionary<string, float[]> ByText)
{
    public static EmbeddedTexts None(string model) => new(model, new Dictionary<string, float[]>(StringComparer.Ordinal));

    public float[]? Of(string? text) => text is not null && ByText.TryGetValue(text, out var v) ? v : null;
}

/// <summary>Where a module keeps its embeddings; each is a tenant table (tenant_id, model, content_hash, vector, created_at).</summary>
public enum EmbeddingTable
{
    /// <summary>Conference attendee profile texts (interests, skills, offers; what they seek).</summary>
    AttendeeProfiles,
    /// <summary>Community members' expertise texts (skills, learning catalysts, topics of their messages).</summary>
    MemberExpertise,
}

/// <summary>
/// Embeds texts once per content: a vector is stored per tenant under (model, SHA-256 of the text) and reused until
/// the text or the model changes, so recompiling a conference or re-ranking collaborators only embeds what is new.
/// Vectors are stored unit length (cosine = dot product) whatever the provider returns. When the model fails the
/// caller gets what the store already has and the rest is absent: similarity is then a missing feature, never an
/// error for the person asking.
/// </summary>
public sealed partial class StoredEmbeddings(NpgsqlDataSource dataSource, IEmbeddingGenerator<string, Embedding<float>> generator,
    ILogger<StoredEmbeddings> logger)
{
    public string Model { get; } = ModelClients.ModelIdOf(generator);

    public static string HashOf(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static string TableName(EmbeddingTable table) => table switch
    {
        EmbeddingTable.AttendeeProfiles => "events.profile_embeddings",
        EmbeddingTable.MemberExpertise => "community.expertise_embeddings",
        _ => throw new ArgumentOutOfRangeException(nameof(table)),
    };

    public async Task<EmbeddedTexts> GetAsync(Guid tenantId, EmbeddingTable table, IEnumerable<string> texts, CancellationToken ct = default)
    {
        var distinct = texts.Where(t => !string.IsNullOrWhiteSpace(t)).Distinct(StringComparer.Ordinal).ToList();
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (distinct.Count == 0)
        {
            return new EmbeddedTexts(Model, result);
        }
        var name = TableName(table);
        var byHash = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var t in distinct) byHash[HashOf(t)] = t;
        await using (var cmd = await dataSource.CreateTenantCommandAsync(tenantId,
            $"SELECT content_hash, vector FROM {name} WHERE tenant_id = $1 AND model = $2 AND content_hash = ANY($3)", ct))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Model });
            cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. byHash.Keys] });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                result[byHash[r.GetString(0)]] = r.GetFieldValue<float[]>(1);
            }
        }
        var missing = distinct.Where(t => !result.ContainsKey(t)).ToList();
        if (missing.Count == 0)
        {
            return new EmbeddedTexts(Model, result);
        }
        GeneratedEmbeddings<Embedding<float>> generated;
        try
        {
            generated = await generator.GenerateAsync(missing, cancellationToken: ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogModelFailed(logger, ex, Model, missing.Count);
            return new EmbeddedTexts(Model, result);
        }
        var vectors = generated.Select(e => UnitLength(e.Vector.ToArray())).ToList();
        for (var i = 0; i < missing.Count; i++) result[missing[i]] = vectors[i];
        await using (var insert = await dataSource.CreateTenantCommandAsync(tenantId, $"""
            INSERT INTO {name} (tenant_id, model, content_hash, vector)
            SELECT $1, $2, h, v::real[] FROM unnest($3::text[], $4::text[]) AS t (h, v)
            ON CONFLICT DO NOTHING
            """, ct))
        {
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Model });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. missing.Select(HashOf)] });
            // A 2-D array needs equal lengths; text literals of each vector keep one statement for any mix of models.
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. vectors.Select(VectorLiteral)] });
            await insert.ExecuteNonQueryAsync(ct);
        }
        LogEmbedded(logger, missing.Count, distinct.Count - missing.Count, Model);
        return new EmbeddedTexts(Model, result);
    }

    public static float[] UnitLength(float[] v)
    {
        double sum = 0;
        foreach (var x in v) sum += x * x;
        if (sum <= 0) return v;
        var inv = (float)(1 / Math.Sqrt(sum));
        for (var i = 0; i < v.Length; i++) v[i] *= inv;
        return v;
    }

    /// <summary>Dot product of two unit vectors (their cosine); 0 when either is missing or lengths differ.</summary>
    public static double Cosine(float[]? a, float[]? b)
    {
        if (a is null || b is null || a.Length != b.Length) return 0;
        var s = 0.0;
        for (var i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    private static string VectorLiteral(float[] v) =>
        "{" + string.Join(',', v.Select(x => x.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "}";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Embedding model {Model} failed for {Count} texts; similarity is left out for them")]
    private static partial void LogModelFailed(ILogger logger, Exception ex, string model, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Embedded {New} new texts ({Cached} from the store) with {Model}")]
    private static partial void LogEmbedded(ILogger logger, int @new, int cached, string model);
}
