namespace Platform.Core.Retention;

/// <summary>
/// One class of data a tenant keeps for a limited time: its default keep period, the bounds an operator may set, what
/// happens to rows past the horizon, and the statements that do it. Each statement removes at most one batch (<c>$3</c>
/// rows) of tenant <c>$1</c> older than the horizon <c>$2</c> and answers how many it touched.
/// </summary>
public sealed record RetentionClass(string Name, int DefaultDays, int MinDays, int MaxDays, string Action, string Description,
    IReadOnlyList<RetentionStep> Steps);

/// <summary>A batch statement; <see cref="Scalar"/> when it is a function call answering its row count.</summary>
public sealed record RetentionStep(string Sql, bool Scalar = false);

public static class RetentionActions
{
    public const string Deleted = "deleted";
    public const string Anonymised = "anonymised";
}

/// <summary>A tenant's keep period for one class, as the operator API shows it.</summary>
public sealed record RetentionSetting(string DataClass, int KeepDays, int DefaultDays, bool IsDefault, int MinDays, int MaxDays, string Action,
    string Description, DateTimeOffset? UpdatedAt, string? UpdatedBy);

/// <summary>One ledger row: what one run did to one class of one tenant.</summary>
public sealed record RetentionRun(Guid Id, Guid TenantId, string DataClass, string Action, int KeepDays, DateTimeOffset Horizon, long RowsAffected,
    int Batches, bool Complete, DateTimeOffset StartedAt, DateTimeOffset FinishedAt);

public sealed record RetentionRunPage(IReadOnlyList<RetentionRun> Items, string? NextCursor);

public sealed record RetentionChange(int? KeepDays);

/// <summary>The data classes and their defaults (docs/retention.md explains each and what stays).</summary>
public static class RetentionClasses
{
    public const string Messages = "messages";
    public const string CommunitySignals = "community_signals";
    public const string NotificationRecords = "notification_records";
    public const string Civic = "civic";
    public const string PrivacyExports = "privacy_exports";

    public const int MaxDays = 3650;

    public static readonly IReadOnlyList<RetentionClass> All =
    [
        new(Messages, 730, 1, MaxDays, RetentionActions.Deleted,
            "Conversation activities (messages and events) older than the horizon.",
            [new("SELECT core.retention_purge_activities($1, $2, $3)", Scalar: true)]),
        new(CommunitySignals, 365, 1, MaxDays, RetentionActions.Deleted,
            "Community interaction signals (who replied to, mentioned or endorsed whom) by when the interaction happened.",
            [new("""
                WITH o AS (SELECT id FROM community.signals WHERE tenant_id = $1 AND occurred_at < $2 ORDER BY occurred_at LIMIT $3)
                DELETE FROM community.signals s USING o WHERE s.id = o.id
                """)]),
        new(NotificationRecords, 180, 1, MaxDays, RetentionActions.Deleted,
            "Notifications (inbox entries) with their per-channel deliveries and delivery attempts.",
            [new("SELECT ops.retention_purge_notifications($1, $2, $3)", Scalar: true)]),
        new(Civic, 730, 1, MaxDays, RetentionActions.Deleted,
            "Civic processing runs that no published summary cites, and the tombstones of deleted reader profiles.",
            [
                new("""
                    WITH o AS (SELECT r.id FROM civic.processing_runs r
                                WHERE r.tenant_id = $1 AND r.created_at < $2 AND r.status <> 'running'
                                  AND NOT EXISTS (SELECT 1 FROM civic.summary_versions v WHERE v.run_id = r.id)
                                ORDER BY r.created_at LIMIT $3)
                    DELETE FROM civic.processing_runs p USING o WHERE p.id = o.id
                    """),
                new("""
                    WITH o AS (SELECT user_id FROM civic.profiles WHERE tenant_id = $1 AND deleted_at < $2 ORDER BY deleted_at LIMIT $3)
                    DELETE FROM civic.profiles p USING o WHERE p.tenant_id = $1 AND p.user_id = o.user_id
                    """),
            ]),
        new(PrivacyExports, 30, 1, 365, RetentionActions.Deleted,
            "The bundles of completed export requests about community members, attendees and residents (the request rows stay as the audit trail).",
            [new("""
                WITH o AS (SELECT id FROM governance.subject_requests
                            WHERE tenant_id = $1 AND bundle IS NOT NULL AND completed_at < $2 ORDER BY completed_at LIMIT $3)
                UPDATE governance.subject_requests r SET bundle = NULL FROM o WHERE r.id = o.id
                """)]),
    ];

    public static RetentionClass? Find(string name) => All.FirstOrDefault(c => c.Name == name);
}
