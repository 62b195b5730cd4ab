namespace Platform.Api.Security;

/// <summary>
/// Authorization policy names, one per set of callers. Every credential arrives as
/// <c>Authorization: Bearer &lt;value&gt;</c>; the authentication handler recognises which kind it is.
/// Every policy but <see cref="Operator"/> also refuses an inactive tenant or channel (403 naming which).
/// </summary>
public static class AuthPolicies
{
    /// <summary>The platform operator (Platform:OperatorKey).</summary>
    public const string Operator = "operator";

    /// <summary>A tenant API key (<c>pk_</c>).</summary>
    public const string Tenant = "tenant";

    /// <summary>A tenant API key or a channel secret (<c>cs_</c>, narrowed to its channel).</summary>
    public const string TenantOrChannel = "tenant-or-channel";

    /// <summary>A tenant API key, a channel secret, or a client token (narrowed to its conversation).</summary>
    public const string Participant = "participant";

    /// <summary>A user-scoped client token (no conversation): the caller's own notifications.</summary>
    public const string User = "user";
}

/// <summary>The kinds of credential, as carried in <see cref="PlatformClaims.Kind"/>.</summary>
public static class CallerKinds
{
    public const string Operator = "operator";
    public const string Tenant = "tenant";
    public const string Channel = "channel";
    public const string Client = "client";
    public const string User = "user";
}
