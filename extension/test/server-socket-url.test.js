// The credential and post text go over a WebSocket only when it is as safe as
// serverUrl: wss: on the same host (any port), or ws: for a server on loopback.
// A server behind a proxy that drops X-Forwarded-Proto names ws://: HTTPS then.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ServerClient, STORAGE_KEY, acceptableSocketUrl } from '../src/server-client.js';
import { memoryStorage, socketClass } from '../test-support/server-fakes.js';

const SERVER = 'https://tweetguard.larchwood-academy.test';

test('a downgraded, foreign or odd socket URL is refused', () => {
  for (const named of [
    'ws://tweetguard.larchwood-academy.test/api/v1/ws', // the proxy downgrade
    'wss://tweetguard.elsewhere.test/api/v1/ws', // another host
    'wss://tweetguard.larchwood-academy.test.elsewhere.test/api/v1/ws',
    'wss://user:pw@tweetguard.larchwood-academy.test/api/v1/ws',
    'https://tweetguard.larchwood-academy.test/api/v1/ws',
    'not a url',
  ]) {
    assert.equal(acceptableSocketUrl(SERVER, named), null, named);
  }
  // ws: even to loopback is refused when serverUrl itself is https.
  assert.equal(acceptableSocketUrl('https://localhost:8443', 'ws://localhost:8444/api/v1/ws'), null);
  // ws: to a network host is refused even when serverUrl is loopback http.
  assert.equal(acceptableSocketUrl('http://127.0.0.1:8080', 'ws://10.0.0.5:8081/api/v1/ws'), null);
});

test('trap: wss on the same host, on its own port or path, is accepted; ws for a loopback server too', () => {
  assert.equal(
    acceptableSocketUrl(SERVER, 'wss://tweetguard.larchwood-academy.test:8741/api/v1/ws'),
    'wss://tweetguard.larchwood-academy.test:8741/api/v1/ws',
  );
  assert.equal(
    acceptableSocketUrl(`${SERVER}/tg`, 'wss://TweetGuard.Larchwood-Academy.test/tg/api/v1/ws'),
    'wss://tweetguard.larchwood-academy.test/tg/api/v1/ws',
  );
  assert.equal(acceptableSocketUrl('http://127.0.0.1:8080', 'ws://127.0.0.1:8081/api/v1/ws'), 'ws://127.0.0.1:8081/api/v1/ws');
  assert.equal(acceptableSocketUrl('http://localhost:8080', 'ws://localhost:8081/api/v1/ws'), 'ws://localhost:8081/api/v1/ws');
  assert.equal(acceptableSocketUrl('http://[::1]:8080', 'ws://[::1]:8081/api/v1/ws'), 'ws://[::1]:8081/api/v1/ws');
});

function storage() {
  return memoryStorage({ [STORAGE_KEY]: { serverUrl: SERVER, credential: 'd_12.secret-of-larchwood' } });
}

function helloServer(websocket) {
  const calls = [];
  const fetch = async (url, init) => {
    const body = JSON.parse(init.body);
    calls.push({ url, body });
    const reply = body.type === 'hello' ? { id: body.id, ok: true, protocol: 1, websocket } : { id: body.id, ok: true, verdict: 'allow' };
    return { ok: true, status: 200, json: async () => reply };
  };
  fetch.calls = calls;
  return fetch;
}

function recordingSocketClass() {
  return socketClass({
    onRequest: (socket, message) => queueMicrotask(() => socket.deliver({ id: message.id, ok: true, verdict: 'allow' })),
  });
}

test('a hello naming ws:// on the school host: the credential never goes to it, HTTPS carries the posts, one log line', async () => {
  const fetch = helloServer('ws://tweetguard.larchwood-academy.test/api/v1/ws');
  const Socket = recordingSocketClass();
  const logged = [];
  const client = new ServerClient({ serverUrl: SERVER, storage: storage(), fetch, WebSocket: Socket, log: (line) => logged.push(line) });
  await client.request({ type: 'hello' });
  const reply = await client.request({ type: 'check', text: 'Netball team in the county final' });
  await client.request({ type: 'hello' });
  assert.equal(reply.verdict, 'allow');
  assert.equal(Socket.sockets.length, 0);
  assert.equal(fetch.calls.filter((c) => c.body.type === 'check').length, 1);
  assert.equal(fetch.calls[1].url, `${SERVER}/api/v1/protocol`);
  assert.equal(logged.length, 1); // once, not at every hello
  assert.match(logged[0], /ws:\/\/tweetguard\.larchwood-academy\.test\/api\/v1\/ws.*using HTTPS instead/);
  assert.ok(!logged[0].includes('\n'));
});

test('trap: a hello naming wss:// on the school host gets the socket, and nothing is logged', async () => {
  const fetch = helloServer('wss://tweetguard.larchwood-academy.test:8741/api/v1/ws');
  const Socket = recordingSocketClass();
  const logged = [];
  const client = new ServerClient({ serverUrl: SERVER, storage: storage(), fetch, WebSocket: Socket, log: (line) => logged.push(line) });
  await client.request({ type: 'hello' });
  const reply = await client.request({ type: 'check', text: 'Netball team in the county final' });
  assert.equal(reply.verdict, 'allow');
  assert.equal(Socket.sockets.length, 1);
  assert.equal(Socket.sockets[0].url, 'wss://tweetguard.larchwood-academy.test:8741/api/v1/ws');
  assert.equal(Socket.sockets[0].sent[0].credential, 'd_12.secret-of-larchwood');
  assert.equal(fetch.calls.length, 1); // only the hello went by HTTPS
  assert.deepEqual(logged, []);
});
