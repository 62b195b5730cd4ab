using System.Security.Cryptography;

namespace Platform.Core.Civic;

/// <summary>Where raw documents are kept, addressed by their SHA-256 so the same bytes are stored once.</summary>
public interface IArtifactStore
{
    /// <summary>Stores the bytes (if not already there) and returns their SHA-256 (lower-case hex), which is also the key.</summary>
    Task<string> PutAsync(byte[] bytes, CancellationToken ct);

    Task<byte[]> GetAsync(string sha256, CancellationToken ct);
}

/// <summary>The default adapter: a local folder, <c>{root}/ab/abcdef…</c>. Writes go through a temp file and a rename.</summary>
public sealed class LocalFolderArtifactStore(CivicOptions options) : IArtifactStore
{
    private readonly string _root = Path.GetFullPath(options.StoragePath);

    public static string Sha256Of(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public async Task<string> PutAsync(byte[] bytes, CancellationToken ct)
    {
        var sha = Sha256Of(bytes);
        var path = PathOf(sha);
        if (File.Exists(path))
        {
            return sha; // deduplicated: content-addressed, so equal names mean equal bytes
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        await File.WriteAllBytesAsync(temp, bytes, ct);
        File.Move(temp, path, overwrite: true);
        return sha;
    }

    public Task<byte[]> GetAsync(string sha256, CancellationToken ct) => File.ReadAllBytesAsync(PathOf(sha256), ct);

    private string PathOf(string sha) =>
        sha.Length == 64 && sha.All(Uri.IsHexDigit)
            ? Path.Combine(_root, sha[..2], sha)
            : throw new ArgumentException("Not a SHA-256 key.", nameof(sha));
}

/// <summary>Settings under <c>Platform:Civic</c>.</summary>
public sealed class CivicOptions
{
    public const string Section = "Platform:Civic";

    public string StoragePath { get; set; } = Path.Combine(Path.GetTempPath(), "platform-civic-artifacts");
    public GateThresholds Gate { get; set; } = new();
    /// <summary>Per request to an http source (feed or document).</summary>
    public TimeSpan HttpTimeout { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>Attempts per request before the source is recorded as failed (5xx, timeouts, connection errors).</summary>
    public int HttpAttempts { get; set; } = 3;
    public TimeSpan HttpRetryDelay { get; set; } = TimeSpan.FromMilliseconds(250);
    public GenerativeOptions Generative { get; set; } = new();
    public DocumentLimits Documents { get; set; } = new();
}

/// <summary>
/// The generative summarizer's own settings (<c>Platform:Civic:Generative</c>). Which model writes the summaries, and
/// whether one does, is the shared chat setting <c>Platform:Models:Chat</c> (<see cref="Ai.ModelClients.ChatSettings"/>);
/// the model keys once read from this section still work there, logged as deprecated.
/// </summary>
public sealed class GenerativeOptions
{
    /// <summary>Minutes longer than this are cut before they are sent.</summary>
    public int MaxInputChars { get; set; } = 60_000;
}
