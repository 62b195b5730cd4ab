// Drives the real botframework-directlinejs client against Platform and prints one JSON report on stdout.
// Run by Platform.Tests (DirectLineClientTests) with:
//   DL_DOMAIN  http://127.0.0.1:<api>/v3/directline
//   DL_SECRET  a channel secret (also used to post as a second user, "bob")
//   DL_MODE    secret | token | polling | upload
// Node 20 has no global WebSocket or XMLHttpRequest: `ws` stands in for the first, a fetch-based ajax service
// (directlinejs lets callers inject one) for the second.
import WebSocketImpl from 'ws';
import rx from 'rxjs/Observable.js';
import dljs from 'botframework-directlinejs';

const { Observable } = rx;
const { DirectLine, ConnectionStatus } = dljs;
const domain = process.env.DL_DOMAIN;
const secret = process.env.DL_SECRET;
const mode = process.env.DL_MODE ?? 'secret';

const report = { mode, activities: [], sockets: 0, requests: [], statuses: [], errors: [] };
const fail = (message) => {
  report.errors.push(message);
  console.log(JSON.stringify(report));
  process.exit(1);
};
// A safety net only: the test's own timeout is what fails it.
setTimeout(() => fail('deadline: the scenario did not finish'), 90_000).unref();

class TrackingWebSocket extends WebSocketImpl {
  static all = [];
  constructor(url, ...rest) {
    super(url, ...rest);
    TrackingWebSocket.all.push(this);
    report.sockets++;
  }
}
globalThis.WebSocket = TrackingWebSocket;

function ajax(request) {
  return Observable.create((subscriber) => {
    const controller = new AbortController();
    const timer = request.timeout ? setTimeout(() => controller.abort(), request.timeout) : null;
    const headers = { ...(request.headers ?? {}) };
    let body = request.body;
    if (body instanceof FormData) {
      delete headers['Content-Type']; // fetch sets the multipart boundary
    } else if (body !== undefined && typeof body !== 'string') {
      body = JSON.stringify(body);
    }
    report.requests.push(`${request.method ?? 'GET'} ${request.url.startsWith('data:') ? 'data:' : request.url.replace(domain, '')}`);
    fetch(request.url, { method: request.method ?? 'GET', headers, body, signal: controller.signal })
      .then(async (res) => {
        const buffer = await res.arrayBuffer();
        let response = buffer;
        if (request.responseType !== 'arraybuffer') {
          const text = new TextDecoder().decode(buffer);
          try { response = text ? JSON.parse(text) : null; } catch { response = text; }
        }
        const result = { status: res.status, response, xhr: { getResponseHeader: (n) => res.headers.get(n) } };
        if (res.status >= 200 && res.status < 300) {
          subscriber.next(result);
          subscriber.complete();
        } else {
          subscriber.error(result);
        }
      }, (error) => subscriber.error({ status: 0, message: String(error) }))
      .finally(() => timer && clearTimeout(timer));
    return () => {};
  });
}

// Resolves when `predicate(report.activities)` holds; checked on every arriving activity, no polling.
const waiters = [];
const until = (what, predicate) => new Promise((resolve) => {
  if (predicate(report.activities)) return resolve();
  waiters.push({ predicate, resolve, what });
});

