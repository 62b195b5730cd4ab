using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;
using Platform.Core.Security;

namespace Platform.Core.Civic;

/// <summary>One document a source offers: which meeting it is and its bytes.</summary>
public sealed record SourceDocument(string MeetingUid, string Title, DateOnly? MeetingDate, string MediaType, byte[] Bytes);

/// <summary>What a scan of one source returned; <see cref="NotModified"/> when a conditional request said so.</summary>
public sealed record SourceListing(IReadOnlyList<SourceDocument> Documents, bool NotModified, string? ETag, string? LastModified);

public sealed record SourceRow(Guid Id, Guid CityId, string Kind, string Location, string? ETag, string? LastModified);

/// <summary>A source that could not be read; the scan records it on the source and as a failed run.</summary>
public sealed class SourceException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Operator settings of civic sources (<c>Platform:Civic:Sources</c>): where <c>file</c> sources may point and how
/// many bytes one document and one scan may bring in.
/// </summary>
public sealed class SourceOptions
{
    public const string Section = "Platform:Civic:Sources";

    /// <summary>
    /// Folders under which <c>file</c> sources may be; none means no tenant may create a <c>file</c> source. A root
    /// containing <c>{tenant}</c> is per tenant (the placeholder becomes the tenant id).
    /// </summary>
    public List<string> FileRoots { get; set; } = [];

    /// <summary>Largest single document (file or download).</summary>
    public long MaxDocumentBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>Largest sum of documents (and feed) one scan of one source reads.</summary>
    public long MaxScanBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Most documents one scan of one source lists.</summary>
    public int MaxDocumentsPerScan { get; set; } = 500;

    /// <summary>Largest feed body.</summary>
    public long MaxFeedBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary>
    /// The folder a tenant's <c>file</c> source names, resolved through every symbolic link, if it lies under one of the
    /// roots (also resolved); otherwise null. Never says whether the folder exists.
    /// </summary>
    public string? ResolveFolder(string location, Guid tenantId)
    {
        if (!Path.IsPathFullyQualified(location) || location.Contains('\0'))
        {
            return null;
        }
        var folder = FileRoots.Count == 0 ? null : RealPath.Resolve(location);
        if (folder is null)
        {
            return null;
        }
        foreach (var root in FileRoots)
        {
            if (string.IsNullOrWhiteSpace(root) || !Path.IsPathFullyQualified(root))
            {
                continue;
            }
            var resolvedRoot = RealPath.Resolve(root.Replace("{tenant}", tenantId.ToString(), StringComparison.Ordinal));
            if (resolvedRoot is not null && RealPath.IsUnder(folder, resolvedRoot))
            {
                return folder;
            }
        }
        return null;
    }
}

/// <summary>Canonical paths: every symbolic link along the way resolved, "." and ".." applied after resolution.</summary>
public static class RealPath
{
    private const int MaxLinks = 40;

