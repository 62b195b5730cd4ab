using Platform.Realtime.Streaming;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseWebSockets();
app.MapStreamApi();
app.MapDirectLineStream();
app.MapConferenceStreamApi();

app.Run();
