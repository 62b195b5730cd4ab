using System.Buffers;
using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Security;
using Platform.Core.Impact.Privacy;
using Platform.Core.Impact.Programs;
using Platform.Core.Impact.Reporting;
using Platform.Core.Impact.Scoring;
using Platform.Core.Jobs;

namespace Platform.Api.Apis;

/// <summary>Program data coming in: CSV imports, webhook signing secrets and signed webhook deliveries.</summary>
public static partial class ImpactApi
{
    public static async Task<Results<Ok<ImportReport>, ProblemHttpResult>> Import(string? companyId, string? kind, HttpRequest request, ClaimsPrincipal user,
        Companies companies, ImpactImports imports, CancellationToken ct)
    {
        if (companyId is null || !Problems.TryParseId(companyId, "companyId", out var company, out var problem))
        {
            return Problems.Invalid("companyId", "companyId (a UUID) is required.");
        }
        if (kind is null || !ImpactImports.Columns.ContainsKey(kind))
        {
            return Problems.Invalid("kind", $"kind must be one of {string.Join(", ", ImpactImports.Columns.Keys)}.");
        }
        var tenant = Caller.From(user).TenantId;
        if (await companies.FindAsync(tenant, company, ct) is null)
        {
            return Problems.NotFound("Company");
        }
        var (bytes, tooLarge) = await ReadBodyAsync(request, MaxCsvBytes);
        if (tooLarge)
        {
            return Problems.TooLarge(MaxCsvBytes);
        }
        string csv;
        try
        {
            csv = new UTF8Encoding(false, true).GetString(bytes).TrimStart('\uFEFF');
        }
        catch (DecoderFallbackException)
        {
            return Problems.Invalid("body", "The file is not UTF-8 text.");
        }
        try
        {
            return TypedResults.Ok(await imports.ImportAsync(tenant, company, kind, csv, ct));
        }
        catch (ImportFormatException ex)
        {
            return Problems.Invalid(ex.Field, ex.Message);
        }
    }

    public static async Task<Results<Created<WebhookSecretIssued>, ProblemHttpResult>> IssueWebhookSecret(string source, HttpRequest request,
        ClaimsPrincipal user, Companies companies, ImpactWebhooks webhooks, CancellationToken ct)
    {
        if (!ImpactImports.ValidSource(source))
        {
            return Problems.Invalid("source", "source must be 1–40 lower-case letters, digits or '-'.");
        }
        var (body, problem) = await JsonBody.ReadAsync(request, ImpactJsonContext.Default.WebhookSecretRequest);
        if (problem is not null)
        {
            return problem;
        }
        if (body!.CompanyId is not { } companyId)
        {
            return Problems.Invalid("companyId", "companyId is required: the company whose program data this source delivers.");
        }
        var tenant = Caller.From(user).TenantId;
        if (await companies.FindAsync(tenant, companyId, ct) is null)
        {
            return Problems.NotFound("Company");
        }
        var secret = await webhooks.IssueSecretAsync(tenant, source, companyId, ct);
        return TypedResults.Created($"/v1/impact/webhooks/{source}", new WebhookSecretIssued(source, companyId, secret, SignatureHeader, TimestampHeader, TenantHeader));
    }

    public static async Task<Results<Accepted<WebhookAccepted>, Ok<WebhookAccepted>, ProblemHttpResult>> ReceiveWebhook(string source, HttpRequest request,
        ImpactWebhooks webhooks, CancellationToken ct)
    {
        var remote = request.HttpContext.Connection.RemoteIpAddress?.ToString();
        var (bytes, tooLarge) = await ReadBodyAsync(request, JsonBody.MaxBytes);
        if (tooLarge)
        {
            return Problems.TooLarge(JsonBody.MaxBytes);
        }
        Guid? tenant = Guid.TryParse(request.Headers[TenantHeader].ToString(), out var t) ? t : null;
        var known = tenant is { } id && ImpactImports.ValidSource(source) ? await webhooks.FindSourceAsync(id, source, ct) : null;
        var rejection = known is null
            ? "unknown tenant or source"
            : WebhookSignature.Verify(known.Value.Secret, request.Headers[TimestampHeader].ToString(), request.Headers[SignatureHeader].ToString(), bytes,
                DateTimeOffset.UtcNow);
        if (rejection is not null)
        {
            await webhooks.RejectAsync(tenant, source, rejection, remote, ct);
            return TypedResults.Problem(new ProblemDetails
            {
                Status = StatusCodes.Status401Unauthorized,
                Type = ProblemTypes.Unauthenticated,
                Title = "The webhook signature is invalid.",
                Detail = $"Sign timestamp + '.' + body with HMAC-SHA256 under the source's secret; send {TenantHeader}, {TimestampHeader} (unix seconds, within 5 minutes) and {SignatureHeader}: sha256=<hex>.",
            });
        }
        var (envelope, field, error) = DomainEvents.Parse(bytes);
        if (envelope is null)
        {
            return Problems.Invalid(field!, error!);
        }
        var stored = await webhooks.ReceiveAsync(tenant!.Value, source, known!.Value.CompanyId, envelope, Encoding.UTF8.GetString(bytes), ct);
        var answer = new WebhookAccepted(envelope.Id, envelope.Type, !stored);
        return stored ? TypedResults.Accepted((string?)null, answer) : TypedResults.Ok(answer);
    }


    private static async Task<(byte[] Bytes, bool TooLarge)> ReadBodyAsync(HttpRequest request, int max)
    {
        if (request.ContentLength > max)
        {
            return ([], true);
        }
        var buffer = new ArrayBufferWriter<byte>();
        var chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
            {
                if (buffer.WrittenCount + read > max)
                {
                    return ([], true);
                }
                buffer.Write(chunk.AsSpan(0, read));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
        return (buffer.WrittenSpan.ToArray(), false);
    }
}
