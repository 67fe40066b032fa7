// The popup's line about the school's server, from the helper's hello (`server`).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { clockTime, syncLine } from '../src/popup/status.js';

const URL_ = 'https://tweetguard.larkspur.example';
// A moment in local time, so the expected clock reading does not depend on the zone.
const morning = new Date(2026, 10, 30, 9, 14, 27);
const later = new Date(2026, 10, 30, 11, 2, 0);

test('the row is hidden when the helper is not enrolled (or too old to say)', () => {
  assert.equal(syncLine(undefined), null);
  assert.equal(syncLine(null), null);
  assert.equal(syncLine({ url: URL_ }), null);
});

test('online says up to date, with the server it syncs with', () => {
  const line = syncLine({ url: URL_, state: 'online', since: morning.toISOString(), note: 'Up to date with the school’s server (policy 3.2, register revision 41)' });
  assert.deepEqual(line, { text: "Up to date with the school's server (tweetguard.larkspur.example)", tone: 'good' });
});

test('offline says since when, on the school’s last policy', () => {
  const line = syncLine(
    { url: URL_, state: 'offline', since: morning.toISOString(), note: 'cannot reach ...; working offline on the school’s last policy and register' },
    later,
  );
  assert.deepEqual(line, { text: "Working offline since 09:14 on the school's last policy", tone: 'warn' });
});

test('offline since another day names the day', () => {
  const nextDay = new Date(2026, 11, 1, 8, 0, 0);
  const line = syncLine({ url: URL_, state: 'offline', since: morning.toISOString(), note: '' }, nextDay);
  assert.equal(line.text, "Working offline since 30 Nov 09:14 on the school's last policy");
});

test('never synced yet: the helper’s own words, not a made-up time', () => {
  const note = "Not synced with the school's server yet: working on this machine's own policy and register";
  assert.deepEqual(syncLine({ url: URL_, state: 'offline', since: '', note }), { text: note, tone: 'warn' });
});

test('a refusal is said in the helper’s words, as a problem (trap: not taken for offline)', () => {
  const note = 'the server refused this machine (device_unknown): this machine is not enrolled, or was removed: ask IT to enrol it again';
  const line = syncLine({ url: URL_, state: 'refused', since: morning.toISOString(), note });
  assert.deepEqual(line, { text: note, tone: 'bad' });
  for (const state of ['online', 'offline', 'refused']) {
    const one = syncLine({ url: URL_, state, since: morning.toISOString(), note: 'x' }, later);
    assert.ok(!one.text.includes('\n'));
  }
});

test('clockTime reads ISO times with milliseconds and Z, and refuses nonsense', () => {
  assert.equal(clockTime(morning.toISOString(), later), '09:14');
  assert.equal(clockTime('not a time'), null);
});
