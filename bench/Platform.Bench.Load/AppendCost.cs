using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Platform.Bench.Load;

/// <summary>
/// append-cost: what the message search index adds to an append, in PostgreSQL alone. In a scratch database, two
/// copies of the activities table with its keys and unique indexes, one of them also with the search columns (the
/// per-row text search configuration set by a BEFORE INSERT trigger, the generated tsvector and its GIN index) as the
/// search migration defines them, and pgbench running the append's statement shape (bump the conversation's last_seq,
/// insert the activity with it, one implicit transaction) against each in turn, alternating so drift of a shared
/// machine falls on both; plus the single-row INSERT limit in the same run.
/// </summary>
public static class AppendCost
{
    private const string Schema = """
        CREATE TABLE conversations (n int PRIMARY KEY, id uuid NOT NULL, tenant_id uuid NOT NULL, last_seq bigint NOT NULL DEFAULT 0);
        INSERT INTO conversations SELECT g, gen_random_uuid(), '00000000-0000-0000-0000-000000000001' FROM generate_series(1, 100) g;
        CREATE TABLE search_settings (tenant_id uuid PRIMARY KEY, text_search_config regconfig NOT NULL);
        CREATE FUNCTION search_config_for(tenant uuid) RETURNS regconfig LANGUAGE sql STABLE PARALLEL SAFE AS $$
            SELECT coalesce((SELECT text_search_config FROM search_settings WHERE tenant_id = tenant), 'simple'::regconfig) $$;
        CREATE FUNCTION fill_search_config() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN NEW.search_config := search_config_for(NEW.tenant_id); RETURN NEW; END $$;
        CREATE TABLE plain (
            conversation_id uuid NOT NULL, seq bigint NOT NULL CHECK (seq > 0), tenant_id uuid NOT NULL, id text NOT NULL,
            type text NOT NULL CHECK (type IN ('message', 'event')), from_id text NOT NULL, from_name text, from_role text, text text,
            attachments jsonb, entities jsonb, reply_to_id text, name text, value json, channel_data json, client_activity_id text,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (conversation_id, seq));
        CREATE UNIQUE INDEX plain_public_id ON plain (id);
        CREATE UNIQUE INDEX plain_client_id ON plain (conversation_id, client_activity_id) WHERE client_activity_id IS NOT NULL;
        CREATE TABLE searched (LIKE plain INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
        ALTER TABLE searched ADD PRIMARY KEY (conversation_id, seq);
        CREATE UNIQUE INDEX searched_public_id ON searched (id);
        CREATE UNIQUE INDEX searched_client_id ON searched (conversation_id, client_activity_id) WHERE client_activity_id IS NOT NULL;
        ALTER TABLE searched ADD COLUMN search_config regconfig NOT NULL DEFAULT 'simple';
        ALTER TABLE searched ADD COLUMN search_tsv tsvector
            GENERATED ALWAYS AS (CASE WHEN type = 'message' THEN to_tsvector(search_config, coalesce(text, '')) END) STORED;
        CREATE INDEX searched_search ON searched USING gin (search_tsv);
        CREATE TRIGGER searched_search_config BEFORE INSERT ON searched FOR EACH ROW EXECUTE FUNCTION fill_search_config();
        CREATE TABLE activity_like (id bigserial PRIMARY KEY, conversation_id uuid NOT NULL, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
        """;

    // A chat message of typical length with a client id, as the api scenario posts.
    private static string AppendScript(string table) => $"""
        \set c random(1, 100)
        WITH b AS (UPDATE conversations SET last_seq = last_seq + 1 WHERE n = :c RETURNING id, tenant_id, last_seq)
        INSERT INTO {table} (conversation_id, seq, tenant_id, id, type, from_id, from_name, text, client_activity_id)
        SELECT b.id, b.last_seq, b.tenant_id, b.id::text || '-' || b.last_seq, 'message', 'user-7', 'User Seven',
               'Shall we move the planning meeting to Thursday afternoon? The room on the second floor is free after three.',
               'c-' || b.last_seq FROM b RETURNING seq, id, created_at;
        """;

