// Holds every post until the helper has checked it.
//
// Listeners sit on window in the capture phase, registered at document_start,
// so they run before any of X's handlers. A post goes out only by our own
// re-dispatch after an `allow` (or a teacher's "Post anyway" on a warning).
(() => {
  'use strict';

  const dom = globalThis.TweetGuardDom;
  const panel = globalThis.TweetGuardPanel;
  const ASK_TIMEOUT_MS = 8000; // the service worker gives up on the helper at 5 s
  const HELPER_UNAVAILABLE = {
    ok: false,
    error: {
      code: 'helper_unavailable',
      message:
        "The tweetguard safety helper is not running, so this post is held. " +
        "Ask your school's IT lead to install or restart tweetguard.",
    },
  };

  const inFlight = new WeakSet(); // composers with a check running
  let releasing = false; // true only while we re-dispatch an approved post

  function stop(event) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }

  function onClick(event) {
    if (releasing) return;
    const button = dom.postButtonFrom(event.target);
    if (!button) return;
    stop(event);
    const composer = dom.composerAround(button);
    guard(composer, () => button.click());
  }

  function onKeyDown(event) {
    if (releasing || event.key !== 'Enter' || !(event.ctrlKey || event.metaKey)) return;
    const box = dom.textBoxFrom(event.target);
    if (!box) return;
    stop(event);
    const target = event.target;
    const init = {
      key: event.key, code: event.code, keyCode: 13, which: 13,
      ctrlKey: event.ctrlKey, metaKey: event.metaKey, shiftKey: event.shiftKey, altKey: event.altKey,
      bubbles: true, cancelable: true, composed: true,
    };
    guard(dom.composerAround(box), () => target.dispatchEvent(new KeyboardEvent('keydown', init)));
  }

  function release(post) {
    releasing = true;
    try {
      post();
    } finally {
      releasing = false;
    }
  }

  async function guard(composer, post) {
    if (!composer) return; // not a composer we understand: nothing was posted
    if (inFlight.has(composer)) return; // a second click while checking is swallowed
    inFlight.add(composer);
    const anchor = dom.panelAnchor(composer);
    try {
      const texts = dom.composerTexts(composer);
      if (texts.length === 0) {
        panel.error(composer, anchor, 'tweetguard cannot read this post, so it is held. Reload the page; if it keeps happening, tell IT.');
        return;
      }
      panel.checking(composer, anchor);
      const account = dom.activeAccount();
      const media = dom.attachedMedia(composer);
      const replies = await Promise.all(texts.map((text) => ask({ type: 'check', text, account, media })));
      if (!sameTexts(texts, dom.composerTexts(composer))) {
        panel.error(composer, anchor, 'The post changed while tweetguard was checking it. Press Post again.');
        return;
      }
      const failed = replies.find((r) => !r || !r.ok);
      if (failed) {
        panel.error(composer, anchor, (failed && failed.error && failed.error.message) || HELPER_UNAVAILABLE.error.message);
        return;
      }
      const results = texts.map((text, i) => ({ text, reply: replies[i] }));
      const verdict = worst(replies.map((r) => r.verdict));
      if (verdict === 'allow') {
        panel.clear(composer);
        release(post);
      } else if (verdict === 'warn') {
        panel.findings(composer, anchor, results, verdict, {
          label: 'Post anyway',
          run: () => {
            if (!sameTexts(texts, dom.composerTexts(composer))) {
              panel.error(composer, anchor, 'The post changed since it was checked. Press Post again.');
              return;
            }
            panel.clear(composer);
            release(post);
          },
        });
      } else {
        panel.findings(composer, anchor, results, verdict, null);
      }
    } finally {
      inFlight.delete(composer);
    }
  }

  function worst(verdicts) {
    if (verdicts.includes('block')) return 'block';
    if (verdicts.includes('warn')) return 'warn';
    return 'allow';
  }

  function sameTexts(a, b) {
    return a.length === b.length && a.every((text, i) => text === b[i]);
  }

  function ask(request) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(HELPER_UNAVAILABLE), ASK_TIMEOUT_MS);
      try {
        chrome.runtime.sendMessage({ kind: 'tweetguard:ask', request }, (reply) => {
          clearTimeout(timer);
          // lastError: the extension was reloaded or its worker could not start.
          resolve(chrome.runtime.lastError || !reply ? HELPER_UNAVAILABLE : reply);
        });
      } catch {
        clearTimeout(timer);
        resolve(HELPER_UNAVAILABLE);
      }
    });
  }

  window.addEventListener('click', onClick, true);
  window.addEventListener('keydown', onKeyDown, true);
})();
