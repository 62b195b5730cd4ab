using System.Text;
using System.Text.Json;
using Platform.Core.Notifications;

namespace Platform.Tests.Unit.Notifications;

public sealed class NotificationPayloadTests
{
    private static int Bytes(JsonElement payload) => Encoding.UTF8.GetByteCount(payload.GetRawText());

    private static Notification AsNotification(JsonElement payload) =>
        new(Guid.NewGuid(), "user-1", "subject-1", "digest.test", payload, NotificationChannels.Email);

    [Fact]
    public void A_payload_that_fits_is_left_whole_at_its_fullest_detail()
    {
        var tried = new List<int>();
        var payload = NotificationPayloads.Fit(detail =>
        {
            tried.Add(detail);
            return new Dictionary<string, object?> { ["title"] = "Weekly pulse", ["body"] = string.Join('\n', Enumerable.Range(1, detail).Select(i => $"team {i}")) };
        }, 12, "body");

        Assert.Equal(new[] { 12 }, tried);
        Assert.Equal("Weekly pulse", payload.GetProperty("title").GetString());
        Assert.EndsWith("team 12", payload.GetProperty("body").GetString(), StringComparison.Ordinal);
        NotificationRules.Validate(AsNotification(payload));
    }

    [Fact]
    public void Detail_is_halved_until_the_payload_fits_before_any_text_is_cut()
    {
        var tried = new List<int>();
        // 300 bytes per item: 12 items are too many, 6 fit.
        var payload = NotificationPayloads.Fit(detail =>
        {
            tried.Add(detail);
            var lines = Enumerable.Range(1, detail).Select(i => $"item {i:00} " + new string('x', 292));
            return new Dictionary<string, object?> { ["title"] = "t", ["body"] = string.Join('\n', lines) + $"\n… and {12 - detail} more" };
        }, 12, "body");

        Assert.Equal(new[] { 12, 6 }, tried);
        var body = payload.GetProperty("body").GetString()!;
        Assert.EndsWith("… and 6 more", body, StringComparison.Ordinal); // whole lines dropped and counted, nothing cut mid-line
        Assert.True(Bytes(payload) <= NotificationRules.MaxPayloadBytes);
    }

    [Fact]
    public void When_even_the_least_detail_is_too_large_only_the_named_field_is_cut_on_a_word_boundary_to_the_longest_that_fits()
    {
        var summary = string.Join(' ', Enumerable.Repeat("budget", 1000)); // ~7,000 bytes
        var fields = new Dictionary<string, object?> { ["title"] = "Springfield: City Council", ["summary"] = summary, ["status"] = "published" };

        var payload = NotificationPayloads.Fit(fields, "summary");

        Assert.True(Bytes(payload) <= NotificationRules.MaxPayloadBytes);
        Assert.True(Bytes(payload) > NotificationRules.MaxPayloadBytes - 20, "the cut keeps as much as fits (within one word)");
        Assert.Equal("Springfield: City Council", payload.GetProperty("title").GetString());
        Assert.Equal("published", payload.GetProperty("status").GetString());
        var cut = payload.GetProperty("summary").GetString()!;
        Assert.EndsWith("budget…", cut, StringComparison.Ordinal);
        Assert.StartsWith(cut[..^1], summary, StringComparison.Ordinal);
        NotificationRules.Validate(AsNotification(payload));
    }

    [Theory]
    [InlineData("😀")]          // a surrogate pair, 4 bytes in UTF-8
    [InlineData("Æ")]           // 2 bytes in UTF-8
    [InlineData("<\"\\")]       // characters JSON escapes, so their serialized size is larger than their text
    public void A_cut_text_never_splits_a_surrogate_pair_and_stays_valid_json_whatever_the_characters_cost(string unit)
    {
        for (var offset = 0; offset < 4; offset++)
        {
            // No spaces: the cut falls wherever the byte limit does, including inside a pair when it is not guarded.
            var text = new string('a', offset) + string.Concat(Enumerable.Repeat(unit, 3000));
            var payload = NotificationPayloads.Fit(new Dictionary<string, object?> { ["body"] = text }, "body");

            var raw = payload.GetRawText();
            Assert.True(Encoding.UTF8.GetByteCount(raw) <= NotificationRules.MaxPayloadBytes);
            var body = JsonDocument.Parse(raw).RootElement.GetProperty("body").GetString()!;
            Assert.EndsWith("…", body, StringComparison.Ordinal);
            var kept = body[..^1];
            Assert.StartsWith(kept, text, StringComparison.Ordinal);
            Assert.False(kept.Length > 0 && char.IsHighSurrogate(kept[^1]), "no half of a surrogate pair is left at the end");
            // Strict UTF-8 encoding throws on a lone surrogate.
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetBytes(body);
        }
    }

    [Fact]
    public void A_payload_that_cannot_fit_even_with_the_field_empty_is_refused_rather_than_stored_too_large()
    {
        var fields = new Dictionary<string, object?> { ["title"] = new string('t', 3500), ["body"] = "short" };
        Assert.Throws<ArgumentException>(() => NotificationPayloads.Fit(fields, "body"));
        Assert.Throws<ArgumentException>(() => NotificationPayloads.Fit(new Dictionary<string, object?> { ["count"] = new int[2000] }, "count"));
    }

    [Fact]
    public void Clip_keeps_short_text_and_cuts_long_text_at_a_word_or_before_a_pair()
    {
        Assert.Equal("short", NotificationPayloads.Clip("short", 10));
        Assert.Equal("the council…", NotificationPayloads.Clip("the council adopted", 15));
        Assert.Equal("abcd…", NotificationPayloads.Clip("abcdefgh", 5));
        Assert.Equal("ab…", NotificationPayloads.Clip("ab😀cd", 4)); // the pair at 2–3 would be split at 4 - 1 = 3
        Assert.Equal("", NotificationPayloads.Clip("abc", 1));
    }
}
