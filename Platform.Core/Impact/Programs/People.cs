using System.Text.Json;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Impact.Privacy;

namespace Platform.Core.Impact.Programs;

public sealed record PersonProfile(Guid Id, Guid CompanyId, string Role, string? Name, string? Email, JsonElement Journey,
    IReadOnlyList<ExternalIdView> ExternalIds, IReadOnlyList<string> Programs, DateTimeOffset CreatedAt, DateTimeOffset? ErasedAt);
public sealed record ExternalIdView(string Source, string ExternalId);

/// <summary>
/// A participant as the tenant sees them: name and e-mail decrypted under the person's key (null once erased), with
/// every decryption recorded in the key access log as a profile view.
/// </summary>
public sealed class ImpactPeople(NpgsqlDataSource dataSource, PiiVault vault)
{
    /// <summary>The person's profile; null when the tenant has no such person.</summary>
    public async Task<PersonProfile?> GetAsync(Guid tenant, Guid personId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenForTenantAsync(tenant, ct);
        await using var cmd = new NpgsqlCommand("""
            SELECT company_id, role, name_enc, email_enc, journey::text, created_at, erased_at,
                   ARRAY(SELECT source || '|' || external_id FROM impact.external_ids x WHERE x.person_id = p.id ORDER BY 1),
                   ARRAY(SELECT program FROM impact.enrollments e WHERE e.person_id = p.id ORDER BY 1)
              FROM impact.people p WHERE tenant_id = $1 AND id = $2
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenant });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = personId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }
        var company = reader.GetGuid(0);
        var role = reader.GetString(1);
        var nameEnc = reader.IsDBNull(2) ? null : reader.GetFieldValue<byte[]>(2);
        var emailEnc = reader.IsDBNull(3) ? null : reader.GetFieldValue<byte[]>(3);
        var journey = JsonDocument.Parse(reader.GetString(4)).RootElement.Clone();
        var created = reader.GetFieldValue<DateTimeOffset>(5);
        DateTimeOffset? erased = reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6);
        var ids = reader.GetFieldValue<string[]>(7).Select(s => s.Split('|', 2)).Select(p => new ExternalIdView(p[0], p[1])).ToList();
        var programs = reader.GetFieldValue<string[]>(8);
        await reader.DisposeAsync();
        var keyring = await vault.KeyringAsync(conn, null, tenant, [personId], "profile-view", "api:tenant-key", ct);
        var profile = new PersonProfile(personId, company, role, keyring.Read(personId, "name", nameEnc), keyring.Read(personId, "email", emailEnc), journey,
            ids, programs, created, erased);
        await keyring.FlushAsync(conn, null, ct);
        return profile;
    }
}
