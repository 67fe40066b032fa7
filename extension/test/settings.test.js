// serverUrl from managed storage: https, or plain http only for a server on this
// machine (as helper/tweetguard/sync/client.py check_url); anything else holds the
// posts with one line naming the setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { serverConfig } from '../src/settings.js';
import { ServerClient } from '../src/server-client.js';

test('plain http to a network host, or no server address, is a problem naming serverUrl', () => {
  for (const [serverUrl, why] of [
    ['http://tweetguard.ashdown-primary.test', /is not encrypted/],
    ['http://192.168.4.20:8080/', /is not encrypted/],
    ['http://127.0.0.1.ashdown-primary.test', /is not encrypted/],
    ['http://localhost.ashdown-primary.test', /is not encrypted/],
    ['ftp://tweetguard.ashdown-primary.test', /is not a server address/],
    ['tweetguard.ashdown-primary.test', /is not a server address/],
    ['https://tweetguard.ashdown-primary.test/?x=1', /more than a server address/],
    ['https://it:hunter2@tweetguard.ashdown-primary.test', /more than a server address/],
  ]) {
    const config = serverConfig({ serverUrl, enrolmentToken: 'tok-ashdown' });
    assert.ok(config, serverUrl);
    assert.match(config.problem, why, serverUrl);
    assert.match(config.problem, /^The serverUrl setting .*so this post is held; ask IT/);
    assert.ok(!config.problem.includes('\n'));
  }
  // A password in the URL is not repeated to the teacher.
  assert.ok(!serverConfig({ serverUrl: 'https://it:hunter2@tweetguard.ashdown-primary.test' }).problem.includes('hunter2'));
});

test('trap: https anywhere, and http on localhost, 127.x or [::1], are accepted', () => {
  for (const [serverUrl, expected] of [
    ['https://tweetguard.ashdown-primary.test/', 'https://tweetguard.ashdown-primary.test'],
    ['https://tweetguard.ashdown-primary.test:8443/tg/', 'https://tweetguard.ashdown-primary.test:8443/tg'],
    ['http://localhost:8080', 'http://localhost:8080'],
    ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080'],
    ['http://127.3.2.1', 'http://127.3.2.1'],
    ['http://[::1]:8080', 'http://[::1]:8080'],
  ]) {
    assert.deepEqual(serverConfig({ serverUrl, enrolmentToken: 'tok-ashdown' }), { serverUrl: expected, enrolmentToken: 'tok-ashdown' }, serverUrl);
  }
  assert.equal(serverConfig({}), null);
  assert.equal(serverConfig({ serverUrl: '' }), null);
});

test('a client built on a refused serverUrl holds every post with that line and sends nothing', async () => {
  const config = serverConfig({ serverUrl: 'http://tweetguard.ashdown-primary.test', enrolmentToken: 'tok-ashdown' });
  const calls = [];
  const client = new ServerClient({
    ...config,
    storage: { get: async () => ({}), set: async () => {}, remove: async () => {} },
    fetch: async (...args) => {
      calls.push(args);
      throw new Error('must not be called');
    },
    WebSocket: class {
      constructor() {
        calls.push('socket');
      }
    },
  });
  const reply = await client.request({ type: 'check', text: 'Sponsored walk' });
  assert.equal(reply.ok, false);
  assert.equal(reply.error.message, config.problem);
  assert.deepEqual(calls, []);
});
