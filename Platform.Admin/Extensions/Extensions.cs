using Microsoft.AspNetCore.Authentication.Cookies;
using Platform.Admin.Access;
using Platform.Admin.Services;

namespace Microsoft.Extensions.DependencyInjection;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        // Operator pages run as interactive server components (a circuit per browser tab): live figures, the conversation
        // tail and job states are pushed by the server as they change. Only sign-in is static, to set the cookie.
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddCascadingAuthenticationState();

        var admin = builder.Configuration.GetSection("Admin");
        builder.Services.Configure<AdminAccessOptions>(admin);
        builder.Services.PostConfigure<AdminAccessOptions>(o =>
        {
            // An environment variable holds one string: accept "10.0.0.0/8, 192.168.1.0/24" as well as a list.
            o.AllowedNetworks = SplitList(admin["AllowedNetworks"], o.AllowedNetworks);
            o.TrustedProxies = SplitList(admin["TrustedProxies"], o.TrustedProxies);
        });
        builder.Services.Configure<SignInOptions>(admin);
        builder.Services.Configure<AdminLinks>(admin);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<OperatorSignIn>();

        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.LoginPath = "/signin";
                o.LogoutPath = "/signout";
                o.AccessDeniedPath = "/signin";
                o.Cookie.Name = "platform_admin";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                // Secure whenever the panel is reached over https, directly or through a trusted TLS-terminating proxy
                // (NetworkAllowlist applies its X-Forwarded-Proto); plain http stays usable on loopback in development.
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = TimeSpan.FromHours(8);
                o.SlidingExpiration = true;
            });
        builder.Services.AddAuthorization();

        builder.Services.Configure<PlatformApiOptions>(o => o.OperatorKey = builder.Configuration["Platform:OperatorKey"]);
        builder.Services.AddHttpClient<PlatformApi>(c => c.BaseAddress = new Uri("http://api"));
        builder.Services.AddHangfireDashboardProxy();
        builder.Services.AddSingleton<ServiceHealth>();
    }

    private static List<string> SplitList(string? single, List<string> bound) =>
        single is { Length: > 0 }
            ? [.. single.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]
            : bound;
}
