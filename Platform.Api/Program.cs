using Platform.Api.Apis;
using Platform.Api.Identity;

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
app.MapDirectLineApi();
app.MapJobsAdminApi();
app.MapAdminReadApi();
app.MapCivicApi();
app.MapCommunityApi();
app.MapGovernanceApi();
app.MapEventsApi();
app.MapMatchingApi();
app.MapGatheringsApi();
app.MapIntelligenceApi();
app.MapConferenceInsightsApi();
app.MapUsersApi();
app.MapNotificationsApi();
app.MapNotificationChannelsApi();
app.MapNotificationEmailApi();
app.MapSafetyContactsApi();
app.MapWebhooksApi();
app.MapImpactApi();
app.MapSearchApi();
app.MapPrivacyApi();
app.MapRetentionApi();
app.MapSafetyApi();
app.MapIdentityApi();
app.MapIdentityPages();

app.Run();
