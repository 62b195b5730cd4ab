namespace Platform.Admin.Access;

/// <summary>Where the panel links out (configuration section <c>Admin</c>).</summary>
public sealed class AdminLinks
{
    /// <summary>
    /// The Aspire dashboard (<c>Admin:DashboardUrl</c>): traces, metrics and every resource's console log. The AppHost
    /// sets it; without it the navigation leaves the link out.
    /// </summary>
    public string? DashboardUrl { get; set; }
}
