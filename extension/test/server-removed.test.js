// A Chromebook the school removed stays removed: the server's 401 device_unknown
// (or 4401 on the socket) is remembered, the same enrolment token does not make a
// new device, and only a token IT changes enrols it again.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { HELPER_UNAVAILABLE } from '../src/helper-client.js';
import { ServerClient, STORAGE_KEY, defaultSocketUrl, tokenFingerprint } from '../src/server-client.js';
import { json, memoryStorage, socketClass } from '../test-support/server-fakes.js';

const SERVER = 'https://tg.hollins-green.test';
const REMOVED = /^This Chromebook was removed from the school's tweetguard server tg\.hollins-green\.test, so this post is held; ask IT to enrol it again\.$/;


// The server: knows the credentials in `known`; enrols with any token in `tokens`.
function fakeServer({ known = new Set(), tokens = new Set(['tok-hollins-1']), unknownBody = null } = {}) {
  const calls = [];
  let next = 1;
  const fetch = async (url, init) => {
    const body = init.body ? JSON.parse(init.body) : null;
    calls.push({ url, init, body });
    if (url.endsWith('/api/v1/enrol')) {
      if (!tokens.has(body.code)) return json(403, { error: { code: 'enrol_refused', message: 'this token was revoked' } });
      const credential = `d_${next}.secret-${next++}`;
      known.add(credential);
      return json(201, { device_id: credential.split('.')[0], credential, school: { id: 's_1', name: 'Hollins Green' } });
    }
    const credential = init.headers.Authorization.replace('Bearer ', '');
    if (!known.has(credential)) {
      return unknownBody
        ? json(401, unknownBody)
        : json(401, { error: { code: 'device_unknown', message: 'this machine is not enrolled, or was removed: ask IT to enrol it again' } });
    }
    return json(200, { id: body.id, ok: true, verdict: 'allow', findings: [] });
  };
  fetch.calls = calls;
  fetch.enrolments = () => calls.filter((c) => c.url.endsWith('/enrol')).length;
  return { fetch, known, tokens };
}

test('a removed Chromebook is held and not enrolled again with the same token, even by a new worker', async () => {
  const storage = memoryStorage();
  const server = fakeServer();
  const client = new ServerClient({ serverUrl: SERVER, enrolmentToken: 'tok-hollins-1', storage, fetch: server.fetch, WebSocket: null });
  assert.equal((await client.request({ type: 'check', text: 'Reception class made bread' })).ok, true);
  assert.equal(server.fetch.enrolments(), 1);

  server.known.clear(); // IT removes the Chromebook in the dashboard
  const held = await client.request({ type: 'check', text: 'Reception class made bread' });
  assert.equal(held.ok, false);
  assert.equal(held.error.code, HELPER_UNAVAILABLE);
  assert.match(held.error.message, REMOVED);
  assert.equal(storage.data[STORAGE_KEY].removed, true);
  assert.equal(storage.data[STORAGE_KEY].credential, undefined);
  // The token itself is not kept beside the removal, only its fingerprint.
  assert.ok(!JSON.stringify(storage.data).includes('tok-hollins-1'));

  const again = await client.request({ type: 'check', text: 'Choir at the town hall' });
  assert.match(again.error.message, REMOVED);
  // The service worker restarts: still removed, still no new device.
  const restarted = new ServerClient({ serverUrl: SERVER, enrolmentToken: 'tok-hollins-1', storage, fetch: server.fetch, WebSocket: null });
  assert.match((await restarted.request({ type: 'hello' })).error.message, REMOVED);
  assert.equal(server.fetch.enrolments(), 1);
});

test('trap: a changed enrolment token enrols again, and the Chromebook works', async () => {
  const storage = memoryStorage({
    [STORAGE_KEY]: { serverUrl: SERVER, removed: true, token: await tokenFingerprint('tok-hollins-1') },
  });
  const server = fakeServer({ tokens: new Set(['tok-hollins-2']) });
  const client = new ServerClient({ serverUrl: SERVER, enrolmentToken: 'tok-hollins-2', storage, fetch: server.fetch, WebSocket: null });
  const reply = await client.request({ type: 'check', text: 'Harvest assembly photos' });
  assert.equal(reply.ok, true);
  assert.equal(server.fetch.enrolments(), 1);
  assert.deepEqual(server.fetch.calls[0].body.code, 'tok-hollins-2');
  assert.equal(storage.data[STORAGE_KEY].removed, undefined);
  assert.ok(storage.data[STORAGE_KEY].credential.startsWith('d_'));
});

