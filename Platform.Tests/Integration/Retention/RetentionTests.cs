using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Core.Data;
using Platform.Core.Retention;
using Platform.Tests.Integration.Conversations;

namespace Platform.Tests.Integration.Retention;

/// <summary>
/// Per-tenant retention on a real PostgreSQL: the sweep runs as the services' role, removes only what is past each
/// tenant's own horizon, leaves other tenants alone, records what it did, and a second run finds nothing more.
/// </summary>
public sealed class RetentionTests(ConversationsFixture fx) : IClassFixture<ConversationsFixture>
{
    private NpgsqlDataSource ServiceData => fx.Api.Services.GetRequiredService<NpgsqlDataSource>();

    [Fact]
    public async Task Old_rows_of_each_class_go_recent_ones_stay_and_another_tenant_on_defaults_is_untouched()
    {
        var a = await fx.CreateWorldAsync("retention-a");
        var b = await fx.CreateWorldAsync("retention-b");
        foreach (var world in new[] { a, b })
        {
            // 100 days old: past a 30-day horizon, within every default (the shortest default is 180 days).
            await SeedAsync(world, TimeSpan.FromDays(100));
            foreach (var text in new[] { "recent one", "recent two" })
            {
                var posted = await fx.Client(world.Tenant.ApiKey).PostAsJsonAsync($"/v1/conversations/{world.Conversation}/activities",
                    ConversationsFixture.Message(text));
                Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
            }
        }
        var op = fx.Client(TestSettings.OperatorKey);
        foreach (var dataClass in new[] { "messages", "community_signals", "notification_records", "civic" })
        {
            var put = await op.PutAsJsonAsync($"/v1/admin/tenants/{a.Tenant.Id}/retention/{dataClass}", new { keepDays = 30 });
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            var setting = await ConversationsFixture.Json(put);
            Assert.Equal(30, setting.GetProperty("keepDays").GetInt32());
            Assert.False(setting.GetProperty("isDefault").GetBoolean());
        }

        var sweeper = fx.Api.Services.GetRequiredService<RetentionSweeper>();
        var runs = await sweeper.SweepAsync(null, CancellationToken.None);

        // Tenant A: the old rows of every class are gone, the recent ones and the live old profile stay.
        Assert.Equal(2, await CountAsync("SELECT count(*) FROM core.activities WHERE tenant_id = $1", a.Tenant.Id));
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM core.activities WHERE tenant_id = $1 AND text LIKE 'old %'", a.Tenant.Id));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM community.signals WHERE tenant_id = $1", a.Tenant.Id));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = $1", a.Tenant.Id));
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM ops.notification_attempts WHERE tenant_id = $1", a.Tenant.Id));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM civic.processing_runs WHERE tenant_id = $1", a.Tenant.Id));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM civic.profiles WHERE tenant_id = $1", a.Tenant.Id));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM civic.profiles WHERE tenant_id = $1 AND deleted_at IS NULL", a.Tenant.Id));
        // The watermark stays: new activities continue after the highest seq ever given.
        Assert.Equal(5, await CountAsync("SELECT last_seq FROM core.conversations WHERE id = $1", a.Conversation));

        // Tenant B keeps the defaults: nothing of it was touched.
        Assert.Equal(5, await CountAsync("SELECT count(*) FROM core.activities WHERE tenant_id = $1", b.Tenant.Id));
        Assert.Equal(2, await CountAsync("SELECT count(*) FROM community.signals WHERE tenant_id = $1", b.Tenant.Id));
        Assert.Equal(2, await CountAsync("SELECT count(*) FROM ops.notification_outbox WHERE tenant_id = $1", b.Tenant.Id));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM ops.notification_attempts WHERE tenant_id = $1", b.Tenant.Id));
        Assert.Equal(2, await CountAsync("SELECT count(*) FROM civic.processing_runs WHERE tenant_id = $1", b.Tenant.Id));
        Assert.Equal(2, await CountAsync("SELECT count(*) FROM civic.profiles WHERE tenant_id = $1", b.Tenant.Id));
        Assert.DoesNotContain(runs, r => r.TenantId == b.Tenant.Id);

        // The ledger says what went, per class, and the operator reads it.
        var ledger = await ConversationsFixture.Json(await op.GetAsync($"/v1/admin/retention/runs?tenantId={a.Tenant.Id}"));
        var rows = ledger.GetProperty("items").EnumerateArray().ToDictionary(r => r.GetProperty("dataClass").GetString()!, r => r.GetProperty("rowsAffected").GetInt64());
        Assert.Equal(new Dictionary<string, long> { ["messages"] = 3, ["community_signals"] = 1, ["notification_records"] = 1, ["civic"] = 2 }, rows);
        Assert.All(ledger.GetProperty("items").EnumerateArray(), r =>
        {
            Assert.Equal("deleted", r.GetProperty("action").GetString());
            Assert.Equal(30, r.GetProperty("keepDays").GetInt32());
            Assert.True(r.GetProperty("complete").GetBoolean());
        });

        // A client resuming from before the horizon gets what is left, from the oldest kept seq on.
        var page = await ConversationsFixture.Json(await fx.Client(a.Tenant.ApiKey).GetAsync($"/v1/conversations/{a.Conversation}/activities?watermark=0"));
        Assert.Equal([4L, 5L], page.GetProperty("activities").EnumerateArray().Select(x => x.GetProperty("seq").GetInt64()).ToArray());

        // Idempotent: the same sweep again removes nothing and writes no ledger row.
        Assert.Empty(await sweeper.SweepAsync(a.Tenant.Id, CancellationToken.None));
        Assert.Equal(4, await CountAsync("SELECT count(*) FROM governance.retention_runs WHERE tenant_id = $1", a.Tenant.Id));
        Assert.Equal(2, await CountAsync("SELECT count(*) FROM core.activities WHERE tenant_id = $1", a.Tenant.Id));
    }

    [Fact]
    public async Task Batches_are_bounded_and_the_next_run_continues_where_the_last_stopped()
    {
        var world = await fx.CreateWorldAsync("retention-batches");
        await using (var conn = new NpgsqlConnection(fx.Database))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("""
                INSERT INTO community.signals (tenant_id, kind, actor_id, occurred_at) SELECT $1, 'message', 'u' || g, now() - interval '400 days'
                  FROM generate_series(1, 25) g
                """, conn);
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = world.Tenant.Id });
            await cmd.ExecuteNonQueryAsync();
        }
        var small = new RetentionSweeper(ServiceData, fx.Api.Services.GetRequiredService<RetentionSettings>(), new RetentionLimits(BatchSize: 4, MaxBatchesPerClass: 3),
            TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<RetentionSweeper>.Instance);

        var first = Assert.Single(await small.SweepAsync(world.Tenant.Id, CancellationToken.None));
        Assert.Equal((12L, 3, false), (first.RowsAffected, first.Batches, first.Complete));
        Assert.Equal(13, await CountAsync("SELECT count(*) FROM community.signals WHERE tenant_id = $1", world.Tenant.Id));
        var second = Assert.Single(await small.SweepAsync(world.Tenant.Id, CancellationToken.None));
        Assert.Equal(12L, second.RowsAffected);
        var third = Assert.Single(await small.SweepAsync(world.Tenant.Id, CancellationToken.None));
        Assert.Equal((1L, true), (third.RowsAffected, third.Complete));
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM community.signals WHERE tenant_id = $1", world.Tenant.Id));
    }

    [Fact]
    public async Task Settings_are_validated_with_problem_details_and_nothing_is_stored_on_bad_input()
    {
        var world = await fx.CreateWorldAsync("retention-validation");
        var op = fx.Client(TestSettings.OperatorKey);
        var path = $"/v1/admin/tenants/{world.Tenant.Id}/retention";

        var defaults = await ConversationsFixture.Json(await op.GetAsync(path));
        var civic = defaults.EnumerateArray().Single(s => s.GetProperty("dataClass").GetString() == "civic");
        Assert.Equal(730, civic.GetProperty("keepDays").GetInt32()); // 24 months
        Assert.True(civic.GetProperty("isDefault").GetBoolean());

        foreach (var (url, body, field) in new (string, object, string)[]
                 {
                     ($"{path}/messages", new { keepDays = 0 }, "keepDays"),
                     ($"{path}/messages", new { keepDays = 3651 }, "keepDays"),
                     ($"{path}/messages", new { keepDays = "soon" }, "keepDays"),
                     ($"{path}/everything", new { keepDays = 30 }, "dataClass"),
                     ($"/v1/admin/tenants/not-a-uuid/retention/messages", new { keepDays = 30 }, "tenantId"),
                 })
        {
            var response = await op.PutAsJsonAsync(url, body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await ConversationsFixture.Json(response);
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{url}: {problem}");
        }
        Assert.Equal(HttpStatusCode.NotFound, (await op.PutAsJsonAsync($"/v1/admin/tenants/{Guid.NewGuid()}/retention/messages", new { keepDays = 30 })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden,
            (await fx.Client(world.Tenant.ApiKey).PutAsJsonAsync($"{path}/messages", new { keepDays = 30 })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await op.GetAsync("/v1/admin/retention/runs?cursor=nope")).StatusCode);
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM governance.retention_settings WHERE tenant_id = $1", world.Tenant.Id));

        // Set, then back to the default with null.
        Assert.Equal(HttpStatusCode.OK, (await op.PutAsJsonAsync($"{path}/messages", new { keepDays = 90 })).StatusCode);
        var reset = await ConversationsFixture.Json(await op.PutAsJsonAsync($"{path}/messages", new { keepDays = (int?)null }));
        Assert.Equal(730, reset.GetProperty("keepDays").GetInt32());
        Assert.True(reset.GetProperty("isDefault").GetBoolean());
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM governance.retention_settings WHERE tenant_id = $1", world.Tenant.Id));
    }

    [Fact]
    public async Task The_services_role_cannot_delete_history_itself_nor_purge_another_tenant()
    {
        var a = await fx.CreateWorldAsync("retention-guard-a");
        var b = await fx.CreateWorldAsync("retention-guard-b");
        await SeedAsync(b, TimeSpan.FromDays(100));

        await using (var conn = await ServiceData.OpenForTenantAsync(b.Tenant.Id))
        {
            // Knowing the setting's name is not enough: the token's value is readable only by the owner.
            await using var set = new NpgsqlCommand("SELECT set_config('platform.retention_token', 'guess', false)", conn);
            await set.ExecuteNonQueryAsync();
            await using var delete = new NpgsqlCommand("DELETE FROM core.activities WHERE tenant_id = $1", conn);
            delete.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = b.Tenant.Id });
            var refused = await Assert.ThrowsAsync<PostgresException>(() => delete.ExecuteNonQueryAsync());
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
            await using var read = new NpgsqlCommand("SELECT token FROM ops.retention_bypass", conn);
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, (await Assert.ThrowsAsync<PostgresException>(() => read.ExecuteScalarAsync())).SqlState);
        }
        await using (var conn = await ServiceData.OpenForTenantAsync(a.Tenant.Id))
        {
            await using var purge = new NpgsqlCommand("SELECT core.retention_purge_activities($1, now(), 1000)", conn);
            purge.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = b.Tenant.Id });
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, (await Assert.ThrowsAsync<PostgresException>(() => purge.ExecuteScalarAsync())).SqlState);
        }
        Assert.Equal(3, await CountAsync("SELECT count(*) FROM core.activities WHERE tenant_id = $1", b.Tenant.Id));
    }

    /// <summary>
    /// As the owner (the test's own access): three activities, a signal, a notification with a delivery and an attempt,
    /// a civic run and a deleted profile's tombstone, all <paramref name="age"/> old; and one recent signal, notification,
    /// civic run and a live profile created as long ago (a live profile is never a retention candidate).
    /// </summary>
    private async Task SeedAsync(World world, TimeSpan age)
    {
        await using var conn = new NpgsqlConnection(fx.Database);
        await conn.OpenAsync();
        await using var batch = new NpgsqlBatch(conn)
        {
            BatchCommands =
            {
                new("""
                    INSERT INTO core.activities (conversation_id, seq, tenant_id, id, type, from_id, text, created_at)
                    SELECT $1, g, $2, 'old-' || $1::text || '-' || g, 'message', 'alice', 'old ' || g, now() - $3 + g * interval '1 second'
                      FROM generate_series(1, 3) g
                    """),
                new("UPDATE core.conversations SET last_seq = 3 WHERE id = $1"),
                new("""
                    INSERT INTO community.signals (tenant_id, kind, actor_id, occurred_at)
                    SELECT $2, 'message', 'alice', t FROM unnest(ARRAY[now() - $3, now()]) t
                    """),
                new("""
                    WITH o AS (INSERT INTO ops.notification_outbox (tenant_id, user_id, subject_id, notification_type, payload, channels, dedupe_key, created_at)
                               SELECT $2, 'alice', 'old-' || $1::text, 'test.old', '{}', ARRAY['in_app'], sha256(('old' || $1::text)::bytea), now() - $3 RETURNING id),
                         d AS (INSERT INTO ops.notification_deliveries (tenant_id, outbox_id, channel, state) SELECT $2, id, 'in_app', 'sent' FROM o RETURNING id)
                    INSERT INTO ops.notification_attempts (tenant_id, delivery_id, attempt, outcome, latency_ms) SELECT $2, id, 1, 'sent', 1 FROM d
                    """),
                new("""
                    INSERT INTO ops.notification_outbox (tenant_id, user_id, subject_id, notification_type, payload, channels, dedupe_key)
                    VALUES ($2, 'alice', 'new-' || $1::text, 'test.new', '{}', ARRAY['in_app'], sha256(('new' || $1::text)::bytea))
                    """),
                new("""
                    WITH c AS (INSERT INTO civic.cities (id, tenant_id, slug, name) VALUES (gen_random_uuid(), $2, 'c-' || $1::text, 'City') RETURNING id)
                    INSERT INTO civic.processing_runs (id, tenant_id, city_id, trigger, status, created_at)
                    SELECT gen_random_uuid(), $2, c.id, 'scan', 'failed', t FROM c, unnest(ARRAY[now() - $3, now()]) t
                    """),
                new("""
                    INSERT INTO civic.profiles (tenant_id, user_id, created_at, deleted_at)
                    VALUES ($2, 'deleted:' || $1::text, now() - $3, now() - $3), ($2, 'live-' || $1::text, now() - $3, NULL)
                    """),
            },
        };
        foreach (var command in batch.BatchCommands)
        {
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = world.Conversation });
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = world.Tenant.Id });
            command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = age });
        }
        await batch.ExecuteNonQueryAsync();
    }

    private async Task<long> CountAsync(string sql, params object[] args)
    {
        await using var owner = NpgsqlDataSource.Create(fx.Database);
        return await Platform.Tests.Integration.Jobs.JobsDb.CountAsync(owner, sql, args);
    }
}