async function rest(method, path, credential, body) {
  const res = await fetch(domain + path, {
    method,
    headers: { Authorization: `Bearer ${credential}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  report.statuses.push(`${method} ${path.split('?')[0].replace(/[0-9a-f-]{36}/, '{id}')} ${res.status}`);
  if (!res.ok) fail(`${method} ${path} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

const post = (dl, activity) => new Promise((resolve, reject) =>
  dl.postActivity(activity).subscribe((id) => (id === 'retry' ? reject(new Error('post answered retry')) : resolve(id)), reject));

const options = { domain, ajax, WebSocket: TrackingWebSocket, webSocket: mode !== 'polling', pollingInterval: 200, random: () => 0 };
let userId = 'alice';
if (mode === 'token') {
  const generated = await rest('POST', '/tokens/generate', secret, { user: { id: 'alice', name: 'Alice' } });
  report.generated = { conversationId: generated.conversationId, expires_in: generated.expires_in };
  options.token = generated.token;
} else {
  options.secret = secret;
}
const dl = new DirectLine(options);
dl.activity$.subscribe((activity) => {
  report.activities.push({
    id: activity.id,
    type: activity.type,
    text: activity.text,
    from: activity.from?.id,
    channelId: activity.channelId,
    conversationId: activity.conversation?.id,
    clientActivityID: activity.channelData?.clientActivityID,
    sequenceId: activity.channelData?.['webchat:sequence-id'],
    custom: activity.channelData?.custom,
    attachments: activity.attachments,
    timestamp: activity.timestamp,
  });
  for (const w of [...waiters]) {
    if (w.predicate(report.activities)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  }
}, (error) => fail(`activity$ failed: ${error?.message ?? error}`));
dl.connectionStatus$.subscribe((status) => report.statuses.push(`status ${ConnectionStatus[status]}`));
const texts = () => report.activities.map((a) => a.text);

try {
  // 1. Post as the client; its echo comes back (over the WebSocket or by polling) with the id and channelData intact.
  const id1 = await post(dl, { type: 'message', from: { id: userId }, text: 'hello 1', channelData: { clientActivityID: 'client-1', custom: { kept: true } } });
  report.postedId = id1;
  report.conversationId = dl.conversationId;
  await until('echo of hello 1', (all) => all.some((a) => a.id === id1));

  // 2. A second user's activity reaches the client.
  await rest('POST', `/conversations/${dl.conversationId}/activities`, secret, { type: 'message', from: { id: 'bob' }, text: 'from bob 1' });
  await until('bob 1', () => texts().includes('from bob 1'));

  if (mode === 'secret' || mode === 'token') {
    // 3. Drop the socket; while the client waits to reconnect (its own logic: GET /conversations/{id}?watermark=),
    //    bob keeps talking. Everything arrives once, in order.
    const first = TrackingWebSocket.all[0];
    first.terminate();
    for (let i = 1; i <= 5; i++) {
      await rest('POST', `/conversations/${dl.conversationId}/activities`, secret, { type: 'message', from: { id: 'bob' }, text: `missed ${i}` });
    }
    await until('missed 1..5', () => [1, 2, 3, 4, 5].every((i) => texts().includes(`missed ${i}`)));
    report.reconnectedWith = report.requests.find((r) => /^GET \/conversations\/[^/]+\?watermark=\d+$/.test(r)) ?? null;
  }

  if (mode === 'token') {
    // 4. Refresh the token through the client's own call, adopt it as its refresh loop does, and keep posting.
    const before = dl.token;
    const refreshed = await new Promise((resolve, reject) => dl.refreshToken().subscribe(resolve, reject));
    dl.token = refreshed;
    report.refreshed = refreshed !== before && typeof refreshed === 'string';
    const id2 = await post(dl, { type: 'message', from: { id: userId }, text: 'after refresh', channelData: { clientActivityID: 'client-2' } });
    await until('echo after refresh', (all) => all.some((a) => a.id === id2));
  }

  if (mode === 'upload') {
    const content = 'Platform upload test: h\u00e9llo';
    const dataUrl = 'data:text/plain;base64,' + Buffer.from(content, 'utf8').toString('base64');
    const id3 = await post(dl, {
      type: 'message', from: { id: userId }, text: 'a file', channelData: { clientActivityID: 'client-3' },
      attachments: [{ contentType: 'text/plain', contentUrl: dataUrl, name: 'hello.txt' }],
    });
    await until('echo of the upload', (all) => all.some((a) => a.id === id3));
    const echoed = report.activities.find((a) => a.id === id3);
    const downloaded = await fetch(echoed.attachments[0].contentUrl);
    report.download = { status: downloaded.status, contentType: downloaded.headers.get('content-type'), matches: (await downloaded.text()) === content };
  }

  // History by REST agrees with what was streamed (same ids, same order).
  const history = await rest('GET', `/conversations/${dl.conversationId}/activities?watermark=`, secret);
  report.history = history.activities.map((a) => a.id);
  report.historyWatermark = history.watermark;
  dl.end();
  console.log(JSON.stringify(report));
  process.exit(0);
} catch (error) {
  fail(`scenario failed: ${error?.message ?? JSON.stringify(error)}`);
}
