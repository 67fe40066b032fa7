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
