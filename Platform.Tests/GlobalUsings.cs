global using System.Net;
global using System.Net.Http.Json;
global using Platform.Tests.Infrastructure;
global using Xunit;

// The suite starts PostgreSQL and Redis from the machine's binaries under Unix accounts, as the AppHost does.
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
