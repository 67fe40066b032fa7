// The school's server in place of the native helper: enrolment, the WebSocket,
// the HTTP fallback, and every failure holding the post with the server's name.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { HELPER_UNAVAILABLE } from '../src/helper-client.js';
import { ServerClient, STORAGE_KEY, defaultSocketUrl, BACKOFF_MIN_MS } from '../src/server-client.js';
import { serverConfig } from '../src/settings.js';
import { json, memoryStorage, socketClass } from '../test-support/server-fakes.js';

const SERVER = 'https://tg.brookfield-primary.test:8443';


// A fetch that plays the server: enrolment and /api/v1/protocol.
function fakeFetch({ down = false, protocol = null } = {}) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init, body: init.body ? JSON.parse(init.body) : null });
    if (down) throw new TypeError('Failed to fetch');
    if (url.endsWith('/api/v1/enrol')) {
      return json(201, { device_id: 'd_ash1', credential: 'd_ash1.secret', school: { id: 's_1', name: 'Brookfield' } });
    }
    if (url.endsWith('/api/v1/protocol')) {
      const request = JSON.parse(init.body);
      return protocol ? protocol(request, init) : json(200, { id: request.id, ok: true, verdict: 'allow', findings: [] });
    }
    return json(404, { error: { code: 'not_found', message: 'no such path' } });
  };
  fetch.calls = calls;
  return fetch;
}


const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

test('managed storage with serverUrl chooses the server; without it, the native host', () => {
  assert.deepEqual(serverConfig({ serverUrl: `${SERVER}/`, enrolmentToken: 'tok' }), { serverUrl: SERVER, enrolmentToken: 'tok' });
  assert.equal(serverConfig({}), null);
  assert.equal(serverConfig({ serverUrl: '' }), null);
  // A serverUrl that is set but unusable still means "the server" (held, see
  // settings.test.js), never a native host a Chromebook does not have.
  assert.match(serverConfig({ serverUrl: 'javascript:alert(1)' }).problem, /serverUrl setting/);
});

test('the socket URL follows the server URL', () => {
  assert.equal(defaultSocketUrl(SERVER), 'wss://tg.brookfield-primary.test:8443/api/v1/ws');
  assert.equal(defaultSocketUrl('https://school.test/tg/'), 'wss://school.test/tg/api/v1/ws');
});

test('enrols once with the token, keeps the credential, and asks over HTTP when no socket opens', async () => {
  const storage = memoryStorage();
  const fetch = fakeFetch();
  const client = new ServerClient({ serverUrl: SERVER, enrolmentToken: 'tok-9', storage, fetch, WebSocket: socketClass({ accept: false }) });
  const reply = await client.request({ type: 'check', text: 'Well done, Willow class' });
  assert.equal(reply.verdict, 'allow');
  const enrol = fetch.calls.find((c) => c.url.endsWith('/enrol'));
  assert.deepEqual(enrol.body, { code: 'tok-9', name: 'Chromebook', kind: 'extension' });
  assert.equal(storage.data[STORAGE_KEY].credential, 'd_ash1.secret');
  const post = fetch.calls.find((c) => c.url.endsWith('/protocol'));
  assert.equal(post.init.headers.Authorization, 'Bearer d_ash1.secret');
  assert.equal(post.body.type, 'check');
  // A second request enrols no more (trap: the credential is reused).
  await client.request({ type: 'check', text: 'Sports day on Friday' });
  assert.equal(fetch.calls.filter((c) => c.url.endsWith('/enrol')).length, 1);
});

test('requests go over the WebSocket once it accepts the credential, with progress frames', async () => {
  const storage = memoryStorage({ [STORAGE_KEY]: { serverUrl: SERVER, credential: 'd_k.s' } });
  const fetch = fakeFetch();
  const Socket = socketClass();
  const client = new ServerClient({ serverUrl: SERVER, storage, fetch, WebSocket: Socket, socketUrl: defaultSocketUrl(SERVER) });
  const heard = [];
  const pending = client.request({ type: 'media_put', sha256: 'ab' }, { onProgress: (p) => heard.push(p) });
  while (!Socket.sockets.length || Socket.sockets[0].sent.length < 2) await tick();
  const [socket] = Socket.sockets;
  assert.deepEqual(socket.sent[0], { type: 'auth', credential: 'd_k.s', version: '' });
  const request = socket.sent[1];
  socket.deliver({ type: 'progress', for: request.id, done: 2, total: 5 });
  socket.deliver({ id: request.id, ok: true, received: 10, photo: {} });
  const reply = await pending;
  assert.equal(reply.received, 10);
  assert.deepEqual(heard, [{ done: 2, total: 5 }]);
  assert.equal(fetch.calls.length, 0); // nothing over HTTP
});

