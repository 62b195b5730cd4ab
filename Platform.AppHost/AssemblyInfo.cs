// The executable fallbacks run Debian's PostgreSQL and Redis binaries under Unix accounts and file modes; where no
// container runtime answers, the AppHost is for Linux and macOS.
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
