// The faults scenario (bench/README.md, docs/operations.md): stream clients on both Realtime nodes, a steady rate of
// posts (each with a clientActivityId, retried with the same id until acknowledged), a civic scan whose published
// meetings notify subscribers; then, in turn, each part of the running system is killed or restarted. Afterwards it
// checks, per step, acknowledged vs stored vs delivered activities, retries, notifications sent and pipeline runs.
//   dotnet Platform.Bench.Faults.dll [--smoke] --out faults.json [--state .platform]
using Platform.Bench.Faults;
using Platform.Bench.Load;

var a = new Args(args);
System.Threading.ThreadPool.SetMinThreads(200, 200);
try
{
    return await FaultsScenario.RunAsync(a);
}
catch (Exception e)
{
    Console.Error.WriteLine($"faults failed: {e}");
    return 1;
}
