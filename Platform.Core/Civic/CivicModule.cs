using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Core.Jobs;
using Platform.Core.Security;

namespace Platform.Core.Civic;

public static class CivicModule
{
    /// <summary>
    /// Civic meeting digests (settings: <c>Platform:Civic</c>): the reads and writes the API calls, and the pipeline's job
    /// handlers with the every-minute check of per-city cron schedules. Api and Worker both call this; only the Worker
    /// runs job handlers and schedules, so in the Api they are registrations nothing resolves.
    /// </summary>
    public static IHostApplicationBuilder AddCivic(this IHostApplicationBuilder builder)
    {
        var options = new CivicOptions();
        builder.Configuration.GetSection(CivicOptions.Section).Bind(options);
        var sources = new SourceOptions();
        builder.Configuration.GetSection(SourceOptions.Section).Bind(sources);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(sources);
        builder.Services.TryAddSingleton(OutboundOptions.From(builder.Configuration));
        builder.Services.AddSingleton<IArtifactStore, LocalFolderArtifactStore>();

        builder.Services.AddSingleton<CivicCities>();
        builder.Services.AddSingleton<CivicMeetings>();
        builder.Services.AddSingleton<ReaderProfiles>();
        builder.Services.AddSingleton<ProcessingRuns>();

        // Feeds and their documents are tenant-controlled URLs: the outbound pipeline checks every hop; per-attempt timeouts are SourceReader's.
        var outbound = OutboundOptions.From(builder.Configuration);
        builder.Services.AddSingleton(new SourceReader(options, sources, outbound,
            OutboundHttp.CreateClient(outbound, followRedirects: true, Timeout.InfiniteTimeSpan)));
        // The model endpoint is the operator's configuration, not a tenant's URL, so it does not go through the outbound pipeline.
        if (Ai.ModelClients.AddSharedChatClient(builder.Services, builder.Configuration))
        {
            builder.Services.AddSingleton<ISummarizer>(sp => new GenerativeSummarizer(sp.GetRequiredService<IChatClient>(),
                sp.GetRequiredKeyedService<Ai.ModelEndpointOptions>(Ai.ModelClients.ChatSection), options.Generative,
                sp.GetRequiredService<ILogger<GenerativeSummarizer>>()));
        }
        else
        {
            builder.Services.AddSingleton<ISummarizer, ExtractiveSummarizerAdapter>();
        }
        builder.Services.AddSingleton<INotificationOutbox, SharedNotificationOutbox>();
        builder.Services.AddSingleton<RunLedger>();
        builder.Services.AddJobHandler<CityScanArgs, CityScanHandler>();
        builder.Services.AddJobHandler<MeetingIngestArgs, MeetingIngestHandler>();
        builder.Services.AddJobHandler<MeetingExtractArgs, MeetingExtractHandler>();
        builder.Services.AddJobHandler<MeetingSummarizeArgs, MeetingSummarizeHandler>();
        builder.Services.AddJobHandler<MeetingPublishArgs, MeetingPublishHandler>();
        builder.Services.AddJobHandler<CivicScanDueArgs, ScanDueHandler>();
        builder.Services.AddJobHandler<ProfileDeleteArgs, ProfileDeleteHandler>();
        builder.Services.AddRecurringJob("civic.scan-due", "0 * * * * ?", new CivicScanDueArgs());
        return builder;
    }
}
