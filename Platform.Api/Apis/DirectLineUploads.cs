using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Platform.Api.Security;
using Platform.Core.DirectLine;
using Platform.Core.Messaging;

namespace Platform.Api.Apis;

/// <summary>
/// Direct Line file uploads: <c>POST …/upload</c> (files stored, then sent as an activity's attachments), the
/// capability URLs that serve them, and the tenant's erasure of a conversation's or a user's uploads.
/// </summary>
public static partial class DirectLineApi
{
    public static async Task<IResult> Upload(string id, string? userId, HttpRequest request, [AsParameters] DirectLineServices services, CancellationToken ct)
    {
        var caller = DirectLineFilter.CallerOf(request.HttpContext);
        if (!TryReach(caller, id, out var conversationId))
        {
            return NotFound();
        }
        if (!request.HasFormContentType)
        {
            return Error(StatusCodes.Status400BadRequest, "BadArgument", "Send multipart/form-data: an optional 'activity' part and 'file' parts.");
        }
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(ct);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException && !ct.IsCancellationRequested)
        {
            // A multipart body without a boundary, cut short or over the form limits: the client's fault, not ours.
            return Error(StatusCodes.Status400BadRequest, "BadArgument", "The multipart/form-data body is malformed or incomplete.");
        }
        var activityPart = form.Files.FirstOrDefault(IsActivityPart);
        var files = form.Files.Where(f => f != activityPart).ToList();
        if (files.Count == 0)
        {
            return Error(StatusCodes.Status400BadRequest, "BadArgument", "No file was uploaded.");
        }
        if (files.Count > ActivityRules.MaxAttachments)
        {
            return Error(StatusCodes.Status400BadRequest, "BadArgument", $"At most {ActivityRules.MaxAttachments} files per upload.");
        }
        if (files.FirstOrDefault(f => f.Length > DirectLineStore.MaxFileBytes) is { } large)
        {
            return Error(StatusCodes.Status413PayloadTooLarge, "MessageSizeTooBig",
                $"'{large.FileName}' is larger than {DirectLineStore.MaxFileBytes / (1024 * 1024)} MiB.");
        }
        ActivityDraft draft;
        if (activityPart is not null || form.TryGetValue("activity", out _))
        {
            using var reader = activityPart is not null ? new StreamReader(activityPart.OpenReadStream(), Encoding.UTF8) : null;
            var json = reader is not null ? await reader.ReadToEndAsync(ct) : form["activity"].ToString();
            if (JsonBody.TextError(Encoding.UTF8.GetBytes(json)) is { } textError)
            {
                return Error(StatusCodes.Status400BadRequest, "BadArgument", "The activity part: " + textError);
            }
            JsonElement element;
            try
            {
                element = JsonDocument.Parse(json).RootElement.Clone();
            }
            catch (JsonException ex)
            {
                return Error(StatusCodes.Status400BadRequest, "BadArgument", "The activity part is not JSON: " + ex.Message);
            }
            if (!DirectLineActivities.TryRead(element, out var read, out var error))
            {
                return Error(StatusCodes.Status400BadRequest, "BadArgument", error!);
            }
            draft = read!;
        }
        else
        {
            draft = new ActivityDraft(ActivityTypes.Message, null, null, null, null, null, null, null, null, null);
        }
        if (draft.From is null && !string.IsNullOrEmpty(userId))
        {
            draft = draft with { From = new ChannelAccount(userId) };
        }
        // Check the conversation before storing any byte, so a refused upload leaves nothing behind.
        if (await services.Conversations.FindAsync(caller.TenantId, conversationId, caller.ChannelScope, ct) is null)
        {
            return NotFound();
        }
        var uploads = new List<UploadFile>(files.Count);
        foreach (var file in files)
        {
            using var buffer = new MemoryStream((int)file.Length);
            await file.CopyToAsync(buffer, ct);
            var name = string.IsNullOrWhiteSpace(file.FileName) ? "file" : Path.GetFileName(file.FileName);
            var contentType = string.IsNullOrWhiteSpace(file.ContentType) ? "application/octet-stream" : file.ContentType;
            uploads.Add(new UploadFile(name, contentType, buffer.ToArray()));
        }
        // Validate the activity with stand-in attachment URLs first: an invalid activity must not leave files behind.
        var standIn = uploads.Select(u => (Attachment?)new Attachment($"{request.Scheme}://{request.Host}{request.PathBase}{Prefix}/attachments/up_", u.ContentType, u.Name)).ToList();
        var (valid, invalid) = ActivityRules.Validate(draft with { Type = draft.Type ?? ActivityTypes.Message, Attachments = standIn }, caller.IsClient ? caller.UserId : null);
        if (valid is null)
        {
            return Error(StatusCodes.Status400BadRequest, "BadArgument", string.Join(" ", invalid.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));
        }
        var uploader = caller.IsClient ? caller.UserId : draft.From?.Id;
        var (ids, refusal) = await services.Store.SaveUploadsAsync(caller.TenantId, conversationId, uploader, uploads, ct);
        if (refusal is not null)
        {
            return Error(StatusCodes.Status413PayloadTooLarge, "MessageSizeTooBig",
                $"The {refusal.Scope}'s upload quota is {refusal.LimitBytes / (1024 * 1024)} MiB and {refusal.UsedBytes / (1024 * 1024)} MiB are in use; " +
                "files expire after " + $"{services.Store.UploadOptions.Retention.TotalDays:0} days.");
        }
        var attachments = uploads.Select((u, i) =>
            (Attachment?)new Attachment($"{request.Scheme}://{request.Host}{request.PathBase}{Prefix}/attachments/{ids![i]}", u.ContentType, u.Name)).ToList();
        return await AppendAsync(caller, conversationId, draft with { Type = draft.Type ?? ActivityTypes.Message, Attachments = attachments }, services, ct);
    }

    public static async Task<IResult> EraseConversationUploads(string id, string? userId, ClaimsPrincipal user, [AsParameters] DirectLineServices services,
        CancellationToken ct)
    {
        var caller = Caller.From(user);
        if (!Problems.TryParseId(id, "id", out var conversationId, out var problem))
        {
            return problem!;
        }
        if (await services.Conversations.FindAsync(caller.TenantId, conversationId, caller.ChannelScope, ct) is null)
        {
            return Problems.NotFound("Conversation");
        }
        var deleted = await services.Store.EraseUploadsAsync(caller.TenantId, conversationId, string.IsNullOrEmpty(userId) ? null : userId, ct);
        return Results.Json(new UploadsErased(deleted), DirectLineJsonContext.Default.UploadsErased);
    }

    public static async Task<IResult> EraseUserUploads(string userId, ClaimsPrincipal user, DirectLineStore store, CancellationToken ct)
    {
        var deleted = await store.EraseUploadsAsync(Caller.From(user).TenantId, null, userId, ct);
        return Results.Json(new UploadsErased(deleted), DirectLineJsonContext.Default.UploadsErased);
    }

    public static async Task<IResult> GetAttachment(string id, HttpContext context, DirectLineStore store, CancellationToken ct)
    {
        if (!id.StartsWith("up_", StringComparison.Ordinal) || await store.FindUploadAsync(id, ct) is not { } upload)
        {
            return Error(StatusCodes.Status404NotFound, "NotFound", "No such attachment.");
        }
        context.Response.Headers.AccessControlAllowOrigin = "*";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "private, max-age=86400";
        return Results.File(upload.Content, upload.ContentType, upload.Name);
    }

    private static bool IsActivityPart(IFormFile f) =>
        f.Name == "activity" || f.ContentType.StartsWith("application/vnd.microsoft.activity", StringComparison.OrdinalIgnoreCase);
}