test('a server that cannot be reached holds the post, naming the server', async () => {
  const client = new ServerClient({
    serverUrl: SERVER,
    storage: memoryStorage({ [STORAGE_KEY]: { serverUrl: SERVER, credential: 'd_k.s' } }),
    fetch: fakeFetch({ down: true }),
    WebSocket: socketClass({ accept: false }),
  });
  const reply = await client.request({ type: 'check', text: 'Trip to the farm' });
  assert.equal(reply.ok, false);
  assert.equal(reply.error.code, HELPER_UNAVAILABLE);
  assert.match(reply.error.message, /tg\.brookfield-primary\.test:8443 cannot be reached, so this post is held/);
  assert.ok(!reply.error.message.includes('\n'));
});

test('no answer in time holds the post', async () => {
  const client = new ServerClient({
    serverUrl: SERVER,
    storage: memoryStorage({ [STORAGE_KEY]: { serverUrl: SERVER, credential: 'd_k.s' } }),
    fetch: () => new Promise(() => {}),
    WebSocket: null,
    timeoutMs: 30,
  });
  const reply = await client.request({ type: 'check', text: 'Harvest festival' });
  assert.equal(reply.error.code, HELPER_UNAVAILABLE);
  assert.match(reply.error.message, /did not answer, so this post is held/);
});

test('a socket that closes holds what waited on it, and the next request goes by HTTP until the backoff passes', async () => {
  let clock = 1000;
  const Socket = socketClass();
  const fetch = fakeFetch();
  const client = new ServerClient({
    serverUrl: SERVER,
    storage: memoryStorage({ [STORAGE_KEY]: { serverUrl: SERVER, credential: 'd_k.s' } }),
    fetch,
    WebSocket: Socket,
    now: () => clock,
    socketUrl: defaultSocketUrl(SERVER),
  });
  const waiting = client.request({ type: 'check', text: 'Year 6 leavers' });
  while (!Socket.sockets.length || Socket.sockets[0].sent.length < 2) await tick();
  Socket.sockets[0].onclose({ code: 1006, reason: 'gone' });
  assert.equal((await waiting).ok, false);
  const next = await client.request({ type: 'check', text: 'Year 6 leavers' });
  assert.equal(next.ok, true);
  assert.equal(fetch.calls.length, 1);
  assert.equal(Socket.sockets.length, 1); // not retried inside the backoff
  clock += BACKOFF_MIN_MS + 1;
  const later = client.request({ type: 'check', text: 'Year 6 leavers' });
  while (Socket.sockets.length < 2 || Socket.sockets[1].sent.length < 2) await tick();
  Socket.sockets[1].deliver({ id: Socket.sockets[1].sent[1].id, ok: true, verdict: 'allow' });
  assert.equal((await later).verdict, 'allow');
});

test('no socket is tried before a hello says where it is; then the one it names', async () => {
  const Socket = socketClass({ accept: false });
  const fetch = fakeFetch({
    protocol: (request) => json(200, { id: request.id, ok: true, protocol: 1, websocket: 'wss://tg.brookfield-primary.test:9443/api/v1/ws' }),
  });
  let clock = 0;
  const client = new ServerClient({
    serverUrl: SERVER,
    storage: memoryStorage({ [STORAGE_KEY]: { serverUrl: SERVER, credential: 'd_k.s' } }),
    fetch,
    WebSocket: Socket,
    now: () => clock,
  });
  await client.request({ type: 'hello' });
  assert.equal(Socket.sockets.length, 0); // the hello itself went by HTTP
  await client.request({ type: 'check', text: 'x' });
  // Its own port beside the HTTPS one is fine (trap: same host, other port).
  assert.equal(Socket.sockets.at(-1).url, 'wss://tg.brookfield-primary.test:9443/api/v1/ws');
});

test('the worker\'s own fetch is called as a plain function (a method call throws in Chromium)', async () => {
  const saved = globalThis.fetch;
  globalThis.fetch = function strictFetch() {
    if (this !== undefined && this !== globalThis) throw new TypeError('Illegal invocation');
    return Promise.resolve(json(200, { id: 1, ok: true, verdict: 'allow' }));
  };
  try {
    const client = new ServerClient({
      serverUrl: SERVER,
      storage: memoryStorage({ [STORAGE_KEY]: { serverUrl: SERVER, credential: 'd_k.s' } }),
      WebSocket: null,
    });
    assert.equal((await client.request({ type: 'check', text: 'Nativity rehearsal' })).verdict, 'allow');
  } finally {
    globalThis.fetch = saved;
  }
});
