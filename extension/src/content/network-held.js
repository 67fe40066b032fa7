// What the teacher sees when the network guard (src/network-guard.js) held a post
// at X's API: a tweetguard panel at the top of the page. It also remembers the
// last text box and button the teacher used, so a held post that came from a
// composer x-dom.js does not know is reported as an `unknown-composer`, with a
// description of the element, and x-dom.js can learn it from real reports.
//
// Messages from the service worker (kind 'tweetguard:network-held'):
//   phase 'held'  -> reply {account, unknown: {tag, role, testid, ariaLabel, contenteditable} | null, detail}
//                    (`timedOut`: the rest of a thread whose approval ran out)
//   phase 'allowed' (with the checked `text`) | 'blocked' | 'cannot-check' | 'mismatch' -> shown; reply {ok: true}
//   phase 'sent' -> the notice goes (the held post went out once checked)
// After 'allowed', the teacher's next press of the same Post button (or Ctrl/Cmd+Enter
// in the same box) is held a moment: {kind: 'tweetguard:network-arm'} opens the
// one-shot allowance in the worker, then the press is replayed. Only while the box
// still holds the text that was checked: after an edit the press goes to the page
// untouched, the network holds it again and the new text is checked.
// Which elements are text boxes and buttons is x-dom.js's knowledge, never this file's.
(() => {
  'use strict';

  const dom = globalThis.TweetGuardDom;
  const RECENT_MS = 10_000; // a click or key this recent may have sent the held post
  const HOST_ATTR = 'data-tweetguard-network';
  let lastBox = null; // {element, at}
  let lastButton = null;
  let banner = null;
  let heldWith = null; // {button, box} the teacher used when the post was held
  let armed = null; // {button, box, text, until}: a held post that passed waits for Post again
  let replaying = false;

  const boxFrom = (node) => dom.anyTextBoxFrom(node);
  const buttonFrom = (node) => dom.anyButtonFrom(node);
  // As the network guard compares texts (src/network-guard.js normalize).
  const normalize = (text) => String(text).normalize('NFC').replace(/\r\n?/g, '\n').replace(/\u00a0/g, ' ').trim();

  /** Whether the box the held post came from still holds exactly the checked text. */
  function stillChecked(held) {
    if (!held.box) return true; // no box (a script's call): the worker lets out only the checked text
    if (!held.box.isConnected || typeof held.text !== 'string') return false;
    return normalize(dom.boxText(held.box)) === normalize(held.text);
  }

  function note(event) {
    if (!event.isTrusted) return;
    const path = event.composedPath ? event.composedPath() : [];
    const target = path.find((n) => n instanceof Element) || event.target;
    if (!(target instanceof Element) || target.closest(`[${HOST_ATTR}], [data-tweetguard-panel]`)) return;
    const now = Date.now();
    const box = boxFrom(target);
    if (box) lastBox = { element: box, at: now };
    if (event.type !== 'keydown') {
      const button = buttonFrom(target);
      if (button) lastButton = { element: button, at: now };
    } else if (event.key === 'Enter' && box) {
      lastButton = null; // Ctrl/Cmd+Enter in a box posts: the box is what sent it
    }
  }

  for (const type of ['pointerdown', 'click', 'keydown']) window.addEventListener(type, note, true);

  // Post pressed again after a held post passed its check: open the way, then replay.
  function pressedAgain(event) {
    if (replaying || !armed || !event.isTrusted) return;
    if (Date.now() > armed.until) {
      armed = null;
      return;
    }
    const target = event.target instanceof Element ? event.target : null;
    if (!target || target.closest(`[${HOST_ATTR}]`)) return;
    let replay = null;
    if (event.type === 'click') {
      const button = armed.button ? (armed.button.contains(target) ? armed.button : null) : buttonFrom(target);
      if (button) replay = () => button.click();
    } else if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      const box = armed.box ? (armed.box.contains(target) ? armed.box : null) : boxFrom(target);
      const init = {
        key: event.key, code: event.code, keyCode: 13, which: 13, ctrlKey: event.ctrlKey, metaKey: event.metaKey,
        shiftKey: event.shiftKey, altKey: event.altKey, bubbles: true, cancelable: true, composed: true,
      };
      if (box) replay = () => target.dispatchEvent(new KeyboardEvent('keydown', init));
    }
    if (!replay) return;
    if (!stillChecked(armed)) {
      // Edited since the check: not armed. The press goes to the page; the network
      // guard holds what it sends and checks the new text.
      armed = null;
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
    armed = null;
    const send = globalThis.TweetGuardChecker ? globalThis.TweetGuardChecker.send : null;
    if (!send) return;
    send({ kind: 'tweetguard:network-arm' }).then((reply) => {
      if (!reply || !reply.ok) {
        show('block', 'tweetguard held this post because its check ran out. Press Post again to check it again.');
        return;
      }
      replaying = true;
      try {
        replay();
      } finally {
        replaying = false;
      }
    });
  }

  window.addEventListener('click', pressedAgain, true);
  window.addEventListener('keydown', pressedAgain, true);

  function describe(element) {
    const attr = (name) => element.getAttribute(name) || undefined;
    return {
      tag: element.tagName.toLowerCase(),
      role: attr('role'),
      testid: attr('data-testid'),
      ariaLabel: attr('aria-label'),
      contenteditable: attr('contenteditable'),
      label: buttonFrom(element) === element ? (element.textContent || '').trim().slice(0, 40) || undefined : undefined,
    };
  }

  function line(kind, d) {
    const parts = [d.tag];
    for (const [key, value] of Object.entries(d)) {
      if (key !== 'tag' && value !== undefined) parts.push(`${key}=${JSON.stringify(value)}`);
    }
    return `${kind}: ${parts.join(' ')}`;
  }

  /** The text box or button the teacher used just now that x-dom.js does not know, or null. */
  function unknownComposer() {
    const now = Date.now();
    const recent = (entry) => entry && entry.element.isConnected && now - entry.at < RECENT_MS;
    const found = [];
    if (recent(lastButton) && !dom.postButtonFrom(lastButton.element)) found.push(['button', lastButton.element]);
    if (recent(lastBox) && !dom.textBoxFrom(lastBox.element)) found.push(['text box', lastBox.element]);
    if (recent(lastButton) && dom.postButtonFrom(lastButton.element)) return null; // a known Post button
    if (found.length === 0) return null;
    return {
      element: found[0][1],
      unknown: describe(found[0][1]),
      detail: found.map(([kind, el]) => line(kind, describe(el))).join('; '),
    };
  }

  function container() {
    if (banner && banner.isConnected) return banner;
    // Bottom right, over X's page but clear of its top bar and composer; the
    // teacher can close it.
    banner = document.createElement('div');
    banner.setAttribute(HOST_ATTR, '');
    banner.style.cssText = 'position:fixed;bottom:12px;right:12px;z-index:2147483647;width:min(440px,92vw);';
    const close = document.createElement('button');
    close.type = 'button';
    close.textContent = '×';
    close.setAttribute('aria-label', 'Close the tweetguard notice');
    close.style.cssText =
      'position:absolute;top:14px;right:8px;z-index:1;border:0;background:transparent;font:18px/1 system-ui,sans-serif;cursor:pointer;';
    close.addEventListener('click', (event) => {
      event.stopPropagation();
      clear();
    });
    banner.append(close);
    (document.body || document.documentElement).append(banner);
    return banner;
  }

  /** The notice's own title line, above the findings panel (the panel's title is its own). */
  function titleLine(text) {
    const box = container();
    let line = box.querySelector('[data-tweetguard-network-title]');
    if (!text) {
      if (line) line.remove();
      return;
    }
    if (!line) {
      line = document.createElement('p');
      line.setAttribute('data-tweetguard-network-title', '');
      line.setAttribute('role', 'alert');
      line.style.cssText =
        'all:initial;display:block;margin:0 0 4px;padding:10px 32px 10px 12px;border-radius:12px;background:#fff4f4;' +
        'border:2px solid #c0182b;color:#0f1419;font:600 14px/1.4 system-ui,sans-serif;';
      box.insertBefore(line, box.firstChild.nextSibling);
    }
    line.textContent = text;
  }

  function clear() {
    const panel = globalThis.TweetGuardPanel;
    if (banner && panel && typeof panel.clear === 'function') panel.clear(banner);
    if (banner) banner.remove();
    banner = null;
  }

  function show(kind, title, results) {
    const panel = globalThis.TweetGuardPanel;
    const box = container();
    box.dataset.phase = kind;
    titleLine(results ? title : null);
    if (panel && typeof panel.error === 'function') {
      if (results && typeof panel.held === 'function') panel.held(box, box, results, 'block', {});
      else if (kind === 'block' || typeof panel.checking !== 'function') panel.error(box, box, title);
      else panel.checking(box, box, title);
      return;
    }
    // No panel module: a plain notice, still fail closed.
    box.textContent = title;
    box.setAttribute('role', 'alert');
  }

  chrome.runtime.onMessage.addListener((message, _sender, sendResponse) => {
    if (!message || message.kind !== 'tweetguard:network-held') return false;
    if (message.phase === 'held') {
      const found = message.quiet ? null : unknownComposer();
      if (!message.quiet) {
        const recent = (entry) => (entry && entry.element.isConnected && Date.now() - entry.at < RECENT_MS ? entry.element : null);
        heldWith = { button: recent(lastButton), box: recent(lastBox) };
        armed = null;
      }
      const account = dom.activeAccount();
      if (!message.quiet) {
        show(
          'checking',
          message.timedOut
            ? 'tweetguard held the rest of this thread because it took too long to go out. It is checking it again…'
            : found
              ? 'tweetguard does not know this kind of post yet, so it is held. It is checking the text…'
              : 'tweetguard held a post it could not check. It is checking the text…',
        );
      }
      sendResponse({ account, unknown: found ? found.unknown : null, detail: found ? found.detail : null });
      return false;
    }
    if (message.phase === 'sent') clear();
    else if (message.phase === 'allowed') {
      armed = { ...(heldWith || { button: null, box: null }), text: message.text, until: Date.now() + 120_000 };
      show('info', message.message);
    }
    else if (message.phase === 'blocked') {
      const results = [{ text: message.text || '', reply: message.reply, media: [], labels: [] }];
      // The title line says why the notice is here; the panel below lists what is
      // wrong and how to fix it.
      show('block', message.message, results);
    } else show('block', message.message);
    sendResponse({ ok: true });
    return false;
  });
})();
