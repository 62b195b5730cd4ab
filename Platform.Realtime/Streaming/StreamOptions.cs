namespace Platform.Realtime.Streaming;

/// <summary>Tuning of the stream nodes (configuration section <c>Platform:Realtime</c>).</summary>
public sealed class StreamOptions
{
    public const string Section = "Platform:Realtime";

    /// <summary>Frames waiting for one client; beyond it the client is a slow consumer and is closed with 4408.</summary>
    public int SendQueueCapacity { get; set; } = 4096;

    /// <summary>How often each node compares every watched conversation's last seq with what it delivered.</summary>
    public TimeSpan IdleCheckInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How often an idle socket is kept alive: a WebSocket pong frame (protocol level, the socket's own timer), or, for a
    /// frame format with a keepalive frame of its own (Direct Line's empty message), that frame, offered to all such
    /// sockets by one node-wide timer (<see cref="ConversationFeeds"/>) instead of a timer per socket.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Activities per replay frame when catching up from PostgreSQL.</summary>
    public int ReplayPageSize { get; set; } = 500;

    /// <summary>How long a blocked send may take before the connection is given up.</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often every socket's token is re-checked against PostgreSQL (revoked key, rotated secret, inactive tenant or
    /// channel). Revocations are pushed over Redis at once; this catches one lost while Redis was down.
    /// </summary>
    public TimeSpan StandingRecheckInterval { get; set; } = TimeSpan.FromSeconds(60);
}
