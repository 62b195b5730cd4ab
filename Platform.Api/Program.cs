using Platform.Api.Apis;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UsePlatformSecurity();
app.MapApiDocs();
app.MapTenantsApi();
app.MapChannelsApi();
app.MapConversationsApi();
app.MapJobsAdminApi();
app.MapImpactApi();
app.MapPrivacyApi();
app.MapSafetyApi();

app.Run();
