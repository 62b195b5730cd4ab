using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Xml.Linq;

namespace Platform.Core.Civic;

/// <summary>One document a source offers: which meeting it is and its bytes.</summary>
public sealed record SourceDocument(string MeetingUid, string Title, DateOnly? MeetingDate, string MediaType, byte[] Bytes);

/// <summary>What a scan of one source returned; <see cref="NotModified"/> when a conditional request said so.</summary>
public sealed record SourceListing(IReadOnlyList<SourceDocument> Documents, bool NotModified, string? ETag, string? LastModified);

public sealed record SourceRow(Guid Id, Guid CityId, string Kind, string Location, string? ETag, string? LastModified);

/// <summary>A source that could not be read; the scan records it on the source and as a failed run.</summary>
public sealed class SourceException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Reads <c>file</c> sources (a folder of .txt/.html/.pdf) and <c>http</c> sources (a JSON or RSS feed).</summary>
public sealed class SourceReader(CivicOptions options, HttpClient http)
{
    private static readonly string[] Extensions = [".txt", ".html", ".htm", ".pdf"];

    public Task<SourceListing> ListAsync(SourceRow source, CancellationToken ct) => source.Kind switch
    {
        "file" => Task.FromResult(ListFolder(source.Location)),
        "http" => ListFeedAsync(source, ct),
        _ => throw new SourceException($"Unknown source kind '{source.Kind}'."),
    };

    private static SourceListing ListFolder(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new SourceException($"Folder '{folder}' does not exist.");
        }
        var docs = Directory.EnumerateFiles(folder)
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal)
            .Select(f => new SourceDocument(Path.GetFileNameWithoutExtension(f), Path.GetFileNameWithoutExtension(f), DateFromName(f),
                DocumentText.MediaTypeOf(f), File.ReadAllBytes(f)))
            .ToList();
        return new SourceListing(docs, false, null, null);
    }

    /// <summary>File names start with the meeting date (2025-03-04-regular.txt) by convention.</summary>
    private static DateOnly? DateFromName(string path)
    {
        var name = Path.GetFileName(path);
        return name.Length >= 10 && DateOnly.TryParseExact(name[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;
    }

    private async Task<SourceListing> ListFeedAsync(SourceRow source, CancellationToken ct)
    {
        var feedUri = new Uri(source.Location);
        using var response = await SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, feedUri);
            // Conditional request: an unchanged feed costs a 304 and nothing else.
            if (source.ETag is { } etag && EntityTagHeaderValue.TryParse(etag, out var tag))
            {
                request.Headers.IfNoneMatch.Add(tag);
            }
            if (source.LastModified is { } lm && DateTimeOffset.TryParse(lm, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var since))
            {
                request.Headers.IfModifiedSince = since;
            }
            return request;
        }, ct);
        if (response.StatusCode == HttpStatusCode.NotModified)
        {
            return new SourceListing([], true, source.ETag, source.LastModified);
        }
        var body = await response.Content.ReadAsStringAsync(ct);
        var entries = ParseFeed(body, response.Content.Headers.ContentType?.MediaType);
        var docs = new List<SourceDocument>();
        foreach (var e in entries)
        {
            var uri = new Uri(feedUri, e.Url);
            using var doc = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, uri), ct);
            var bytes = await doc.Content.ReadAsByteArrayAsync(ct);
            var mediaType = e.MediaType ?? MediaTypeFromResponse(doc, uri);
            docs.Add(new SourceDocument(e.Uid, e.Title, e.Date, mediaType, bytes));
        }
        return new SourceListing(docs, false, response.Headers.ETag?.ToString(),
            response.Content.Headers.LastModified?.ToString("R", CultureInfo.InvariantCulture));
    }

    private static string MediaTypeFromResponse(HttpResponseMessage doc, Uri uri)
    {
        var byName = DocumentText.MediaTypeOf(uri.AbsolutePath);
        return byName != "application/octet-stream" ? byName : doc.Content.Headers.ContentType?.MediaType ?? byName;
    }

    /// <summary>Sends with a per-attempt timeout and retries 5xx, 429, timeouts and connection failures.</summary>
    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> request, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(options.HttpTimeout);
            string failure;
            try
            {
                using var message = request();
                var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotModified)
                {
                    await response.Content.LoadIntoBufferAsync(timeout.Token);
                    return response;
                }
                failure = $"{message.RequestUri} answered {(int)response.StatusCode} {response.ReasonPhrase}";
                response.Dispose();
                if ((int)response.StatusCode < 500 && response.StatusCode != HttpStatusCode.TooManyRequests)
                {
                    throw new SourceException(failure); // a 4xx will not heal by asking again
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                failure = $"timed out after {options.HttpTimeout.TotalSeconds:0.#} s";
            }
            catch (HttpRequestException ex)
            {
                failure = ex.Message;
            }
            if (attempt >= options.HttpAttempts)
            {
                throw new SourceException($"{failure} (after {attempt} attempts)");
            }
            await Task.Delay(options.HttpRetryDelay * attempt, ct); // linear backoff between attempts
        }
    }

    public sealed record FeedEntry(string Uid, string Title, DateOnly? Date, string Url, string? MediaType);

    /// <summary>A JSON feed (<c>{"meetings":[{uid,title,date,url,mediaType}]}</c>) or RSS 2.0 (guid, title, link, pubDate, enclosure).</summary>
    public static IReadOnlyList<FeedEntry> ParseFeed(string body, string? contentType)
    {
        var trimmed = body.TrimStart();
        try
        {
            if (trimmed.StartsWith('{') || contentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
            {
                using var json = JsonDocument.Parse(body);
                return json.RootElement.GetProperty("meetings").EnumerateArray().Select(m => new FeedEntry(
                    m.GetProperty("uid").GetString()!,
                    m.TryGetProperty("title", out var t) ? t.GetString() ?? "" : "",
                    m.TryGetProperty("date", out var d) && DateOnly.TryParse(d.GetString(), CultureInfo.InvariantCulture, out var dd) ? dd : null,
                    m.GetProperty("url").GetString()!,
                    m.TryGetProperty("mediaType", out var mt) ? mt.GetString() : null)).ToList();
            }
            var rss = XDocument.Parse(body);
            return rss.Descendants("item").Select(i => new FeedEntry(
                (string?)i.Element("guid") ?? (string)i.Element("link")!,
                (string?)i.Element("title") ?? "",
                DateTimeOffset.TryParse((string?)i.Element("pubDate"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var p)
                    ? DateOnly.FromDateTime(p.UtcDateTime) : null,
                (string?)i.Element("enclosure")?.Attribute("url") ?? (string)i.Element("link")!,
                (string?)i.Element("enclosure")?.Attribute("type"))).ToList();
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or System.Xml.XmlException or NullReferenceException)
        {
            throw new SourceException($"The feed is neither the JSON meetings feed nor RSS: {ex.Message}", ex);
        }
    }
}