    /// <summary>The path with every existing component's links resolved (missing components are kept as named); null on a link loop.</summary>
    public static string? Resolve(string path)
    {
        var pending = new Stack<string>();
        // Not Path.GetFullPath: it would apply ".." before links are resolved; the kernel applies it after.
        var full = Path.IsPathFullyQualified(path) ? path : Path.GetFullPath(path);
        var root = Path.GetPathRoot(full)!;
        foreach (var part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
        {
            pending.Push(part);
        }
        var current = root;
        var links = 0;
        while (pending.TryPop(out var part))
        {
            if (part == ".")
            {
                continue;
            }
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? root;
                continue;
            }
            var next = Path.Combine(current, part);
            string? target = null;
            try
            {
                target = new FileInfo(next).LinkTarget;
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
            if (target is null)
            {
                current = next;
                continue;
            }
            if (++links > MaxLinks)
            {
                return null;
            }
            // Continue from the link's target: an absolute target restarts at its root, a relative one at the link's folder.
            var targetRoot = Path.IsPathRooted(target) ? Path.GetPathRoot(target)! : current;
            foreach (var p in target[(Path.IsPathRooted(target) ? targetRoot.Length : 0)..]
                         .Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
            {
                pending.Push(p);
            }
            current = targetRoot;
        }
        return current;
    }

    public static bool IsUnder(string path, string root)
    {
        var r = Path.TrimEndingDirectorySeparator(root);
        var p = Path.TrimEndingDirectorySeparator(path);
        return p == r || p.StartsWith(r + Path.DirectorySeparatorChar, StringComparison.Ordinal) || r == Path.GetPathRoot(r) && p.StartsWith(r, StringComparison.Ordinal);
    }
}

/// <summary>
/// Reads <c>file</c> sources (a folder of .txt/.html/.pdf under an operator's root) and <c>http</c> sources (a JSON or
/// RSS feed) through the outbound pipeline, within the byte caps of <see cref="SourceOptions"/>. Error messages
/// name no server path and do not say whether one exists.
/// </summary>
public sealed class SourceReader(CivicOptions options, SourceOptions limits, OutboundOptions outbound, HttpClient http)
{
    private static readonly string[] Extensions = [".txt", ".html", ".htm", ".pdf"];

    /// <summary>The single message for every file source that cannot be read, so it reveals nothing about the server.</summary>
    public const string FolderUnavailable = "the folder is not available to this tenant (it must be under a file root the operator configured)";

    public Task<SourceListing> ListAsync(SourceRow source, Guid tenantId, CancellationToken ct) => source.Kind switch
    {
        "file" => Task.FromResult(ListFolder(source.Location, tenantId)),
        "http" => ListFeedAsync(source, ct),
        _ => throw new SourceException($"Unknown source kind '{source.Kind}'."),
    };

    private SourceListing ListFolder(string location, Guid tenantId)
    {
        var folder = limits.ResolveFolder(location, tenantId);
        if (folder is null || !Directory.Exists(folder))
        {
            throw new SourceException(FolderUnavailable);
        }
        var docs = new List<SourceDocument>();
        long total = 0;
        try
        {
            foreach (var file in Directory.EnumerateFiles(folder)
                         .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                         .Order(StringComparer.Ordinal))
            {
                // A file may be a link: read it only if what it points at is still under the same folder's root.
                var real = RealPath.Resolve(file);
                if (real is null || limits.ResolveFolder(Path.GetDirectoryName(real)!, tenantId) is null)
                {
                    continue;
                }
                var name = Path.GetFileName(file);
                if (docs.Count >= limits.MaxDocumentsPerScan)
                {
                    throw new SourceException($"the folder holds more than {limits.MaxDocumentsPerScan} documents");
                }
                var bytes = ReadCapped(real, name);
                total += bytes.Length;
                if (total > limits.MaxScanBytes)
                {
                    throw new SourceException($"the folder's documents exceed the {limits.MaxScanBytes}-byte limit of one scan");
                }
                docs.Add(new SourceDocument(Path.GetFileNameWithoutExtension(file), Path.GetFileNameWithoutExtension(file), DateFromName(file),
                    DocumentText.MediaTypeOf(file), bytes));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SourceException(FolderUnavailable, ex);
        }
        return new SourceListing(docs, false, null, null);
    }

    private byte[] ReadCapped(string path, string name)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        if (!stream.CanSeek || stream.Length > limits.MaxDocumentBytes)
        {
            throw new SourceException($"document '{name}' is larger than the {limits.MaxDocumentBytes}-byte limit");
        }
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>File names start with the meeting date (2025-03-04-regular.txt) by convention.</summary>
    private static DateOnly? DateFromName(string path)
    {
        var name = Path.GetFileName(path);
        return name.Length >= 10 && DateOnly.TryParseExact(name[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;
    }

    private async Task<SourceListing> ListFeedAsync(SourceRow source, CancellationToken ct)
    {
        if (!Uri.TryCreate(source.Location, UriKind.Absolute, out var feedUri))
        {
            throw new SourceException("the feed URL is not an absolute URL");
        }
        long total = 0;
        var (response, feedBytes) = await SendAsync(feedUri, () =>
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
        }, limits.MaxFeedBytes, ct);
        using var _ = response;
        if (response.StatusCode == HttpStatusCode.NotModified)
        {
            return new SourceListing([], true, source.ETag, source.LastModified);
        }
        total += feedBytes.Length;
        var body = System.Text.Encoding.UTF8.GetString(feedBytes);
        var entries = ParseFeed(body, response.Content.Headers.ContentType?.MediaType);
        if (entries.Count > limits.MaxDocumentsPerScan)
        {
            throw new SourceException($"the feed lists more than {limits.MaxDocumentsPerScan} documents");
        }
        var docs = new List<SourceDocument>();
        foreach (var e in entries)
        {
            if (!Uri.TryCreate(feedUri, e.Url, out var uri))
            {
                throw new SourceException($"entry '{e.Uid}' has no usable URL");
            }
            var (doc, bytes) = await SendAsync(uri, () => new HttpRequestMessage(HttpMethod.Get, uri), limits.MaxDocumentBytes, ct);
            using (doc)
            {
                total += bytes.Length;
                if (total > limits.MaxScanBytes)
                {
                    throw new SourceException($"the feed's documents exceed the {limits.MaxScanBytes}-byte limit of one scan");
                }
                var mediaType = e.MediaType ?? MediaTypeFromResponse(doc, uri);
                docs.Add(new SourceDocument(e.Uid, e.Title, e.Date, mediaType, bytes));
            }
        }
        return new SourceListing(docs, false, response.Headers.ETag?.ToString(),
            response.Content.Headers.LastModified?.ToString("R", CultureInfo.InvariantCulture));
    }

    private static string MediaTypeFromResponse(HttpResponseMessage doc, Uri uri)
    {
        var byName = DocumentText.MediaTypeOf(uri.AbsolutePath);
        return byName != "application/octet-stream" ? byName : doc.Content.Headers.ContentType?.MediaType ?? byName;
    }

    /// <summary>
    /// Sends through the outbound pipeline with a per-attempt timeout, reads at most <paramref name="maxBytes"/>, and
    /// retries 5xx, 429, timeouts and connection failures. A refused address or an oversized body is not retried.
    /// </summary>
    private async Task<(HttpResponseMessage Response, byte[] Body)> SendAsync(Uri target, Func<HttpRequestMessage> request, long maxBytes, CancellationToken ct)
    {
        if (OutboundHttp.WhyRefused(target, outbound, requireHttps: false) is { } refused)
        {
            throw new SourceException($"{target} refused: {refused}");
        }
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
                    try
                    {
                        return (response, await OutboundHttp.ReadCappedAsync(response.Content, maxBytes, timeout.Token));
                    }
                    catch (OutboundRefusedException ex)
                    {
                        response.Dispose();
                        throw new SourceException($"{message.RequestUri}: {ex.Message}");
                    }
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
            catch (HttpRequestException ex) when (OutboundHttp.Refusal(ex) is { } refusal)
            {
                throw new SourceException($"{target.GetLeftPart(UriPartial.Authority)} {refusal.Message}"); // asking again reaches the same address
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
            // No DTDs: entity expansion and external entities are not a feed's business.
            using var xml = XmlReader.Create(new StringReader(body), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            var rss = XDocument.Load(xml);
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
