using Platform.Eval.Civic;

// Usage: dotnet run --project eval/civic/Evaluate -- [dev|heldout|all] [--misses]
var which = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "all";
var corpus = CivicEvaluation.FindCorpus(Directory.GetCurrentDirectory());
var sets = (which == "all" ? ["dev", "heldout"] : new[] { which }).Select(s => CivicEvaluation.Evaluate(Path.Combine(corpus, s), s)).ToArray();
Console.Write(CivicEvaluation.Report(sets));
if (args.Contains("--misses"))
{
    foreach (var s in sets)
    {
        Console.WriteLine($"\n{s.Set}:");
        foreach (var m in s.Misses)
        {
            Console.WriteLine("  " + m);
        }
    }
}
