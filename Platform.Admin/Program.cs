using Platform.Admin.Access;
using Platform.Admin.Components;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

// Before anything else: outside the allowlist nothing of the app answers, not even health or sign-in.
app.UseMiddleware<NetworkAllowlist>();
app.MapDefaultEndpoints();
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();

app.MapStaticAssets();
app.MapSessionApi();
app.MapLiveApi();
app.MapHangfireDashboardProxy();
app.MapRazorComponents<App>();

app.Run();
