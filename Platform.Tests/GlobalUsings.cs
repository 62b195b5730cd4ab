global using System.Net;
global using System.Net.Http.Json;
global using Platform.Tests.Infrastructure;
global using Xunit;