test('trap: a removal recorded for another server does not hold this one', async () => {
  const storage = memoryStorage({
    [STORAGE_KEY]: { serverUrl: 'https://tg.old-host.test', removed: true, token: await tokenFingerprint('tok-hollins-1') },
  });
  const server = fakeServer();
  const client = new ServerClient({ serverUrl: SERVER, enrolmentToken: 'tok-hollins-1', storage, fetch: server.fetch, WebSocket: null });
  assert.equal((await client.request({ type: 'check', text: 'Football final' })).ok, true);
});

test('trap: a 401 that is not the server\'s device_unknown (a proxy login page) keeps the credential', async () => {
  const storage = memoryStorage({ [STORAGE_KEY]: { serverUrl: SERVER, credential: 'd_7.secret-7' } });
  const server = fakeServer({ unknownBody: { message: 'proxy authentication required' } });
  const client = new ServerClient({ serverUrl: SERVER, enrolmentToken: 'tok-hollins-1', storage, fetch: server.fetch, WebSocket: null });
  const reply = await client.request({ type: 'check', text: 'Science week' });
  assert.equal(reply.ok, false);
  assert.doesNotMatch(reply.error.message, /removed/);
  assert.ok(!reply.error.message.includes('\n'));
  assert.equal(storage.data[STORAGE_KEY].credential, 'd_7.secret-7');
  assert.equal(server.fetch.enrolments(), 0);
});

// A socket whose far end accepts the credential, then closes with 4401 at the
// next request (the device was removed while connected).
function closingSocketClass(closeCode) {
  return socketClass({
    onRequest: (socket) => queueMicrotask(() => socket.onclose({ code: closeCode, reason: 'removed' })),
  });
}

test('4401 on the socket after the credential went: held as removed, no enrolment, nothing by HTTP', async () => {
  const storage = memoryStorage({ [STORAGE_KEY]: { serverUrl: SERVER, credential: 'd_3.secret-3' } });
  const server = fakeServer();
  const client = new ServerClient({
    serverUrl: SERVER,
    enrolmentToken: 'tok-hollins-1',
    storage,
    fetch: server.fetch,
    WebSocket: closingSocketClass(4401),
    socketUrl: defaultSocketUrl(SERVER),
  });
  const reply = await client.request({ type: 'check', text: 'Maths club' });
  assert.match(reply.error.message, REMOVED);
  const next = await client.request({ type: 'check', text: 'Maths club' });
  assert.match(next.error.message, REMOVED);
  // The removal is written in the background (the socket's close handler): wait for it.
  while (!(storage.data[STORAGE_KEY] && storage.data[STORAGE_KEY].removed)) await new Promise((r) => setTimeout(r, 1));
  assert.equal(storage.data[STORAGE_KEY].credential, undefined);
  assert.equal(server.fetch.calls.length, 0);
});

test('trap: a socket closing for another reason is not a removal', async () => {
  const storage = memoryStorage({ [STORAGE_KEY]: { serverUrl: SERVER, credential: 'd_3.secret-3' } });
  const server = fakeServer({ known: new Set(['d_3.secret-3']) });
  const client = new ServerClient({
    serverUrl: SERVER,
    enrolmentToken: 'tok-hollins-1',
    storage,
    fetch: server.fetch,
    WebSocket: closingSocketClass(1011),
    socketUrl: defaultSocketUrl(SERVER),
  });
  const reply = await client.request({ type: 'check', text: 'Art gallery visit' });
  assert.match(reply.error.message, /cannot be reached/);
  assert.equal(storage.data[STORAGE_KEY].credential, 'd_3.secret-3');
  // The next goes by HTTPS (inside the backoff) and is answered.
  assert.equal((await client.request({ type: 'check', text: 'Art gallery visit' })).ok, true);
});
