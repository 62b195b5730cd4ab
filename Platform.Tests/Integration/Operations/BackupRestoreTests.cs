using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.AppHost.Infrastructure;
using Platform.Core.Governance;
using Platform.Tests.Integration.Conversations;
using Platform.Tests.Integration.Realtime;

namespace Platform.Tests.Integration.Operations;

/// <summary>
/// The backup and restore procedure of docs/operations.md, run for real: the roles (pg_dumpall --roles-only) and the
/// database (pg_dump custom format) of a live system are restored into a fresh PostgreSQL cluster; an Api and a
/// Realtime node on the restored database then verify the provenance chain, let a client resume its stream from its
/// watermark with the token it already had, and continue the conversation's sequence.
/// </summary>
public sealed class BackupRestoreTests(RealtimeFixture fx) : IClassFixture<RealtimeFixture>
{
    [Fact]
    public async Task A_restored_database_verifies_its_provenance_chain_and_streams_resume_from_a_watermark()
    {
        var world = await fx.CreateWorldAsync("backup");
        var token = await fx.TokenAsync(world.Tenant.ApiKey, world.Conversation);
        await fx.PostAsync(world.Tenant.ApiKey, world.Conversation, 30, prefix: "before-backup");
        var ledger = fx.Api.Services.GetRequiredService<ProvenanceLedger>();
        for (var i = 0; i < 5; i++)
        {
            await ledger.AppendAsync(world.Tenant.Id, new ProvenanceEntry("backup.test", "tests", SubjectId: $"s{i}", DetailsJson: $"{{\"n\":{i}}}"));
        }
        Assert.True((await ledger.VerifyAsync(world.Tenant.Id)).Ok);

        var work = Directory.CreateTempSubdirectory("platform-backup-");
        await using var fresh = await LocalPostgres.StartAsync();
        try
        {
            var source = new NpgsqlConnectionStringBuilder(fx.Database);
            var dump = Path.Combine(work.FullName, "platform.dump");
            var roles = Path.Combine(work.FullName, "roles.sql");
            await PgAsync("pg_dumpall", source, ["--roles-only", "-f", roles]);
            await PgAsync("pg_dump", source, ["-Fc", "-d", source.Database!, "-f", dump]);

            var target = new NpgsqlConnectionStringBuilder(fresh.ConnectionString("postgres"));
            // The roles first, without the fresh server's own superuser (it exists, with its own password), then the database.
            var superuser = $"ROLE {target.Username}";
            await File.WriteAllLinesAsync(roles, (await File.ReadAllLinesAsync(roles))
                .Where(l => !l.Contains(superuser + ";", StringComparison.Ordinal) && !l.Contains(superuser + " WITH", StringComparison.Ordinal)));
            await PgAsync("psql", target, ["-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-f", roles]);
            await PgAsync("createdb", target, ["platformdb"]);
            await PgAsync("pg_restore", target, ["--exit-on-error", "-d", "platformdb", dump]);

            var restoredDb = fresh.ConnectionString("platformdb");
            var settings = TestSettings.For(restoredDb, fx.Redis);
            await using var api = new ApiFactory(settings);
            _ = api.Server; // starts: checks the migrations (nothing to apply) and the services' login
            var verification = await api.Services.GetRequiredService<ProvenanceLedger>().VerifyAsync(world.Tenant.Id);
            Assert.True(verification.Ok, $"chain broken at {verification.FirstBrokenEventId}");
            Assert.Equal(5, verification.Checked);

            var port = LocalServers.FreePort();
            await using var node = new RealtimeFactory(new Dictionary<string, string?>(settings));
            node.UseKestrel(o => o.Listen(System.Net.IPAddress.Loopback, port));
            node.StartServer();
            await using var resumed = await StreamClient.ConnectAsync(new Uri($"http://127.0.0.1:{port}"), token, 20);
            await resumed.WaitForSeqAsync(30);
            StreamClient.AssertExactly(resumed.Seqs, 21, 30);

            // The restored system carries on: the next post is seq 31 and reaches the resumed client.
            var client = ConversationsFixture.ClientOf(api, world.Tenant.ApiKey);
            var posted = await client.PostAsJsonAsync($"/v1/conversations/{world.Conversation}/activities", ConversationsFixture.Message("after restore"));
            Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
            Assert.Equal(31, (await ConversationsFixture.Json(posted)).GetProperty("seq").GetInt64());
            await resumed.WaitForSeqAsync(31);
            StreamClient.AssertExactly(resumed.Seqs, 21, 31);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            work.Delete(recursive: true);
        }
    }

    private static async Task PgAsync(string tool, NpgsqlConnectionStringBuilder server, string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(Path.Combine(LocalServerCommands.PostgresBinDirectory(), tool))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in (string[])["-h", server.Host!, "-p", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", server.Username!, .. args])
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["PGPASSWORD"] = server.Password;
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"{tool} exited with {p.ExitCode}: {await stderr}{await stdout}");
    }
}
