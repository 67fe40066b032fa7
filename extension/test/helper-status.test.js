// Which link is broken when the helper cannot be reached: "not installed",
// "refused this extension", "crashed", each as the browsers really word it, each
// with "run tweetguard doctor", and every one of them an error reply (post held).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  CRASHED,
  EXITED,
  HELPER_UNAVAILABLE,
  HelperClient,
  NO_ANSWER,
  NOT_INSTALLED,
  REFUSED,
  UNKNOWN,
  classify,
  problemKind,
  unavailable,
} from '../src/helper-client.js';
import { ASK_IT, helperLine } from '../src/popup/status.js';

function event() {
  const listeners = [];
  return { addListener: (fn) => listeners.push(fn), fire: (...args) => listeners.forEach((fn) => fn(...args)) };
}

// chrome.runtime (or Firefox's browser.runtime) with ports whose far end the test plays.
function fakeRuntime() {
  const runtime = { lastError: undefined, ports: [] };
  runtime.connectNative = () => {
    const port = {
      sent: [],
      error: null,
      onMessage: event(),
      onDisconnect: event(),
      postMessage(message) {
        this.sent.push(message);
      },
      disconnect() {},
    };
    runtime.ports.push(port);
    return port;
  };
  return runtime;
}

/** Chromium: the reason is in runtime.lastError while onDisconnect runs. */
function chromiumCloses(runtime, port, message) {
  runtime.lastError = message === undefined ? undefined : { message };
  port.onDisconnect.fire(port);
  runtime.lastError = undefined;
}

/** Firefox: runtime.lastError stays empty; the port carries `error` (null at end of file). */
function firefoxCloses(port, message) {
  port.error = message === undefined ? null : { message };
  port.onDisconnect.fire(port);
}

// Each browser's exact words (Chromium native_message_host.cc, Firefox
// NativeMessaging.sys.mjs) and the kind the extension makes of them.
const CHROMIUM = [
  ['Specified native messaging host not found.', NOT_INSTALLED],
  ['Native messaging host org.tweetguard.helper is not registered.', NOT_INSTALLED],
  ['Access to the specified native messaging host is forbidden.', REFUSED],
  ['Native host has exited.', CRASHED],
  ['Error when communicating with the native messaging host.', CRASHED],
  ['Failed to start native messaging host.', CRASHED],
];
const FIREFOX = [
  ['No such native application org.tweetguard.helper', NOT_INSTALLED],
  ['Attempt to postMessage on disconnected port', CRASHED],
  ['An unexpected error occurred', CRASHED],
];

for (const [reason, kind] of CHROMIUM) {
  test(`Chromium "${reason}" holds the post as ${kind}`, async () => {
    const runtime = fakeRuntime();
    const client = new HelperClient(runtime);
    const pending = client.request({ type: 'check', text: 'Sports day moved to Friday' });
    chromiumCloses(runtime, runtime.ports[0], reason);
    const reply = await pending;
    assert.equal(reply.ok, false);
    assert.equal(reply.error.code, HELPER_UNAVAILABLE);
    assert.equal(reply.error.kind, kind);
    assert.equal(reply.error.detail, reason);
    assert.equal(problemKind(reply), kind);
    assert.match(reply.error.message, /so this post is held\./);
    assert.match(reply.error.message, /IT lead to run tweetguard doctor\.$/);
    assert.ok(!reply.error.message.includes('\n'));
  });
}

for (const [reason, kind] of FIREFOX) {
  test(`Firefox "${reason}" (on the port, not lastError) holds the post as ${kind}`, async () => {
    const runtime = fakeRuntime();
    const client = new HelperClient(runtime);
    const pending = client.request({ type: 'hello' });
    firefoxCloses(runtime.ports[0], reason);
    const reply = await pending;
    assert.equal(reply.error.kind, kind);
    assert.equal(reply.error.detail, reason);
    assert.match(reply.error.message, /run tweetguard doctor\.$/);
  });
}

test('Firefox closing the port with no error is a helper that exited', async () => {
  const runtime = fakeRuntime();
  const client = new HelperClient(runtime);
  const pending = client.request({ type: 'hello' });
  firefoxCloses(runtime.ports[0]);
  const reply = await pending;
  assert.equal(reply.error.kind, CRASHED);
  assert.equal(reply.error.detail, EXITED);
});

test('the three kinds read differently, and "not installed" keeps the words teachers know', () => {
  const missing = classify('Specified native messaging host not found.').message;
  const refused = classify('Access to the specified native messaging host is forbidden.').message;
  const crashed = classify('Native host has exited.').message;
  assert.equal(new Set([missing, refused, crashed]).size, 3);
  assert.ok(missing.startsWith('The tweetguard safety helper is not running, so this post is held. '));
  assert.match(missing, /not installed for this browser/);
  assert.match(refused, /refused this browser extension/);
  assert.match(refused, /installed for another extension/);
  assert.match(crashed, /crashed or could not start/);
  // Firefox cannot tell a missing host from one installed for another add-on: it says both.
  assert.match(classify('No such native application org.tweetguard.helper').message, /or not for this add-on/);
});

