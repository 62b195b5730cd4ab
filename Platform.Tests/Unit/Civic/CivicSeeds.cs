namespace Platform.Tests.Unit.Civic;

/// <summary>The committed seed minutes (seeds/civic), found by walking up from the test binaries.</summary>
public static class CivicSeeds
{
    public static string Root { get; } = Find();

    public static string Riverton => Path.Combine(Root, "riverton");
    public static string Lakeshore => Path.Combine(Root, "lakeshore");

    public static IEnumerable<string> Documents(string folder) =>
        Directory.EnumerateFiles(folder).Where(f => Path.GetExtension(f) is ".txt" or ".html" or ".pdf").Order(StringComparer.Ordinal);

    /// <summary>Vote lines as a reader counts them: every line that records a vote.</summary>
    public static int VoteLines(string text) =>
        text.Split('\n').Count(l => l.StartsWith("VOTE:", StringComparison.Ordinal) || l.StartsWith("ROLL CALL VOTE", StringComparison.Ordinal));

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "seeds", "civic");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException("seeds/civic not found above " + AppContext.BaseDirectory);
    }
}
