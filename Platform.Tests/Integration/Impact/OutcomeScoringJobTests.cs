using Microsoft.Extensions.Configuration;
using Npgsql;
using Platform.Core.Impact.Privacy;
using Platform.Core.Impact.Programs;
using Platform.Core.Impact.Scoring;

namespace Platform.Tests.Integration.Impact;

/// <summary>
/// The scoring job's batch path on a real database, as the services' role (row-level security on): what one text
/// leaves behind, two jobs holding the same texts, and a batch that fails half way.
/// </summary>
public sealed class OutcomeScoringJobTests : IAsyncLifetime
{
    private const string Single = "impact.score-text", Batch = "impact.score-texts";
    private NpgsqlDataSource _owner = null!, _service = null!;
    private PiiVault _vault = null!;
    private Guid _tenant, _company;
    private int _people;

    public async Task InitializeAsync()
    {
        var cs = await TestEnvironment.CreateDatabaseAsync("OutcomeScoringJob");
        _owner = NpgsqlDataSource.Create(cs);
        _service = NpgsqlDataSource.Create(TestEnvironment.AsService(cs));
        _vault = new PiiVault(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [PiiVault.ConfigKey] = TestSettings.VaultKey }).Build());
        _tenant = Guid.CreateVersion7();
        await using (var cmd = _owner.CreateCommand("INSERT INTO core.tenants (id, name) VALUES ($1, 'scoring')"))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = _tenant });
            await cmd.ExecuteNonQueryAsync();
        }
        _company = (await new Companies(_service).CreateAsync(_tenant, "Scoring AS", null, default)).Company!.Id;
    }

    public async Task DisposeAsync()
    {
        await _service.DisposeAsync();
        await _owner.DisposeAsync();
    }

    [Fact]
    public async Task One_text_leaves_five_scores_its_evidence_encrypted_with_hashes_and_one_access_log_row()
    {
        const string body = "I finally feel confident speaking at work. The group made me feel welcome. We met on Tuesday.";
        var (person, text) = (await IngestAsync([body]))[0];
        var (erasedPerson, erasedText) = (await IngestAsync(["I made friends in the group."]))[0];
        await ExecAsync("UPDATE impact.person_keys SET wrapped_key = NULL, destroyed_at = now() WHERE person_id = $1", erasedPerson);

        var handler = new ScoreTextHandler(_service, _vault, new RubricOutcomeModel());
        Assert.Equal(1, await handler.ScoreAsync(_tenant, [text, erasedText], Single, default));

        var expected = OutcomeScorer.Score(body);
        var rows = await RowsAsync("""
            SELECT dimension, score, confidence, model_version, text_type, person_id, company_id, occurred_at
              FROM impact.outcome_scores WHERE text_id = $1 ORDER BY dimension
            """, text);
        Assert.Equal(expected.Dimensions.Keys.Order(), rows.Select(r => (string)r[0]));
        foreach (var r in rows)
        {
            var d = expected.Dimensions[(string)r[0]];
            Assert.Equal(d.Score is { } s ? (decimal?)(decimal)s : null, r[1] is DBNull ? null : (decimal?)r[1]);
            Assert.Equal(Math.Round((decimal)d.Confidence, 3), (decimal)r[2]);
            Assert.Equal(OutcomeScorer.ModelVersion, (string)r[3]);
            Assert.Equal(("checkin", person, _company), ((string)r[4], (Guid)r[5], (Guid)r[6]));
            Assert.Equal(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero), new DateTimeOffset((DateTime)r[7]));
        }
        Assert.Contains(expected.Dimensions.Values, d => d.Score is null); // abstention is stored as NULL, not guessed

        // Evidence: the sentence itself only as ciphertext under the person's key, with its offsets, cues and SHA-256.
        var key = (await PersonKeyAsync(person))!;
        var evidence = await RowsAsync("""
            SELECT o.dimension, e.snippet_enc, e.snippet_sha256, e.start_offset, e.length, e.cues, e.contribution
              FROM impact.evidence_snippets e JOIN impact.outcome_scores o ON o.id = e.outcome_score_id
             WHERE o.text_id = $1 ORDER BY o.dimension, e.start_offset
            """, text);
        var want = expected.Dimensions.Values.SelectMany(d => d.Evidence).OrderBy(e => e.Dimension, StringComparer.Ordinal).ThenBy(e => e.Start).ToList();
        Assert.NotEmpty(want);
        Assert.Equal(want.Count, evidence.Count);
        for (var i = 0; i < want.Count; i++)
        {
            Assert.Equal(want[i].Dimension, (string)evidence[i][0]);
            Assert.Equal(want[i].Sentence, PiiVault.Decrypt(key, (byte[])evidence[i][1], person));
            Assert.DoesNotContain(want[i].Sentence, System.Text.Encoding.UTF8.GetString((byte[])evidence[i][1]));
            Assert.Equal(want[i].Sha256, (string)evidence[i][2]);
            Assert.Equal(body.Substring(want[i].Start, want[i].Length), want[i].Sentence);
            Assert.Equal((want[i].Start, want[i].Length), ((int)evidence[i][3], (int)evidence[i][4]));
            Assert.Equal(want[i].Cues, (string[])evidence[i][5]);
            Assert.Equal(want[i].Contribution, (double)evidence[i][6]);
        }

        // One access-log row per text read; the erased person's text is logged unreadable and never scored.
        Assert.Equal([("text", "outcome-scoring", "job:impact.score-text", "read")], await LogOfAsync(person));
        Assert.Equal([("text", "outcome-scoring", "job:impact.score-text", "unreadable")], await LogOfAsync(erasedPerson));
        Assert.Equal(["scored", "erased"], [await StatusAsync(text), await StatusAsync(erasedText)]);
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM impact.outcome_scores WHERE text_id = $1", erasedText));

        // Scored again by the same model version (an operator re-queues it): replaced, not duplicated.
        await ExecAsync("UPDATE impact.texts SET status = 'pending' WHERE id = $1", text);
        Assert.Equal(1, await handler.ScoreAsync(_tenant, [text], Single, default));
        Assert.Equal(5, await CountAsync("SELECT count(*) FROM impact.outcome_scores WHERE text_id = $1", text));
        Assert.Equal(want.Count, await CountAsync(
            "SELECT count(*) FROM impact.evidence_snippets e JOIN impact.outcome_scores o ON o.id = e.outcome_score_id WHERE o.text_id = $1", text));
    }

    [Fact]
    public async Task Two_jobs_holding_the_same_texts_score_each_text_once()
    {
        var texts = (await IngestAsync([.. Enumerable.Range(0, 15).Select(i => $"Note {i}: I feel more confident and I made friends in the group.")]))
            .Select(t => t.Text).ToArray();
        var held = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var first = new ScoreTextHandler(_service, _vault, new HeldModel(new RubricOutcomeModel(), held, release.Task));
        var second = new ScoreTextHandler(_service, _vault, new RubricOutcomeModel());

        // The first job has claimed texts 0–9 and is inside the model when the second asks for 5–14.
        var firstRun = first.ScoreAsync(_tenant, texts[..10], Batch, default);
        await held.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(5, await second.ScoreAsync(_tenant, texts[5..], Batch, default).WaitAsync(TimeSpan.FromSeconds(30)));
        release.SetResult();
        Assert.Equal(10, await firstRun.WaitAsync(TimeSpan.FromSeconds(30)));

        // A redelivered job finds nothing left to do.
        Assert.Equal(0, await second.ScoreAsync(_tenant, texts, Batch, default));
        foreach (var text in texts)
        {
            Assert.Equal("scored", await StatusAsync(text));
            Assert.Equal(5, await CountAsync("SELECT count(*) FROM impact.outcome_scores WHERE text_id = $1", text));
        }
        Assert.Equal(15, await CountAsync("SELECT count(*) FROM governance.pii_access_log WHERE tenant_id = $1 AND purpose = 'outcome-scoring'", _tenant));
        Assert.Equal(15, await CountAsync("SELECT count(DISTINCT subject_id) FROM governance.pii_access_log WHERE tenant_id = $1 AND purpose = 'outcome-scoring'", _tenant));
    }

    [Fact]
    public async Task A_batch_that_fails_while_writing_leaves_its_texts_pending_and_the_retry_scores_them()
    {
        var texts = (await IngestAsync(["I feel welcome here.", "My Norwegian is getting better.", "I got a job interview."])).Select(t => t.Text).ToArray();
        var failing = new ScoreTextHandler(_service, _vault, new UnstorableModel());
        await Assert.ThrowsAsync<PostgresException>(() => failing.ScoreAsync(_tenant, texts, Batch, default));
        foreach (var text in texts)
        {
            Assert.Equal("pending", await StatusAsync(text));
        }
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM impact.outcome_scores WHERE tenant_id = $1", _tenant));
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM governance.pii_access_log WHERE tenant_id = $1 AND purpose = 'outcome-scoring'", _tenant));

        Assert.Equal(3, await new ScoreTextHandler(_service, _vault, new RubricOutcomeModel()).ScoreAsync(_tenant, texts, Batch, default));
        Assert.Equal(15, await CountAsync("SELECT count(*) FROM impact.outcome_scores WHERE tenant_id = $1", _tenant));
        Assert.Equal(3, await CountAsync("SELECT count(*) FROM governance.pii_access_log WHERE tenant_id = $1 AND purpose = 'outcome-scoring'", _tenant));
    }

    [Fact]
    public async Task A_chat_model_that_is_down_leaves_texts_pending_and_once_it_answers_its_version_and_quotes_are_stored()
    {
        var bodies = new[] { "I feel welcome in the group now.", "Nobody answers my applications." };
        var texts = (await IngestAsync(bodies)).Select(t => t.Text).ToArray();
        var up = false;
        await using var server = await Civic.ChatStub.StartAsync((_, body) =>
        {
            if (!up) return Task.FromResult(Microsoft.AspNetCore.Http.Results.StatusCode(503));
            var note = System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("messages")[1].GetProperty("content").GetString()!;
            return Task.FromResult(Civic.ChatStub.Completion(note.StartsWith("Nobody", StringComparison.Ordinal)
                ? ChatOutcomeModelTests.Answer(("job_readiness", "negative", note))
                : ChatOutcomeModelTests.Answer(("belonging", "positive", "I feel welcome in the group now."), ("confidence", "positive", "I am brave"))));
        });
        var options = Civic.ChatStub.Options(server);
        var model = new ChatOutcomeModel(Platform.Core.Ai.ModelClients.CreateChat(options.Provider, options.Endpoint!, options.ApiKey, options.Model!, options.Timeout), options.Model!);
        var handler = new ScoreTextHandler(_service, _vault, model);

        await Assert.ThrowsAsync<System.ClientModel.ClientResultException>(() => handler.ScoreAsync(_tenant, texts, Batch, default));
        Assert.Equal(["pending", "pending"], [await StatusAsync(texts[0]), await StatusAsync(texts[1])]);
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM impact.outcome_scores WHERE tenant_id = $1", _tenant));

        up = true;
        Assert.Equal(2, await handler.ScoreAsync(_tenant, texts, Batch, default));
        var rows = await RowsAsync("SELECT dimension, score, model_version FROM impact.outcome_scores WHERE text_id = $1 AND score IS NOT NULL", texts[0]);
        Assert.Equal(("belonging", 0.982m, $"{ChatOutcomeModel.PromptVersion}+{Civic.ChatStub.Model}"), ((string)rows.Single()[0], (decimal)rows.Single()[1], (string)rows.Single()[2]));
        Assert.Equal(["job_readiness"], (await RowsAsync("SELECT dimension FROM impact.outcome_scores WHERE text_id = $1 AND score IS NOT NULL", texts[1])).Select(r => (string)r[0]));
        // Evidence is the quote, located in the text; the invented confidence quote left no row.
        var evidence = await RowsAsync("""
            SELECT o.dimension, e.start_offset, e.length, e.snippet_sha256 FROM impact.evidence_snippets e
              JOIN impact.outcome_scores o ON o.id = e.outcome_score_id WHERE o.text_id = $1
            """, texts[0]);
        Assert.Equal(("belonging", 0, bodies[0].Length, OutcomeScorer.Sha256Hex(bodies[0])), ((string)evidence.Single()[0], (int)evidence.Single()[1], (int)evidence.Single()[2], (string)evidence.Single()[3]));
    }

    /// <summary>The rubric, held inside the model (after the batch is claimed) until the test releases it.</summary>
    private sealed class HeldModel(IOutcomeModel inner, TaskCompletionSource entered, Task release) : IOutcomeModel
    {
        public string ModelVersion => inner.ModelVersion;

        public async Task<IReadOnlyList<OutcomeScore>> ScoreManyAsync(IReadOnlyList<string> texts, CancellationToken ct)
        {
            entered.TrySetResult();
            await release.WaitAsync(TimeSpan.FromSeconds(30), ct);
            return await inner.ScoreManyAsync(texts, ct);
        }
    }

    /// <summary>The rubric's scores plus, for the last text, a dimension the table refuses: the batch's write fails after some rows went in.</summary>
    private sealed class UnstorableModel : IOutcomeModel
    {
        public string ModelVersion => OutcomeScorer.ModelVersion;

        public Task<IReadOnlyList<OutcomeScore>> ScoreManyAsync(IReadOnlyList<string> texts, CancellationToken ct)
        {
            var scores = texts.Select(OutcomeScorer.Score).ToList();
            var last = scores[^1];
            scores[^1] = last with { Dimensions = new Dictionary<string, DimensionScore>(last.Dimensions) { ["not_a_dimension"] = new("not_a_dimension", 0.9, 0.5, []) } };
            return Task.FromResult<IReadOnlyList<OutcomeScore>>(scores);
        }
    }

    private async Task<List<(Guid Person, Guid Text)>> IngestAsync(IReadOnlyList<string> bodies)
    {
        await using var conn = await _owner.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var ingest = new ProgramIngest(conn, tx, _vault, _tenant, _company);
        var result = new List<(Guid, Guid)>();
        foreach (var body in bodies)
        {
            var n = ++_people;
            var person = await ingest.PersonAsync(new PersonRecord("test", $"p{n}", PersonRoles.Participant, $"Person {n}", $"p{n}@example.org", "buddy", null), default);
            var text = await ingest.TextAsync(new TextRecord("test", $"t{n}", "checkin", $"p{n}", null, new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero), 4, null, body), default);
            Assert.Null(text.Error);
            result.Add((person.Id!.Value, text.Id!.Value));
        }
        await tx.CommitAsync();
        foreach (var (_, text) in result)
        {
            Assert.Equal("pending", await StatusAsync(text));
        }
        return result;
    }

    private async Task<byte[]?> PersonKeyAsync(Guid person)
    {
        await using var conn = await _owner.OpenConnectionAsync();
        return (await _vault.KeyringAsync(conn, null, _tenant, [person], "test", "test", default)).KeyOf(person);
    }

    private async Task<List<(string, string, string, string)>> LogOfAsync(Guid person) =>
        [.. (await RowsAsync("SELECT field, purpose, actor, outcome FROM governance.pii_access_log WHERE subject_id = $1 AND purpose = 'outcome-scoring'", person))
            .Select(r => ((string)r[0], (string)r[1], (string)r[2], (string)r[3]))];

    private async Task<string> StatusAsync(Guid text) => (string)(await RowsAsync("SELECT status FROM impact.texts WHERE id = $1", text))[0][0];

    private async Task<long> CountAsync(string sql, Guid arg) => (long)(await RowsAsync(sql, arg))[0][0];

    private async Task ExecAsync(string sql, Guid arg)
    {
        await using var cmd = _owner.CreateCommand(sql);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = arg });
        await cmd.ExecuteNonQueryAsync();
    }

    private async Task<List<object[]>> RowsAsync(string sql, Guid arg)
    {
        await using var cmd = _owner.CreateCommand(sql);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = arg });
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<object[]>();
        while (await reader.ReadAsync())
        {
            var row = new object[reader.FieldCount];
            reader.GetValues(row);
            rows.Add(row);
        }
        return rows;
    }
}
