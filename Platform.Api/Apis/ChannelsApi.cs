using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Security;
using Platform.Core.Tenancy;

namespace Platform.Api.Apis;

/// <summary>Tenant endpoints for channels and their secrets. Every query is the calling tenant's only.</summary>
public static class ChannelsApi
{
    public static RouteGroupBuilder MapChannelsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/channels").WithTags("Channels").RequireAuthorization(AuthPolicies.Tenant)
            .AddEndpointFilter<TenantRateLimitFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        api.MapPost("/", CreateChannel).WithName("CreateChannel")
            .WithSummary("Create a channel; the answer carries its secret (shown once).")
            .Accepts<CreateChannelRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/", ListChannels).WithName("ListChannels")
            .WithSummary("List the tenant's channels in creation order; page with ?after={next}&limit=.").ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/{id}", GetChannel).WithName("GetChannel").WithSummary("Get a channel.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPatch("/{id}", UpdateChannel).WithName("UpdateChannel")
            .WithSummary("Activate or deactivate a channel (status: active | inactive) or rename it.")
            .Accepts<UpdateChannelRequest>("application/json").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{id}/secret", RotateSecret).WithName("RotateChannelSecret")
            .WithSummary("Replace the channel secret; the old secret stops working immediately.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    public static async Task<Results<Created<ChannelCreated>, ProblemHttpResult>> CreateChannel(HttpRequest request, ClaimsPrincipal user, Channels channels,
        CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, ApiJsonContext.Default.CreateChannelRequest);
        if (problem is not null)
        {
            return problem;
        }
        if (TenantsApi.NameProblem(body!.Name, required: true) is { } invalid)
        {
            return invalid;
        }
        var (channel, secret) = await channels.CreateAsync(Caller.From(user).TenantId, body.Name!.Trim(), ct);
        return TypedResults.Created($"/v1/channels/{channel.Id}", new ChannelCreated(channel.Id, channel.Name, channel.Status, secret, channel.CreatedAt));
    }

    public static async Task<Results<Ok<ChannelPage>, ProblemHttpResult>> ListChannels(string? after, string? limit, ClaimsPrincipal user, Channels channels,
        CancellationToken ct)
    {
        if (!Problems.TryParsePage(after, limit, 1000, 100, out var request, out var problem))
        {
            return problem!;
        }
        var page = await channels.ListAsync(Caller.From(user).TenantId, request.Limit, request.After, ct);
        return TypedResults.Ok(new ChannelPage(page, request.Next(page, r => r.Id)));
    }

    public static async Task<Results<Ok<Channel>, ProblemHttpResult>> GetChannel(string id, ClaimsPrincipal user, Channels channels, CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var channelId, out var problem))
        {
            return problem!;
        }
        return await channels.FindAsync(Caller.From(user).TenantId, channelId, ct) is { } channel ? TypedResults.Ok(channel) : Problems.NotFound("Channel");
    }

    public static async Task<Results<Ok<Channel>, ProblemHttpResult>> UpdateChannel(string id, HttpRequest request, ClaimsPrincipal user, Channels channels,
        CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var channelId, out var problem))
        {
            return problem!;
        }
        var (body, bodyProblem) = await JsonBody.ReadAsync(request, ApiJsonContext.Default.UpdateChannelRequest);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }
        if ((TenantsApi.StatusProblem(body!.Status) ?? TenantsApi.NameProblem(body.Name, required: false)) is { } invalid)
        {
            return invalid;
        }
        if (body.Status is null && body.Name is null)
        {
            return Problems.Invalid("status", "Nothing to change: send status (active | inactive) and/or name.");
        }
        return await channels.UpdateAsync(Caller.From(user).TenantId, channelId, body.Name?.Trim(), body.Status, ct) is { } channel
            ? TypedResults.Ok(channel)
            : Problems.NotFound("Channel");
    }

    public static async Task<Results<Created<ChannelSecret>, ProblemHttpResult>> RotateSecret(string id, ClaimsPrincipal user, Channels channels,
        CancellationToken ct)
    {
        if (!Problems.TryParseId(id, "id", out var channelId, out var problem))
        {
            return problem!;
        }
        return await channels.RotateSecretAsync(Caller.From(user).TenantId, channelId, ct) is { } secret
            ? TypedResults.Created($"/v1/channels/{channelId}", new ChannelSecret(secret))
            : Problems.NotFound("Channel");
    }
}