test('a helper that does not answer in time is its own kind, and the port is dropped', async () => {
  const runtime = fakeRuntime();
  const client = new HelperClient(runtime, { timeoutMs: 10 });
  const reply = await client.request({ type: 'hello' });
  assert.equal(reply.error.kind, NO_ANSWER);
  assert.match(reply.error.message, /did not answer, so this post is held/);
  assert.match(reply.error.message, /run tweetguard doctor/);
});

test('requests waiting beside one that timed out fail as not answering too', async () => {
  const runtime = fakeRuntime();
  const client = new HelperClient(runtime, { timeoutMs: 30 });
  const first = client.request({ type: 'hello' });
  await new Promise((resolve) => setTimeout(resolve, 15));
  const second = client.request({ type: 'hello' }, { timeoutMs: 10_000 });
  const [a, b] = await Promise.all([first, second]);
  assert.equal(a.error.kind, NO_ANSWER);
  assert.equal(b.error.kind, NO_ANSWER, 'dropped with the port, not an unknown failure');
  assert.match(b.error.message, /did not answer/);
});

test('an unknown reason is still a held post, with the doctor to find out', async () => {
  const reply = unavailable('something new from a future browser');
  assert.equal(reply.ok, false);
  assert.equal(reply.error.kind, UNKNOWN);
  assert.match(reply.error.message, /not running, so this post is held.*tweetguard doctor/);
});

test("a caller's own message (the school's server) carries no helper kind", () => {
  const reply = unavailable('ECONNREFUSED', "The school's tweetguard server cannot be reached, so this post is held.");
  assert.equal(reply.error.kind, undefined);
  assert.equal(problemKind(reply), null);
});

test("the helper's own forbidden_origin answer is a refusal, kept in its own words", async () => {
  const runtime = fakeRuntime();
  const client = new HelperClient(runtime);
  const pending = client.request({ type: 'hello' });
  const [port] = runtime.ports;
  const forbidden = {
    id: port.sent[0].id,
    ok: false,
    error: { code: 'forbidden_origin', message: 'This browser extension is not the one the safety helper was installed for.' },
  };
  port.onMessage.fire(forbidden);
  const reply = await pending;
  assert.equal(reply.error.message, forbidden.error.message);
  assert.equal(problemKind(reply), REFUSED);
});

test('trap: a helper that answered with a problem of its own is not a broken link', () => {
  const policyBroken = { ok: false, error: { code: 'policy_invalid', message: 'The policy file is broken.' } };
  assert.equal(problemKind(policyBroken), null);
  assert.equal(problemKind({ ok: true }), null);
  // ... and the popup shows the helper's own words for it.
  assert.deepEqual(helperLine({ ok: false, message: 'The policy file is broken.', problem: null }), {
    text: 'The policy file is broken.',
    tone: 'bad',
  });
});

test('trap: a helper that answers after a refusal elsewhere is running', async () => {
  const runtime = fakeRuntime();
  const client = new HelperClient(runtime);
  const first = client.request({ type: 'hello' });
  chromiumCloses(runtime, runtime.ports[0], 'Specified native messaging host not found.');
  assert.equal((await first).error.kind, NOT_INSTALLED);
  // IT installs it: the next request opens a new port, and its answer is a plain ok.
  const second = client.request({ type: 'hello' });
  const port = runtime.ports[1];
  port.onMessage.fire({ id: port.sent[0].id, ok: true, helper_version: '0.9' });
  const reply = await second;
  assert.equal(reply.ok, true);
  assert.equal(problemKind(reply), null);
});

test('the popup says which link is broken, that posts are held, and to ask IT to run the doctor', () => {
  const lines = Object.fromEntries(
    [NOT_INSTALLED, REFUSED, CRASHED, NO_ANSWER, UNKNOWN].map((problem) => [problem, helperLine({ ok: false, problem, message: 'x' })]),
  );
  assert.match(lines[NOT_INSTALLED].text, /^Not installed for this browser/);
  assert.match(lines[REFUSED].text, /^Installed for another extension, so it refused this one/);
  assert.match(lines[CRASHED].text, /^Stopped before it answered \(crashed or could not start\)/);
  assert.match(lines[NO_ANSWER].text, /^Not answering/);
  for (const line of Object.values(lines)) {
    assert.equal(line.tone, 'bad');
    assert.match(line.text, /posts are held/);
    assert.ok(line.text.endsWith(ASK_IT), line.text);
    assert.ok(!line.text.includes('\n'));
  }
  assert.equal(new Set(Object.values(lines).map((l) => l.text)).size, 5);
});

test('the popup shows a running helper as running, with its version', () => {
  assert.deepEqual(helperLine({ ok: true, version: '0.9.1', school: 'Oakfield' }), { text: 'Running (version 0.9.1)', tone: 'good' });
});
