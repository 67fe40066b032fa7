// The service worker passes the helper's progress on to the tab that asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { progressToTab, PROGRESS_KIND } from '../src/progress.js';

const SHA = 'd'.repeat(64);

function fakeTabs(behaviour = () => Promise.resolve()) {
  const tabs = { sent: [] };
  tabs.sendMessage = (tabId, message, options) => {
    tabs.sent.push({ tabId, message, options });
    return behaviour();
  };
  return tabs;
}

test('progress goes to the tab and frame that sent the photo, naming the photo', () => {
  const tabs = fakeTabs();
  const tell = progressToTab(tabs, { tab: { id: 7 }, frameId: 0 }, SHA);
  tell({ done: 3, total: 30 });
  assert.deepEqual(tabs.sent, [
    { tabId: 7, message: { kind: PROGRESS_KIND, sha256: SHA, done: 3, total: 30 }, options: { frameId: 0 } },
  ]);
});

test('without a frame id the whole tab is told', () => {
  const tabs = fakeTabs();
  progressToTab(tabs, { tab: { id: 2 } }, SHA)({ done: 1, total: 2 });
  assert.deepEqual(tabs.sent[0].options, {});
});

test('a sender without a tab (the popup) gets no progress', () => {
  assert.equal(progressToTab(fakeTabs(), {}, SHA), null);
  assert.equal(progressToTab(fakeTabs(), { tab: {} }, SHA), null);
  assert.equal(progressToTab(fakeTabs(), undefined, SHA), null);
});

test('a tab that has gone or does not listen costs nothing', async () => {
  const rejected = progressToTab(fakeTabs(() => Promise.reject(new Error('Receiving end does not exist.'))), { tab: { id: 1 } }, SHA);
  rejected({ done: 1, total: 1 }); // an unhandled rejection would fail the test run
  const thrown = progressToTab(fakeTabs(() => {
    throw new Error('No tab with id: 1.');
  }), { tab: { id: 1 } }, SHA);
  assert.doesNotThrow(() => thrown({ done: 1, total: 1 }));
  await new Promise((resolve) => setTimeout(resolve, 0));
});
