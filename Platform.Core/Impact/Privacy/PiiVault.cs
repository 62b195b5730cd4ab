using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Npgsql;
using NpgsqlTypes;

namespace Platform.Core.Impact.Privacy;

/// <summary>
/// Envelope encryption for personal data. Every person has a random 256-bit data key, stored only wrapped
/// (AES-GCM) by the master key <c>Platform:Impact:MasterKey</c>; names, e-mails and free text are AES-GCM
/// ciphertext under that data key. Erasure destroys the wrapped key, so every copy of the ciphertext —
/// backups included — becomes unreadable without touching it (crypto-shredding).
/// </summary>
public sealed class PiiVault
{
    public const string ConfigKey = "Platform:Impact:MasterKey";
    private const int NonceSize = 12, TagSize = 16;
    private readonly byte[]? _master;
    private readonly byte[]? _indexKey;

    public PiiVault(IConfiguration configuration)
    {
        var configured = configuration[ConfigKey];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            // A base64 value of 32 bytes is used as is; any other string is a passphrase hashed to 32 bytes.
            _master = TryBase64(configured) is { Length: 32 } raw ? raw : SHA256.HashData(Encoding.UTF8.GetBytes(configured));
            _indexKey = HMACSHA256.HashData(_master, "impact/email-index/v1"u8);
        }
    }

    private byte[] Master => _master ?? throw new InvalidOperationException(
        $"Personal data cannot be encrypted: set {ConfigKey} (a base64 256-bit key; ./platform.sh generates one).");

    /// <summary>Blind index of an e-mail: equal addresses give equal bytes, the address cannot be read back.</summary>
    public byte[] EmailIndex(string email) =>
        HMACSHA256.HashData(_indexKey ?? Master, Encoding.UTF8.GetBytes(email.Trim().ToLowerInvariant()));

    public byte[] NewDataKey() => RandomNumberGenerator.GetBytes(32);

    public byte[] Wrap(byte[] dataKey, Guid personId) => Seal(Master, dataKey, personId);

    public byte[] Unwrap(byte[] wrapped, Guid personId) => Open(Master, wrapped, personId);

    public byte[] WrapSecret(string secret, Guid tenantId) => Seal(Master, Encoding.UTF8.GetBytes(secret), tenantId);

    public string UnwrapSecret(byte[] wrapped, Guid tenantId) => Encoding.UTF8.GetString(Open(Master, wrapped, tenantId));

    /// <summary>
    /// Seals a received domain-event envelope until it is applied, under a key derived from the master key for this
    /// purpose only, bound to the tenant (a sealed envelope cannot be moved to another tenant).
    /// </summary>
    public byte[] SealEnvelope(string json, Guid tenantId) => Seal(EnvelopeKey, Encoding.UTF8.GetBytes(json), tenantId);

    public string OpenEnvelope(byte[] sealedEnvelope, Guid tenantId) => Encoding.UTF8.GetString(Open(EnvelopeKey, sealedEnvelope, tenantId));

    private byte[] EnvelopeKey => HMACSHA256.HashData(Master, "impact/domain-events/v1"u8);

    /// <summary>Whether a master key is configured (without one nothing can be sealed or opened).</summary>
    public bool HasKey => _master is not null;

    /// <summary>
    /// Seals an outbound notification webhook's signing secret, which must stay recoverable to sign every delivery (so
    /// it cannot be hashed), under a key derived from the master key for this purpose only, bound to the endpoint (a
    /// sealed secret copied to another endpoint's row does not open).
    /// </summary>
    public byte[] SealWebhookSecret(string secret, Guid endpointId) => Seal(WebhookSecretKey, Encoding.UTF8.GetBytes(secret), endpointId);

    public string OpenWebhookSecret(byte[] sealedSecret, Guid endpointId) => Encoding.UTF8.GetString(Open(WebhookSecretKey, sealedSecret, endpointId));

    private byte[] WebhookSecretKey => HMACSHA256.HashData(Master, "notifications/webhook-secrets/v1"u8);

    /// <summary>
    /// Seals a tenant's client secret at an external OpenID provider (it is presented to the provider at every sign-in,
    /// so it cannot be hashed), under a key derived from the master key for this purpose only, bound to the provider row.
    /// </summary>
    public byte[] SealProviderSecret(string secret, Guid providerId) => Seal(ProviderSecretKey, Encoding.UTF8.GetBytes(secret), providerId);

    public string OpenProviderSecret(byte[] sealedSecret, Guid providerId) => Encoding.UTF8.GetString(Open(ProviderSecretKey, sealedSecret, providerId));

    private byte[] ProviderSecretKey => HMACSHA256.HashData(Master, "identity/provider-secrets/v1"u8);

    public static byte[] Encrypt(byte[] dataKey, string plaintext, Guid personId) => Seal(dataKey, Encoding.UTF8.GetBytes(plaintext), personId);

    public static string Decrypt(byte[] dataKey, byte[] ciphertext, Guid personId) => Encoding.UTF8.GetString(Open(dataKey, ciphertext, personId));

    /// <summary>nonce ‖ tag ‖ ciphertext; the person id is the associated data, so ciphertext cannot be moved between people.</summary>
    private static byte[] Seal(byte[] key, byte[] plaintext, Guid associated)
    {
        var output = new byte[NonceSize + TagSize + plaintext.Length];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plaintext, output.AsSpan(NonceSize + TagSize), output.AsSpan(NonceSize, TagSize), associated.ToByteArray());
        return output;
    }

    private static byte[] Open(byte[] key, byte[] sealedBytes, Guid associated)
    {
        var plaintext = new byte[sealedBytes.Length - NonceSize - TagSize];
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(sealedBytes.AsSpan(0, NonceSize), sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize), plaintext,
            associated.ToByteArray());
        return plaintext;
    }

    private static byte[]? TryBase64(string value)
    {
        var buffer = new byte[value.Length];
        return Convert.TryFromBase64String(value, buffer, out var n) ? buffer[..n] : null;
    }

    /// <summary>Creates and stores a person's data key inside the caller's transaction.</summary>
    public async Task<byte[]> CreateKeyAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid tenantId, Guid personId, CancellationToken ct)
    {
        var key = NewDataKey();
        await using var cmd = new NpgsqlCommand("INSERT INTO impact.person_keys (person_id, tenant_id, wrapped_key) VALUES ($1, $2, $3)", conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = personId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = Wrap(key, personId) });
        await cmd.ExecuteNonQueryAsync(ct);
        return key;
    }

    /// <summary>Opens a keyring for one operation: every read through it is logged (see <see cref="PiiKeyring.FlushAsync"/>).</summary>
    public async Task<PiiKeyring> KeyringAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Guid tenantId, IReadOnlyCollection<Guid> personIds,
        string purpose, string actor, CancellationToken ct)
    {
        var wrapped = new List<(Guid, byte[]?)>();
        await using (var cmd = new NpgsqlCommand("SELECT person_id, wrapped_key FROM impact.person_keys WHERE tenant_id = $1 AND person_id = ANY($2)", conn, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = personIds.Distinct().ToArray() });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                wrapped.Add((reader.GetGuid(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<byte[]>(1)));
            }
        }
        return Keyring(tenantId, wrapped, purpose, actor);
    }

    /// <summary>
    /// A keyring over wrapped keys the caller has already read (joined into its own query): each person's
    /// <c>impact.person_keys</c> row as (person, wrapped key, or null once destroyed); a person without a row has no key.
    /// </summary>
    public PiiKeyring Keyring(Guid tenantId, IEnumerable<(Guid Person, byte[]? WrappedKey)> wrappedKeys, string purpose, string actor)
    {
        var keys = new Dictionary<Guid, byte[]?>();
        foreach (var (person, wrapped) in wrappedKeys)
        {
            if (!keys.ContainsKey(person))
            {
                keys[person] = wrapped is null ? null : Unwrap(wrapped, person);
            }
        }
        return new PiiKeyring(tenantId, keys, purpose, actor);
    }
}

