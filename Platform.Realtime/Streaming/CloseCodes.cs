namespace Platform.Realtime.Streaming;

/// <summary>WebSocket close codes of the stream (documented in docs/api.md).</summary>
public static class CloseCodes
{
    /// <summary>The server is shutting down: reconnect (to any node) with your watermark.</summary>
    public const int ServiceRestart = 1012;
    /// <summary>The token is missing, invalid or expired: get a new token.</summary>
    public const int Unauthorized = 4401;
    /// <summary>The token may not stream this conversation (another conversation, inactive tenant or channel).</summary>
    public const int Forbidden = 4403;
    /// <summary>Slow consumer: the client did not read and its send queue overflowed. Reconnect with your watermark.</summary>
    public const int SlowConsumer = 4408;
    /// <summary>The conversation is closed; everything up to its last activity was delivered first.</summary>
    public const int ConversationClosed = 4409;
}