    public static async Task<int> RunAsync(Args a)
    {
        var smoke = a.Has("smoke");
        var rep = new Report("append-cost", smoke, a);
        var clients = a.Int("clients", smoke ? 4 : 32);
        var seconds = a.Int("seconds", smoke ? 1 : 10);
        var rounds = a.Int("rounds", smoke ? 1 : 3);
        rep.Parameters["clients"] = clients;
        rep.Parameters["secondsPerPhase"] = seconds;
        rep.Parameters["rounds"] = rounds;
        rep.Parameters["order"] = "per round: with search, with search prepared, without, single-row INSERT, without, with search prepared, with search";
        rep.Parameters["protocol"] = "pgbench -M simple (parsed and planned every time, as an unprepared statement is) unless the phase says prepared (-M prepared: parsed and planned once per connection)";

        var db = new Uri(Environment.GetEnvironmentVariable("DATABASE_URL") ?? throw new InvalidOperationException("DATABASE_URL is not set"));
        string[] conn = ["-h", db.Host, "-p", db.Port.ToString(CultureInfo.InvariantCulture), "-U", Uri.UnescapeDataString(db.UserInfo.Split(':')[0])];
        if (db.UserInfo.Split(':') is [_, var pw])
        {
            Environment.SetEnvironmentVariable("PGPASSWORD", Uri.UnescapeDataString(pw));
        }
        var scratch = "bench_append_" + Guid.NewGuid().ToString("N")[..8];
        var dir = Directory.CreateTempSubdirectory(scratch).FullName;
        var scripts = new Dictionary<string, string>
        {
            ["with search"] = Path.Combine(dir, "searched.sql"),
            ["with search, prepared"] = Path.Combine(dir, "searched.sql"),
            ["without search"] = Path.Combine(dir, "plain.sql"),
            ["single-row INSERT"] = Path.Combine(dir, "insert.sql"),
        };
        await File.WriteAllTextAsync(scripts["with search"], AppendScript("searched"));
        await File.WriteAllTextAsync(scripts["without search"], AppendScript("plain"));
        await File.WriteAllTextAsync(scripts["single-row INSERT"], "INSERT INTO activity_like (conversation_id, body) VALUES (gen_random_uuid(), 'bench message');\n");
        var tps = scripts.Keys.ToDictionary(k => k, _ => new List<double>());
        // PostgreSQL's CPU per transaction in each phase (its backends' and pgbench's time, from /proc).
        var cpu = scripts.Keys.ToDictionary(k => k, _ => (PostgresMs: 0.0, Transactions: 0L));
        try
        {
            await Scenarios.RunAsync("psql", [.. conn, "-d", db.AbsolutePath.Trim('/'), "-v", "ON_ERROR_STOP=1", "-qc", $"CREATE DATABASE {scratch}"]);
            await Scenarios.RunAsync("psql", [.. conn, "-d", scratch, "-v", "ON_ERROR_STOP=1", "-qc", Schema]);
            for (var round = 1; round <= rounds; round++)
            {
                foreach (var phase in new[] { "with search", "with search, prepared", "without search", "single-row INSERT", "without search", "with search, prepared", "with search" })
                {
                    Console.WriteLine($"append-cost round {round}: {phase}, {clients} clients, {seconds}s");
                    var before = CpuSnapshot.Take();
                    var pg = await Scenarios.RunAsync("pgbench", [.. conn, "-n", "-c", clients.ToString(CultureInfo.InvariantCulture), "-j", "2",
                        "-M", phase.EndsWith("prepared", StringComparison.Ordinal) ? "prepared" : "simple",
                        "-T", seconds.ToString(CultureInfo.InvariantCulture), "-f", scripts[phase], scratch]);
                    var used = CpuSnapshot.Take().MillisecondsSince(before);
                    var m = Regex.Match(pg, @"tps = ([0-9.]+) \(without initial connection time\)");
                    tps[phase].Add(m.Success ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0);
                    var done = Regex.Match(pg, @"number of transactions actually processed: ([0-9]+)");
                    if (done.Success)
                        cpu[phase] = (cpu[phase].PostgresMs + used.GetValueOrDefault("postgresql"), cpu[phase].Transactions + long.Parse(done.Groups[1].Value, CultureInfo.InvariantCulture));
                }
            }
            var rows = (await Scenarios.RunAsync("psql", [.. conn, "-d", scratch, "-tAc",
                "SELECT (SELECT count(*) FROM plain) || ' ' || (SELECT count(*) FROM searched) || ' ' || pg_relation_size('searched_search') || ' ' || (SELECT count(*) FROM searched WHERE search_tsv IS NULL)"])).Trim().Split(' ');
            rep.Results["rowsWithoutSearch"] = long.Parse(rows[0], CultureInfo.InvariantCulture);
            rep.Results["rowsWithSearch"] = long.Parse(rows[1], CultureInfo.InvariantCulture);
            rep.Results["ginIndexBytes"] = long.Parse(rows[2], CultureInfo.InvariantCulture);
            rep.Results["rowsWithSearchButNoVector"] = long.Parse(rows[3], CultureInfo.InvariantCulture);
        }
        finally
        {
            try { await Scenarios.RunAsync("psql", [.. conn, "-d", db.AbsolutePath.Trim('/'), "-qc", $"DROP DATABASE IF EXISTS {scratch}"]); } catch (Exception e) { Console.WriteLine(e.Message); }
            Directory.Delete(dir, recursive: true);
        }

        var with = tps["with search"].Average();
        var without = tps["without search"].Average();
        var insert = tps["single-row INSERT"].Average();
        rep.Results["appendWithSearchTps"] = Stats.R(with, 1);
        rep.Results["appendWithoutSearchTps"] = Stats.R(without, 1);
        rep.Results["singleRowInsertTps"] = Stats.R(insert, 1);
        // The share of an append's database time that the search columns take: 1 − (time without ÷ time with).
        rep.Results["searchShareOfAppend"] = without > 0 ? Stats.R(1 - with / without, 3) : null;
        var prepared = tps["with search, prepared"].Average();
        rep.Results["appendWithSearchPreparedTps"] = Stats.R(prepared, 1);
        rep.Results["postgresCpuMsPerTransaction"] = new JsonObject(cpu.Select(kv => KeyValuePair.Create(kv.Key,
            (JsonNode?)Stats.R(kv.Value.Transactions > 0 ? kv.Value.PostgresMs / kv.Value.Transactions : double.NaN, 4))));
        rep.Ratios["appendPreparedToInsert"] = insert > 0 ? Stats.R(prepared / insert, 3) : null;
        rep.Limits["pgbenchInsertTps"] = Stats.R(insert, 1);
        rep.Ratios["appendWithSearchToInsert"] = insert > 0 ? Stats.R(with / insert, 3) : null;
        rep.Ratios["appendWithoutSearchToInsert"] = insert > 0 ? Stats.R(without / insert, 3) : null;
        rep.Table(["statement (pgbench, same run)", "transactions/s (mean)", "each phase", "÷ single-row INSERT", "PostgreSQL CPU ms per transaction"],
            scripts.Keys.Select(k => new object?[]
            {
                k, Stats.R(tps[k].Average(), 1), string.Join(", ", tps[k].Select(t => t.ToString("0", CultureInfo.InvariantCulture))),
                insert > 0 ? Stats.R(tps[k].Average() / insert, 3) : null,
                Stats.R(cpu[k].Transactions > 0 ? cpu[k].PostgresMs / cpu[k].Transactions : double.NaN, 4),
            }));
        rep.Chart("bar", "Append in PostgreSQL with and without the message search index", "statement", "transactions/s",
            [("tps", scripts.Keys.Select(k => ((object)k, tps[k].Average())))]);
        rep.Write();
        return with > 0 && without > 0 ? 0 : 1;
    }
}
