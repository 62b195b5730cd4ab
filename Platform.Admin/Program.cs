using Platform.Admin.Access;
using Platform.Admin.Components;

var builder = WebApplication.CreateBuilder(args);
// blazor.web.js comes from a package, not from wwwroot: outside Development the host would not look in the build's
// static web assets manifest and answers 500 for it (tests run as "Testing", the AppHost's runs may be Production).
// A published app has the file in wwwroot and no manifest, and then this does nothing.
builder.WebHost.UseStaticWebAssets();

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

// Before anything else: outside the allowlist nothing of the app answers, not even health, sign-in or /_blazor.
app.UseMiddleware<NetworkAllowlist>();
app.MapDefaultEndpoints();
app.UseAuthentication();
app.UseAuthorization();
app.UseSignedInCircuitsOnly();
app.UseAntiforgery();

app.MapStaticAssets();
app.MapSessionApi();
app.MapHangfireDashboardProxy();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

app.Run();
