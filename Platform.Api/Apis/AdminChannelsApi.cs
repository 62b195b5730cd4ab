using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Core.Admin;
using Platform.Core.Tenancy;
using Npgsql;
using Platform.Api.Apis;

namespace Microsoft.AspNetCore.Builder;

public sealed record AdminCreateChannelRequest(string? Name);

public sealed record AdminChannelStatusRequest(string? Status);

public sealed record AdminChannelCreated(Guid Id, string Name, string Status, string Secret, DateTimeOffset CreatedAt);

public sealed record AdminChannelSecret(string Secret);

/// <summary>
/// The operator managing a tenant's channels from the Admin panel: the same <see cref="Channels"/> operations the
/// tenant's own <c>/v1/channels</c> endpoints use, addressed by tenant id instead of by the tenant's key.
/// </summary>
public static class AdminChannelsApi
{
    public static RouteGroupBuilder MapAdminChannels(this RouteGroupBuilder api)
    {
        api.MapPost("/tenants/{id:guid}/channels", CreateChannel).WithName("AdminCreateChannel")
            .WithSummary("Create a channel for a tenant; the secret is in this answer only.").Accepts<AdminCreateChannelRequest>("application/json");
        api.MapPatch("/tenants/{id:guid}/channels/{channelId:guid}", SetChannelStatus).WithName("AdminSetChannelStatus")
            .WithSummary("Activate or deactivate a tenant's channel.").Accepts<AdminChannelStatusRequest>("application/json");
        api.MapPost("/tenants/{id:guid}/channels/{channelId:guid}/secret", RotateChannelSecret).WithName("AdminRotateChannelSecret")
            .WithSummary("Replace a channel's secret; the old one stops working at once.");
        return api;
    }

    public static async Task<Results<Created<AdminChannelCreated>, NotFound, ValidationProblem, ProblemHttpResult>> CreateChannel(
        NpgsqlDataSource db, Channels channels, Guid id, HttpRequest request, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, ApiJsonContext.Default.AdminCreateChannelRequest);
        if (problem is not null)
        {
            return problem;
        }
        var name = body!.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > Channels.MaxNameLength)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["name"] = [$"Give a name of 1 to {Channels.MaxNameLength} characters."] });
        }
        if (await AdminReads.TenantAsync(db, id, ct) is null)
        {
            return TypedResults.NotFound();
        }
        var (channel, secret) = await channels.CreateAsync(id, name, ct);
        return TypedResults.Created($"/v1/channels/{channel.Id}", new AdminChannelCreated(channel.Id, channel.Name, channel.Status, secret, channel.CreatedAt));
    }

    public static async Task<Results<Ok<Channel>, NotFound, ValidationProblem, ProblemHttpResult>> SetChannelStatus(
        Channels channels, Guid id, Guid channelId, HttpRequest request, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, ApiJsonContext.Default.AdminChannelStatusRequest);
        if (problem is not null)
        {
            return problem;
        }
        if (body!.Status is not ("active" or "inactive"))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["status"] = ["Use 'active' or 'inactive'."] });
        }
        return await channels.UpdateAsync(id, channelId, null, body.Status, ct) is { } channel ? TypedResults.Ok(channel) : TypedResults.NotFound();
    }

    public static async Task<Results<Created<AdminChannelSecret>, NotFound>> RotateChannelSecret(Channels channels, Guid id, Guid channelId, CancellationToken ct) =>
        await channels.RotateSecretAsync(id, channelId, ct) is { } secret
            ? TypedResults.Created($"/v1/channels/{channelId}", new AdminChannelSecret(secret))
            : TypedResults.NotFound();
}
