namespace Platform.Api.Security;

/// <summary>
/// Authorization policy names, one per kind of caller. Every credential arrives as
/// <c>Authorization: Bearer &lt;value&gt;</c>; the authentication handler recognises which kind it is.
/// </summary>
public static class AuthPolicies
{
    /// <summary>The platform operator (Platform:OperatorKey).</summary>
    public const string Operator = "operator";
}
