// The service worker's port to the helper: every way it can fail holds the post.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { HelperClient, HELPER_UNAVAILABLE, HOST_NAME } from '../src/helper-client.js';

function event() {
  const listeners = [];
  return { addListener: (fn) => listeners.push(fn), fire: (...args) => listeners.forEach((fn) => fn(...args)) };
}

// A stand-in for chrome.runtime with a port whose far end the test plays.
function fakeRuntime({ failConnect = false } = {}) {
  const runtime = { lastError: undefined, ports: [], connects: 0 };
  runtime.connectNative = (name) => {
    runtime.connects += 1;
    assert.equal(name, HOST_NAME);
    if (failConnect) throw new Error('Specified native messaging host not found.');
    const port = {
      sent: [],
      disconnected: false,
      onMessage: event(),
      onDisconnect: event(),
      postMessage(message) {
        if (this.disconnected) throw new Error('Attempting to use a disconnected port object');
        this.sent.push(message);
      },
      disconnect() {
        this.disconnected = true;
      },
    };
    runtime.ports.push(port);
    return port;
  };
  return runtime;
}

test('replies are matched to requests by id over one port', async () => {
  const runtime = fakeRuntime();
  const client = new HelperClient(runtime);
  const first = client.request({ type: 'check', text: 'a' });
  const second = client.request({ type: 'check', text: 'b' });
  const [port] = runtime.ports;
  assert.equal(runtime.connects, 1);
  const [a, b] = port.sent;
  port.onMessage.fire({ id: b.id, ok: true, verdict: 'block' });
  port.onMessage.fire({ id: a.id, ok: true, verdict: 'allow' });
  assert.equal((await first).verdict, 'allow');
  assert.equal((await second).verdict, 'block');
});

test('a missing host is an unavailable reply, not an exception', async () => {
  const client = new HelperClient(fakeRuntime({ failConnect: true }));
  const reply = await client.request({ type: 'check', text: 'a' });
  assert.equal(reply.ok, false);
  assert.equal(reply.error.code, HELPER_UNAVAILABLE);
  assert.match(reply.error.message, /not running, so this post is held/);
});

test('a host that exits fails the waiting requests and is restarted next time', async () => {
  const runtime = fakeRuntime();
  const client = new HelperClient(runtime);
  const pending = client.request({ type: 'check', text: 'a' });
  runtime.lastError = { message: 'Native host has exited.' };
  runtime.ports[0].onDisconnect.fire();
  runtime.lastError = undefined;
  const reply = await pending;
  assert.equal(reply.error.code, HELPER_UNAVAILABLE);
  assert.equal(reply.error.detail, 'Native host has exited.');
  const again = client.request({ type: 'hello' });
  assert.equal(runtime.connects, 2);
  runtime.ports[1].onMessage.fire({ id: runtime.ports[1].sent[0].id, ok: true });
  assert.equal((await again).ok, true);
});

test('a host that does not answer in time holds the post and is dropped', async () => {
  const runtime = fakeRuntime();
  const client = new HelperClient(runtime, { timeoutMs: 20 });
  const reply = await client.request({ type: 'check', text: 'a' });
  assert.equal(reply.error.code, HELPER_UNAVAILABLE);
  assert.match(reply.error.message, /did not answer/);
  assert.equal(runtime.ports[0].disconnected, true);
  // A late answer from the old port is ignored rather than settling anything else.
  runtime.ports[0].onMessage.fire({ id: 1, ok: true, verdict: 'allow' });
  client.request({ type: 'hello' });
  assert.equal(runtime.connects, 2);
});

test('progress frames reach the request they are for, which still waits for its reply', async () => {
  const runtime = fakeRuntime();
  const client = new HelperClient(runtime);
  const heard = [];
  const other = [];
  const put = client.request({ type: 'media_put' }, { onProgress: (p) => heard.push(p) });
  const check = client.request({ type: 'check', text: 'a' }, { onProgress: (p) => other.push(p) });
  const [port] = runtime.ports;
  const [a, b] = port.sent;
  let settled = false;
  put.then(() => {
    settled = true;
  });
  port.onMessage.fire({ type: 'progress', for: a.id, done: 1, total: 3 });
  port.onMessage.fire({ type: 'progress', for: a.id, done: 2, total: 3 });
  await Promise.resolve();
  assert.deepEqual(heard, [{ done: 1, total: 3 }, { done: 2, total: 3 }]);
  assert.deepEqual(other, [], 'only the request named in "for" hears');
  assert.equal(settled, false, 'a progress frame is not the reply');
  port.onMessage.fire({ id: a.id, ok: true, received: 10, photo: { faces: 3 } });
  assert.equal((await put).photo.faces, 3);
  port.onMessage.fire({ id: b.id, ok: true, verdict: 'allow' });
  assert.equal((await check).verdict, 'allow');
});

test('progress for a request no longer waiting, or without a listener, or malformed, is ignored', async () => {
  const runtime = fakeRuntime();
  const client = new HelperClient(runtime);
  const heard = [];
  const quiet = client.request({ type: 'photo_blur' }); // no onProgress
  const loud = client.request({ type: 'media_put' }, { onProgress: (p) => heard.push(p) });
  const [port] = runtime.ports;
  const [q, l] = port.sent;
  port.onMessage.fire({ type: 'progress', for: q.id, done: 1, total: 2 });
  port.onMessage.fire({ type: 'progress', for: 999, done: 1, total: 2 });
  port.onMessage.fire({ type: 'progress', for: l.id, done: 1, total: 0 });
  port.onMessage.fire({ type: 'progress', for: l.id, done: 'x', total: 2 });
  // With an id it is not a progress frame but a reply (here to nothing).
  port.onMessage.fire({ id: 999, type: 'progress', for: l.id, done: 1, total: 2 });
  // done past total is shown as all of them.
  port.onMessage.fire({ type: 'progress', for: l.id, done: 5, total: 4 });
  assert.deepEqual(heard, [{ done: 4, total: 4 }]);
  port.onMessage.fire({ id: l.id, ok: true });
  port.onMessage.fire({ id: q.id, ok: true });
  assert.equal((await loud).ok, true);
  assert.equal((await quiet).ok, true);
  // After the reply, late progress for it goes nowhere.
  port.onMessage.fire({ type: 'progress', for: l.id, done: 4, total: 4 });
  assert.equal(heard.length, 1);
});

test('a listener that throws does not cost the request its reply', async () => {
  const runtime = fakeRuntime();
  const client = new HelperClient(runtime);
  const put = client.request({ type: 'media_put' }, {
    onProgress: () => {
      throw new Error('tab gone');
    },
  });
  const [port] = runtime.ports;
  port.onMessage.fire({ type: 'progress', for: port.sent[0].id, done: 1, total: 1 });
  port.onMessage.fire({ id: port.sent[0].id, ok: true });
  assert.equal((await put).ok, true);
});
