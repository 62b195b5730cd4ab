// Load generator, limit probes and report writer for bench/run.sh (see bench/README.md). Every mode writes one JSON
// document; the servers under test are separate processes (started by ./platform.sh).
//   dotnet Platform.Bench.Load.dll <limits|api|api-rls|throughput|connections|resume|append-cost|trivial|report|validate> [--smoke] [--out file.json] [options]
using Platform.Bench.Load;

if (args.Length == 0)
{
    Console.Error.WriteLine("usage: Platform.Bench.Load <limits|api|api-rls|throughput|connections|resume|append-cost|trivial|report|validate> [--smoke] [--out file.json] …");
    return 2;
}
var a = new Args(args[1..]);
System.Threading.ThreadPool.SetMinThreads(200, 200);
try
{
    return args[0] switch
    {
        "limits" => await Scenarios.LimitsAsync(a),
        "api" => await Scenarios.ApiAsync(a),
        "api-rls" => await Scenarios.ApiRlsAsync(a),
        "throughput" => await Scenarios.ThroughputAsync(a),
        "connections" => await Scenarios.ConnectionsAsync(a),
        "resume" => await Scenarios.ResumeAsync(a),
        "append-cost" => await AppendCost.RunAsync(a),
        "trivial" => await Scenarios.TrivialAsync(a),
        "report" => ReportWriter.Write(a),
        "validate" => ReportWriter.Validate(a),
        _ => 2,
    };
}
catch (Exception e)
{
    Console.Error.WriteLine($"{args[0]} failed: {e}");
    return 1;
}
