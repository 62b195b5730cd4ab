using Hangfire.AspNetCore;
using Hangfire.Logging;
using Microsoft.Extensions.Logging;

namespace Platform.Core.Jobs;

/// <summary>
/// Hangfire's log provider is process-wide: every host that adds Hangfire installs its own <see cref="ILoggerFactory"/>
/// there, and it stays installed after that host is disposed. Several hosts live and die in one process (tests, the job
/// benchmark), so a logger requested through a disposed host's factory is silent instead of throwing
/// <see cref="ObjectDisposedException"/> out of Hangfire's constructors.
/// </summary>
internal sealed class HostLogProvider(ILoggerFactory factory) : ILogProvider
{
    private readonly AspNetCoreLogProvider _inner = new(factory);

    public ILog GetLogger(string name)
    {
        try
        {
            return _inner.GetLogger(name);
        }
        catch (ObjectDisposedException)
        {
            return Silent.Instance;
        }
    }

    private sealed class Silent : ILog
    {
        public static readonly Silent Instance = new();

        public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null) => false;
    }
}
