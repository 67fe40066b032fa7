// The popup says whether school policy installed tweetguard and how the network guard works.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { auditLine, guardLine, policyLine } from '../src/popup/status.js';

test('installed by policy (installType admin) is said plainly', () => {
  assert.deepEqual(policyLine({ installType: 'admin' }), { text: 'Installed by school policy', tone: 'good' });
});

for (const installType of ['development', 'normal', 'sideload', 'other']) {
  test(`installType ${installType} is not protected by policy`, () => {
    const line = policyLine({ installType });
    assert.equal(line.tone, 'bad');
    assert.match(line.text, /^This computer is not protected by school policy: IT can force-install tweetguard \(see “How IT deploys it” in the tweetguard README\)$/);
  });
}

test('an unreadable install type is not taken for protection', () => {
  const line = policyLine(null);
  assert.equal(line.tone, 'bad');
  assert.match(line.text, /^Cannot tell if school policy installed tweetguard/);
});

test('the network guard row is hidden until the guard says its mode', () => {
  assert.equal(guardLine(undefined), null);
  assert.equal(guardLine({}), null);
});

test('each network guard mode is one line of plain words', () => {
  assert.deepEqual(guardLine({ mode: 'blocking', held: 0 }), { text: 'On: checks the text of every post sent', tone: 'good' });
  assert.deepEqual(guardLine({ mode: 'rules' }), { text: 'On: stops posts that were not checked', tone: '' });
  assert.equal(guardLine({ mode: 'new' }).text, 'On (new)');
  for (const line of [policyLine({ installType: 'normal' }), guardLine({ mode: 'rules' })]) {
    assert.ok(!line.text.includes('\n'));
  }
});

test('the audit row is hidden while this browser writes the shared audit', () => {
  assert.equal(auditLine({ shared: true, ok: true, note: 'Recording to the school’s shared audit log.' }), null);
  assert.equal(auditLine(undefined), null); // a helper too old to say
});

test('a per-user or failing audit is said in the helper’s own words', () => {
  const note = 'Not the school’s shared audit log: the data folder /srv/tg is not writable by mr_achebe; writing /srv/tg/audit.d/mr_achebe.sqlite3.';
  assert.deepEqual(auditLine({ shared: false, ok: true, note }), { text: note, tone: '' });
  const failing = auditLine({ shared: true, ok: false, note: 'The audit log cannot be written (disk full); ask IT.' });
  assert.equal(failing.tone, 'bad');
  assert.match(failing.text, /cannot be written/);
});
