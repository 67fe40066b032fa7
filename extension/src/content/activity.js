// Tells the service worker the teacher is at the keyboard, for idle logout,
// and leaves the page for X's login screen when the worker has signed out.
(() => {
  'use strict';

  const dom = globalThis.TweetGuardDom;
  const checker = globalThis.TweetGuardChecker;
  const EVERY_MS = 5000;
  let last = 0;

  function ping() {
    const now = Date.now();
    if (now - last < EVERY_MS) return;
    last = now;
    checker.send({ kind: 'tweetguard:activity', account: dom.activeAccount() });
  }

  for (const type of ['keydown', 'pointerdown', 'wheel']) {
    window.addEventListener(type, ping, { capture: true, passive: true });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', ping, { once: true });
  else ping();

  chrome.runtime.onMessage.addListener((message) => {
    if (message && message.kind === 'tweetguard:logged-out') location.assign(dom.loginUrl());
  });
})();