/// <summary>Data keys for one operation and the access log it owes: each <see cref="Read"/> becomes one governance.pii_access_log row.</summary>
public sealed class PiiKeyring(Guid tenantId, Dictionary<Guid, byte[]?> keys, string purpose, string actor)
{
    private readonly List<(Guid Subject, string Field, string Outcome)> _log = [];

    public bool CanRead(Guid personId) => keys.TryGetValue(personId, out var k) && k is not null;

    public byte[]? KeyOf(Guid personId) => keys.TryGetValue(personId, out var k) ? k : null;

    /// <summary>The plaintext, or null when there is none or the key was destroyed (logged as unreadable).</summary>
    public string? Read(Guid personId, string field, byte[]? ciphertext)
    {
        if (ciphertext is null)
        {
            return null;
        }
        if (KeyOf(personId) is not { } key)
        {
            _log.Add((personId, field, "unreadable"));
            return null;
        }
        _log.Add((personId, field, "read"));
        return PiiVault.Decrypt(key, ciphertext, personId);
    }

    public void Record(Guid personId, string field, string outcome) => _log.Add((personId, field, outcome));

    public int PendingLogEntries => _log.Count;

    private const string LogInsert = """
        INSERT INTO governance.pii_access_log (tenant_id, subject_id, field, purpose, actor, outcome)
        SELECT $1, s, f, $4, $5, o FROM unnest($2::uuid[], $3::text[], $6::text[]) AS t(s, f, o)
        """;

    /// <summary>Writes the owed access-log rows (one statement), in the caller's transaction when given.</summary>
    public async Task FlushAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, CancellationToken ct)
    {
        if (_log.Count == 0)
        {
            return;
        }
        await using var cmd = new NpgsqlCommand(LogInsert, conn, tx);
        AddLogParameters(cmd.Parameters);
        await cmd.ExecuteNonQueryAsync(ct);
        _log.Clear();
    }

    /// <summary>
    /// Adds the owed access-log rows to <paramref name="batch"/> as one statement (written when the batch runs, so in its
    /// transaction); the keyring then owes nothing. Nothing is added when nothing was read.
    /// </summary>
    public void FlushInto(NpgsqlBatch batch)
    {
        if (_log.Count == 0)
        {
            return;
        }
        var cmd = new NpgsqlBatchCommand(LogInsert);
        AddLogParameters(cmd.Parameters);
        batch.BatchCommands.Add(cmd);
        _log.Clear();
    }

    private void AddLogParameters(NpgsqlParameterCollection parameters)
    {
        parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = _log.Select(l => l.Subject).ToArray() });
        parameters.Add(new NpgsqlParameter<string[]> { TypedValue = _log.Select(l => l.Field).ToArray() });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = purpose });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = actor });
        parameters.Add(new NpgsqlParameter<string[]> { TypedValue = _log.Select(l => l.Outcome).ToArray() });
    }
}

internal static class Db
{
    public static NpgsqlParameter Nullable(object? value, NpgsqlDbType type) => new() { Value = value ?? DBNull.Value, NpgsqlDbType = type };
}
