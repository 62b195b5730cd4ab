using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Platform.Core.Admin;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// The operator's view of notification delivery across tenants for the Admin panel: backlog and age, deliveries per
/// channel, webhook endpoints the dispatcher disabled after repeated failures, and turning one back on. Replay of one
/// notification stays at <c>/v1/internal/notifications/replay/{outboxId}</c>.
/// </summary>
public static class AdminNotificationsApi
{
    public static RouteGroupBuilder MapAdminNotifications(this RouteGroupBuilder api)
    {
        api.MapGet("/notifications/health", GetHealth).WithName("AdminNotificationHealth")
            .WithSummary("Pending deliveries and the oldest one's age, deliveries per channel in the last 24 h by state, disabled webhooks.");
        api.MapGet("/notifications/webhooks/disabled", ListDisabledWebhooks).WithName("AdminListDisabledWebhooks")
            .WithSummary("Webhook endpoints of every tenant disabled after a streak of failed deliveries, most recent first (cursor-paged).");
        api.MapGet("/notifications/email/disabled", ListDisabledAddresses).WithName("AdminListDisabledEmailAddresses")
            .WithSummary("Email addresses of every tenant that no longer receive mail (refused at RCPT TO or bounced), most recent first, masked; ?limit= (1–200, 25).");
        api.MapPost("/notifications/webhooks/{id:guid}/enable", EnableWebhook).WithName("AdminEnableWebhook")
            .WithSummary("Turn a disabled webhook endpoint back on with a clean failure streak.").ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    public static async Task<Ok<NotificationHealthFigures>> GetHealth(NpgsqlDataSource db, CancellationToken ct) =>
        TypedResults.Ok(await NotificationHealth.FiguresAsync(db, ct));

    public static async Task<Ok<Page<DisabledWebhookRow>>> ListDisabledWebhooks(NpgsqlDataSource db, string? cursor, int? limit, CancellationToken ct) =>
        TypedResults.Ok(await NotificationHealth.DisabledWebhooksAsync(db, cursor, AdminReads.ClampPageSize(limit), ct));

    public static async Task<Ok<IReadOnlyList<DisabledAddressRow>>> ListDisabledAddresses(NpgsqlDataSource db, int? limit, CancellationToken ct) =>
        TypedResults.Ok(await NotificationHealth.DisabledAddressesAsync(db, AdminReads.ClampPageSize(limit), ct));

    public static async Task<Results<NoContent, ProblemHttpResult>> EnableWebhook(NpgsqlDataSource db, Guid id, CancellationToken ct) =>
        await NotificationHealth.ReenableWebhookAsync(db, id, ct)
            ? TypedResults.NoContent()
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No disabled webhook endpoint has this id.");
}
