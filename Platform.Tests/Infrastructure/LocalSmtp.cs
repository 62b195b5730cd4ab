using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using MimeKit;
using Platform.AppHost.Infrastructure;

namespace Platform.Tests.Infrastructure;

/// <summary>One message as the SMTP server received it: the envelope, the AUTH login and the parsed MIME.</summary>
public sealed record ReceivedMail(string MailFrom, IReadOnlyList<string> RcptTos, string? Login, bool Tls, MimeMessage Message, byte[] Raw);

/// <summary>
/// A real SMTP server on loopback (Debian's aiosmtpd) with a self-signed certificate, STARTTLS or implicit TLS, and
/// AUTH required. Recipients starting with <c>reject</c> get a 550 to RCPT TO, <c>later</c> a 451. Every accepted
/// message is written to a directory and read back here.
/// </summary>
public sealed class LocalSmtp : IAsyncDisposable
{
    public const string Login = "mailer";
    public const string Password = "s3cret-smtp";

    private const string Script = """
        import asyncio, json, os, ssl, sys, threading
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword
        port, mode, cert, key, outdir = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
        counter = [0]
        lock = threading.Lock()
        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if address.startswith('reject'):
                    return '550 5.1.1 No such user here'
                if address.startswith('later'):
                    return '451 4.3.0 Try again later'
                envelope.rcpt_tos.append(address)
                return '250 OK'
            async def handle_DATA(self, server, session, envelope):
                with lock:
                    counter[0] += 1
                    n = counter[0]
                base = os.path.join(outdir, '%06d' % n)
                with open(base + '.eml.tmp', 'wb') as f:
                    f.write(envelope.original_content)
                login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
                tls = session.ssl is not None or server.transport.get_extra_info('ssl_object') is not None
                with open(base + '.json.tmp', 'w') as f:
                    json.dump({'mailFrom': envelope.mail_from, 'rcptTos': envelope.rcpt_tos, 'login': login, 'tls': tls}, f)
                os.rename(base + '.eml.tmp', base + '.eml')
                os.rename(base + '.json.tmp', base + '.json')
                return '250 Message accepted'
        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login == b'mailer' and auth_data.password == b's3cret-smtp'
            return AuthResult(success=ok, handled=False, auth_data=auth_data)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        common = dict(authenticator=authenticate, auth_required=True, decode_data=False)
        if mode == 'implicit':
            controller = Controller(Handler(), hostname='127.0.0.1', port=port, ssl_context=context, auth_require_tls=False, **common)
        else:
            controller = Controller(Handler(), hostname='127.0.0.1', port=port, tls_context=context, require_starttls=True, **common)
        controller.start()
        print('ready', flush=True)
        threading.Event().wait()
        """;

    private readonly Process _process;
    private readonly string _directory;

    private LocalSmtp(Process process, string directory, int port, string certificateSha256)
    {
        _process = process;
        _directory = directory;
        Port = port;
        CertificateSha256 = certificateSha256;
    }

    public int Port { get; }

    /// <summary>The self-signed certificate's SHA-256 fingerprint, for the client's pin.</summary>
    public string CertificateSha256 { get; }

    public static async Task<LocalSmtp> StartAsync(bool implicitTls = false)
    {
        var python = LocalServerCommands.AiosmtpdPython();
        var directory = Directory.CreateTempSubdirectory("platform-tests-smtp-").FullName;
        var mail = Directory.CreateDirectory(Path.Combine(directory, "mail")).FullName;
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        await File.WriteAllTextAsync(Path.Combine(directory, "cert.pem"), certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(directory, "key.pem"), key.ExportPkcs8PrivateKeyPem());
        await File.WriteAllTextAsync(Path.Combine(directory, "server.py"), Script);
        var port = LocalServers.FreePort();
        var process = LocalServers.SpawnServer(python,
            [Path.Combine(directory, "server.py"), port.ToString(), implicitTls ? "implicit" : "starttls",
             Path.Combine(directory, "cert.pem"), Path.Combine(directory, "key.pem"), mail]);
        await LocalServers.WaitForPortAsync(port, TimeSpan.FromSeconds(30), () => $"aiosmtpd exited: {process.HasExited}");
        return new LocalSmtp(process, directory, port, Convert.ToHexString(SHA256.HashData(certificate.RawData)));
    }

    /// <summary>Every message received so far, in arrival order.</summary>
    public IReadOnlyList<ReceivedMail> Received()
    {
        var list = new List<ReceivedMail>();
        foreach (var json in Directory.GetFiles(Path.Combine(_directory, "mail"), "*.json").Order(StringComparer.Ordinal))
        {
            var raw = File.ReadAllBytes(Path.ChangeExtension(json, ".eml"));
            using var doc = JsonDocument.Parse(File.ReadAllBytes(json));
            var root = doc.RootElement;
            list.Add(new ReceivedMail(root.GetProperty("mailFrom").GetString()!, [.. root.GetProperty("rcptTos").EnumerateArray().Select(r => r.GetString()!)],
                root.GetProperty("login").GetString(), root.GetProperty("tls").GetBoolean(), MimeMessage.Load(new MemoryStream(raw)), raw));
        }
        return list;
    }

    public async Task<ReceivedMail> WaitForAsync(Func<ReceivedMail, bool> match, string because) =>
        (await Eventually.ReturnsAsync(() => Task.FromResult(Received().FirstOrDefault(match)), m => m is not null, TimeSpan.FromSeconds(30), because))!;

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
