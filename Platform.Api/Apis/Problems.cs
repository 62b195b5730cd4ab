using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Security;

namespace Platform.Api.Apis;

/// <summary>The platform's error answers: RFC 9457 problem details whose <c>type</c> says what went wrong and whose <c>errors</c> name the field.</summary>
public static class Problems
{
    public static ProblemHttpResult Invalid(string field, string message) => Invalid(new Dictionary<string, string[]> { [field] = [message] });

    public static ProblemHttpResult Invalid(IDictionary<string, string[]> errors) =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status400BadRequest,
            Type = ProblemTypes.Validation,
            Title = "The request is invalid.",
            Detail = string.Join(" ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")),
        });

    public static ProblemHttpResult TooLarge(long limit) =>
        TypedResults.Problem(new HttpValidationProblemDetails(new Dictionary<string, string[]> { ["body"] = [$"The body is larger than {limit} bytes."] })
        {
            Status = StatusCodes.Status413PayloadTooLarge,
            Type = ProblemTypes.PayloadTooLarge,
            Title = "The request body is too large.",
            Detail = $"body: at most {limit} bytes ({limit / 1024} KiB) are accepted.",
        });

    public static ProblemHttpResult NotFound(string what) => TypedResults.Problem(new ProblemDetails
    {
        Status = StatusCodes.Status404NotFound,
        Type = ProblemTypes.NotFound,
        Title = $"{what} not found.",
        Detail = $"No {what.ToLowerInvariant()} with this id is visible to this credential.",
    });

    public static ProblemHttpResult ChannelInactive() => TypedResults.Problem(new ProblemDetails
    {
        Status = StatusCodes.Status403Forbidden,
        Type = ProblemTypes.ChannelInactive,
        Title = "The channel is inactive.",
        Detail = "The conversation's channel has been deactivated; activate it with PATCH /v1/channels/{id}.",
    });

    public static ProblemHttpResult ConversationClosed() => TypedResults.Problem(new ProblemDetails
    {
        Status = StatusCodes.Status409Conflict,
        Type = ProblemTypes.ConversationClosed,
        Title = "The conversation is closed.",
        Detail = "A closed conversation takes no new activities; its history stays readable.",
    });

    public static ProblemHttpResult Forbidden(string detail) => TypedResults.Problem(new ProblemDetails
    {
        Status = StatusCodes.Status403Forbidden,
        Type = ProblemTypes.Forbidden,
        Title = "This credential cannot do this.",
        Detail = detail,
    });

    public static ProblemHttpResult Gone(string detail) => TypedResults.Problem(new ProblemDetails
    {
        Status = StatusCodes.Status410Gone,
        Type = ProblemTypes.Gone,
        Title = "No longer available.",
        Detail = detail,
    });

    public static ProblemHttpResult Unavailable(string detail) => TypedResults.Problem(new ProblemDetails
    {
        Status = StatusCodes.Status503ServiceUnavailable,
        Type = ProblemTypes.Unavailable,
        Title = "Temporarily unavailable.",
        Detail = detail,
    });

    /// <summary>Parses a path id; anything but a UUID is a 400 naming the parameter (not a 404: the id cannot exist).</summary>
    public static bool TryParseId(string value, string field, out Guid id, out ProblemHttpResult? problem)
    {
        if (Guid.TryParse(value, out id))
        {
            problem = null;
            return true;
        }
        problem = Invalid(field, $"'{(value.Length > 40 ? value[..40] + "…" : value)}' is not an id (a UUID).");
        return false;
    }

    /// <summary>Parses an optional integer query parameter within bounds.</summary>
    public static bool TryParseQuery(string? value, string field, long min, long max, long fallback, out long result, out ProblemHttpResult? problem)
    {
        problem = null;
        if (string.IsNullOrEmpty(value))
        {
            result = fallback;
            return true;
        }
        if (long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out result) &&
            result >= min && result <= max)
        {
            return true;
        }
        problem = Invalid(field, $"{field} must be a whole number from {min} to {max}.");
        return false;
    }

    /// <summary>
    /// Parses a keyset page request (<c>?after={id of the previous page's last row}&amp;limit=</c>): a limit outside
    /// 1..<paramref name="maxLimit"/> or an <c>after</c> that is not an id is a 400 naming the parameter.
    /// </summary>
    public static bool TryParsePage(string? after, string? limit, int maxLimit, int defaultLimit, out PageRequest page, out ProblemHttpResult? problem)
    {
        page = default;
        if (!TryParseQuery(limit, "limit", 1, maxLimit, defaultLimit, out var take, out problem))
        {
            return false;
        }
        Guid? cursor = null;
        if (after is not null)
        {
            if (!TryParseId(after, "after", out var id, out problem))
            {
                return false;
            }
            cursor = id;
        }
        page = new PageRequest((int)take, cursor);
        return true;
    }
}

/// <summary>A keyset page request: at most <see cref="Limit"/> rows after the row with id <see cref="After"/>.</summary>
public readonly record struct PageRequest(int Limit, Guid? After)
{
    /// <summary>The next page's <c>after</c>: the last row's id when the page came back full, else none (the last page).</summary>
    public Guid? Next<T>(IReadOnlyList<T> rows, Func<T, Guid> id) => rows.Count == Limit ? id(rows[^1]) : null;
}
