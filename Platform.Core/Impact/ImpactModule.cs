using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.Core.Impact.Privacy;
using Platform.Core.Impact.Programs;
using Platform.Core.Impact.Reporting;
using Platform.Core.Impact.Safety;
using Platform.Core.Impact.Scoring;
using Platform.Core.Jobs;

namespace Platform.Core.Impact;

public static class ImpactModule
{
    /// <summary>
    /// Social impact: program data, the PII vault, scores, reports and safety flags, with the job handlers and the nightly
    /// schedules. Api and Worker both call this; only the Worker runs job handlers and schedules, so in the Api they are
    /// registrations nothing resolves.
    /// </summary>
    public static IHostApplicationBuilder AddImpact(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<PiiVault>();
        services.AddSingleton<Companies>();
        services.AddSingleton<ImpactPeople>();
        services.AddSingleton<TextScoreReads>();
        services.AddSingleton<ImpactImports>();
        services.AddSingleton<ImpactWebhooks>();
        services.AddSingleton<PrivacyRequests>();
        services.AddSingleton<ImpactReports>();
        services.AddSingleton<ImpactAnalytics>();
        services.AddSingleton<SafetyFlags>();
        Ai.ModelClients.AddSharedChatClient(services, builder.Configuration);
        services.AddSingleton(sp => OutcomeModels.FromConfiguration(sp.GetService<Microsoft.Extensions.Configuration.IConfiguration>(), sp));

        services.AddJobHandler<ScoreTextArgs, ScoreTextHandler>();
        services.AddJobHandler<ScoreTextsArgs, ScoreTextHandler>();
        services.AddJobHandler<ApplyDomainEventArgs, ApplyDomainEventHandler>();
        services.AddJobHandler<ComputeCompanyMetricsArgs, ComputeCompanyMetricsHandler>();
        services.AddJobHandler<PrivacyRequestArgs, PrivacyRequestHandler>();
        services.AddJobHandler<MetricsSweepArgs, MetricsSweepHandler>();
        // Nightly at 02:15 UTC: this month and the last, for every company (late data lands in the previous month).
        services.AddRecurringJob("impact.metrics-nightly", "0 15 2 * * ?", new MetricsSweepArgs());
        services.AddJobHandler<PruneRejectionsArgs, PruneRejectionsHandler>();
        // Daily at 03:40 UTC: rejection windows older than the retention go.
        services.AddRecurringJob("impact.rejections-prune", "0 40 3 * * ?", new PruneRejectionsArgs());
        return builder;
    }
}
