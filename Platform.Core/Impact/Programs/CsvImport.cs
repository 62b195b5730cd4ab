using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Impact.Privacy;
using Platform.Core.Jobs;

namespace Platform.Core.Impact.Programs;

/// <summary>One CSV record with the line it starts on (the header is line 1).</summary>
public sealed record CsvRow(int Line, IReadOnlyList<string> Fields);

/// <summary>RFC 4180 reader: quoted fields may hold commas, quotes ("") and line breaks.</summary>
public static class Csv
{
    public static List<CsvRow> Parse(string text)
    {
        var rows = new List<CsvRow>();
        var fields = new List<string>();
        var field = new StringBuilder();
        int line = 1, start = 1, i = 0;
        var quoted = false;
        var any = false;
        while (i < text.Length)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i += 2; continue; }
                if (c == '"') { quoted = false; i++; continue; }
                if (c == '\n') { line++; }
                field.Append(c);
                i++;
                continue;
            }
            switch (c)
            {
                case '"' when field.Length == 0: quoted = true; any = true; break;
                case ',': fields.Add(field.ToString()); field.Clear(); any = true; break;
                case '\r': break;
                case '\n':
                    fields.Add(field.ToString()); field.Clear();
                    if (any || fields.Count > 1 || fields[0].Length > 0) { rows.Add(new CsvRow(start, fields.ToArray())); }
                    fields.Clear(); any = false; line++; start = line;
                    break;
                default: field.Append(c); any = true; break;
            }
            i++;
        }
        if (any || field.Length > 0 || fields.Count > 0)
        {
            fields.Add(field.ToString());
            rows.Add(new CsvRow(start, fields.ToArray()));
        }
        return rows;
    }
}

public sealed record ImportError(int Line, string Column, string Message);

public sealed record ImportReport(Guid ImportId, Guid CompanyId, string Kind, string FileSha256, int Rows, int Imported, int Unchanged, int Rejected,
    IReadOnlyList<ImportError> Errors, int TextsQueuedForScoring, bool Duplicate, DateTimeOffset ImportedAt);

/// <summary>A whole-file problem (no header, unknown kind, missing columns): nothing is imported.</summary>
public sealed class ImportFormatException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}

/// <summary>
/// CSV import per kind (column formats in docs/impact.md). Every row is validated; a bad row is reported with
/// its line and column and skipped, every valid row is committed in one transaction with the report. The same
/// file again (same SHA-256) returns the stored report without touching anything, and rows carry connector ids,
/// so overlapping files do not duplicate either.
/// </summary>
public sealed class ImpactImports(NpgsqlDataSource dataSource, PiiVault vault, IJobQueue jobs)
{
    public static readonly IReadOnlyDictionary<string, string[]> Columns = new Dictionary<string, string[]>
    {
        ["participants"] = ["source", "external_id", "role", "name", "email", "program", "enrolled_at"],
        ["sessions"] = ["source", "session_id", "program", "participant_id", "volunteer_id", "date", "minutes"],
        ["checkins"] = ["source", "checkin_id", "participant_id", "date", "mood", "note"],
        ["feedback"] = ["source", "feedback_id", "from_id", "about_id", "date", "rating", "text"],
        ["courses"] = ["source", "record_id", "participant_id", "course", "progress", "completed_at", "credential"],
    };

    /// <summary>Columns that may be empty.</summary>
    private static readonly HashSet<string> Optional = ["name", "email", "program", "enrolled_at", "volunteer_id", "note", "about_id", "completed_at", "credential", "text"];

    public const int MaxRows = 100_000;

