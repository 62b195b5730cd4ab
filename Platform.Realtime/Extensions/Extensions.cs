namespace Microsoft.Extensions.DependencyInjection;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddPlatformDb();
        builder.AddPlatformRedis();
    }
}
