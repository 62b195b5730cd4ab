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
app.MapEventsApi();
app.MapMatchingApi();
app.MapGatheringsApi();
app.MapIntelligenceApi();
app.MapUsersApi();
app.MapNotificationsApi();
app.MapWebhooksApi();

app.Run();