    public async Task<ImportReport> ImportAsync(Guid tenantId, Guid companyId, string kind, string csv, CancellationToken ct)
    {
        if (!Columns.TryGetValue(kind, out var columns))
        {
            throw new ImportFormatException("kind", $"kind must be one of {string.Join(", ", Columns.Keys)}.");
        }
        var sha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(csv.Replace("\r\n", "\n", StringComparison.Ordinal))));
        await using var conn = await dataSource.OpenForTenantAsync(tenantId, ct);
        if (await StoredReportAsync(conn, null, tenantId, companyId, kind, sha, ct) is { } earlier)
        {
            return earlier with { Duplicate = true };
        }
        var rows = Csv.Parse(csv);
        if (rows.Count == 0)
        {
            throw new ImportFormatException("body", $"The file is empty; the first line must be the header: {string.Join(",", columns)}.");
        }
        var header = rows[0].Fields.Select(h => h.Trim().ToLowerInvariant()).ToArray();
        var missing = columns.Where(c => !header.Contains(c)).ToArray();
        if (missing.Length > 0)
        {
            throw new ImportFormatException("header", $"Line 1: missing column(s) {string.Join(", ", missing)}; a {kind} file has {string.Join(",", columns)}.");
        }
        if (rows.Count - 1 > MaxRows)
        {
            throw new ImportFormatException("body", $"At most {MaxRows} rows per file; split it.");
        }
        var at = columns.ToDictionary(c => c, c => Array.IndexOf(header, c));

        await using var tx = await conn.BeginTransactionAsync(ct);
        // Two imports of the same file at once: the second waits here and then finds the first one's report.
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", conn, tx))
        {
            lockCmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"impact-import:{tenantId}:{companyId}:{kind}:{sha}" });
            await lockCmd.ExecuteNonQueryAsync(ct);
        }
        if (await StoredReportAsync(conn, tx, tenantId, companyId, kind, sha, ct) is { } raced)
        {
            return raced with { Duplicate = true };
        }
        var ingest = new ProgramIngest(conn, tx, vault, tenantId, companyId);
        var errors = new List<ImportError>();
        int imported = 0, unchanged = 0;
        foreach (var row in rows.Skip(1))
        {
            var values = new Dictionary<string, string>();
            string? rowError = null;
            if (row.Fields.Count != header.Length)
            {
                errors.Add(new ImportError(row.Line, "*", $"expected {header.Length} fields, found {row.Fields.Count}."));
                continue;
            }
            foreach (var c in columns)
            {
                values[c] = row.Fields[at[c]].Trim();
                if (values[c].Length == 0 && !Optional.Contains(c))
                {
                    rowError ??= c;
                }
            }
            if (rowError is not null)
            {
                errors.Add(new ImportError(row.Line, rowError, $"{rowError} is required."));
                continue;
            }
            var (result, column) = await ImportRowAsync(ingest, kind, values, ct);
            if (result.Failed)
            {
                errors.Add(new ImportError(row.Line, column ?? "*", result.Error!));
            }
            else if (result.Outcome == IngestOutcome.Inserted)
            {
                imported++;
            }
            else
            {
                unchanged++;
            }
        }
        var queued = await ingest.QueueScoringAsync(jobs, ct);
        var report = new ImportReport(Guid.CreateVersion7(), companyId, kind, sha, rows.Count - 1, imported, unchanged, errors.Count, errors, queued, false,
            DateTimeOffset.UtcNow);
        await using (var save = new NpgsqlCommand(
            "INSERT INTO impact.imports (id, tenant_id, company_id, kind, file_sha256, report) VALUES ($1, $2, $3, $4, $5, $6::jsonb)", conn, tx))
        {
            save.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = report.ImportId });
            save.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
            save.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = companyId });
            save.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind });
            save.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sha });
            save.Parameters.Add(new NpgsqlParameter<string> { TypedValue = JsonSerializer.Serialize(report, JsonSerializerOptions.Web) });
            await save.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return report;
    }

    private static async Task<(IngestResult Result, string? Column)> ImportRowAsync(ProgramIngest ingest, string kind, Dictionary<string, string> v,
        CancellationToken ct)
    {
        if (!ValidSource(v["source"]))
        {
            return (IngestResult.Fail("source must be 1–40 lower-case letters, digits or '-'."), "source");
        }
        switch (kind)
        {
            case "participants":
                if (!PersonRoles.IsValid(v["role"])) { return (IngestResult.Fail("role must be participant or volunteer."), "role"); }
                if (v["program"].Length > 0 && !ImpactPrograms.IsValid(v["program"])) { return (BadProgram(), "program"); }
                if (v["email"].Length > 0 && (!v["email"].Contains('@') || v["email"].Length > 320)) { return (IngestResult.Fail("email is not an e-mail address."), "email"); }
                if (!OptionalDate(v["enrolled_at"], out var enrolled)) { return (BadDate("enrolled_at"), "enrolled_at"); }
                return (await ingest.PersonAsync(new PersonRecord(v["source"], v["external_id"], v["role"], Empty(v["name"]), Empty(v["email"]),
                    Empty(v["program"]), enrolled), ct), "external_id");
            case "sessions":
                if (!ImpactPrograms.IsValid(v["program"])) { return (BadProgram(), "program"); }
                if (!TryDate(v["date"], out var date)) { return (BadDate("date"), "date"); }
                if (!int.TryParse(v["minutes"], NumberStyles.None, CultureInfo.InvariantCulture, out var minutes) || minutes > 1440)
                {
                    return (IngestResult.Fail("minutes must be a whole number from 0 to 1440."), "minutes");
                }
                var session = await ingest.SessionAsync(new SessionRecord(v["source"], v["session_id"], v["program"], v["participant_id"],
                    Empty(v["volunteer_id"]), date, minutes), ct);
                return (session, session.Error?.StartsWith("volunteer_id", StringComparison.Ordinal) == true ? "volunteer_id" : "participant_id");
            case "checkins":
                if (!TryDate(v["date"], out var checkedIn)) { return (BadDate("date"), "date"); }
                if (!int.TryParse(v["mood"], NumberStyles.None, CultureInfo.InvariantCulture, out var mood) || mood is < 1 or > 5)
                {
                    return (IngestResult.Fail("mood must be a whole number from 1 to 5."), "mood");
                }
                if (v["note"].Length > 10_000) { return (IngestResult.Fail("note is longer than 10,000 characters."), "note"); }
                return (await ingest.TextAsync(new TextRecord(v["source"], v["checkin_id"], "checkin", v["participant_id"], null, checkedIn, mood, null,
                    Empty(v["note"])), ct), "participant_id");
            case "feedback":
                if (!TryDate(v["date"], out var given)) { return (BadDate("date"), "date"); }
                if (!decimal.TryParse(v["rating"], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var rating) || rating > 1)
                {
                    return (IngestResult.Fail("rating must be a number from 0 to 1."), "rating");
                }
                if (v["text"].Length > 10_000) { return (IngestResult.Fail("text is longer than 10,000 characters."), "text"); }
                var feedback = await ingest.TextAsync(new TextRecord(v["source"], v["feedback_id"], "feedback", v["from_id"], Empty(v["about_id"]), given,
                    null, Math.Round(rating, 3), Empty(v["text"])), ct);
                return (feedback, feedback.Error?.StartsWith("about_id", StringComparison.Ordinal) == true ? "about_id" : "from_id");
            default: // courses
                if (!decimal.TryParse(v["progress"], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var progress) || progress > 1)
                {
                    return (IngestResult.Fail("progress must be a number from 0 to 1."), "progress");
                }
                if (!OptionalDate(v["completed_at"], out var completed)) { return (BadDate("completed_at"), "completed_at"); }
                if (completed is not null && progress < 1) { return (IngestResult.Fail("completed_at is set but progress is below 1."), "progress"); }
                return (await ingest.CourseAsync(new CourseRecord(v["source"], v["record_id"], v["participant_id"], v["course"], Math.Round(progress, 3),
                    completed, Empty(v["credential"])), ct), "participant_id");
        }
    }

    public static bool ValidSource(string s) => s.Length is > 0 and <= 40 && s.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');

    private static IngestResult BadProgram() => IngestResult.Fail($"program must be one of {string.Join(", ", ImpactPrograms.All)}.");

    private static IngestResult BadDate(string column) => IngestResult.Fail($"{column} must be an ISO 8601 date (2026-03-14) or date-time with offset.");

    private static string? Empty(string s) => s.Length == 0 ? null : s;

    public static bool TryDate(string s, out DateTimeOffset value)
    {
        if (DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
        {
            value = new DateTimeOffset(d.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero);
            return true;
        }
        return DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value) && s.Contains('T');
    }

    private static bool OptionalDate(string s, out DateTimeOffset? value)
    {
        value = null;
        if (s.Length == 0)
        {
            return true;
        }
        if (TryDate(s, out var d))
        {
            value = d;
            return true;
        }
        return false;
    }

    private static async Task<ImportReport?> StoredReportAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Guid tenantId, Guid companyId, string kind,
        string sha, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            "SELECT report::text FROM impact.imports WHERE tenant_id = $1 AND company_id = $2 AND kind = $3 AND file_sha256 = $4", conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = companyId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sha });
        return await cmd.ExecuteScalarAsync(ct) is string json ? JsonSerializer.Deserialize<ImportReport>(json, JsonSerializerOptions.Web) : null;
    }
}
