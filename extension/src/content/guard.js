// Holds every post until the helper has checked it.
//
// Listeners sit on window in the capture phase, registered at document_start,
// so they run before any of X's handlers. A post goes out only by our own
// re-dispatch after an `allow`, a confirmed account, or a recorded override.
// After it goes out, X's confirmation (a new toast, or the composer closing
// with the post in the timeline) starts the logout, unless it was scheduled or
// saved as a draft: those are checked exactly like a post (they go out later,
// with no one at the machine) but are not posts.
(() => {
  'use strict';

  const dom = globalThis.TweetGuardDom;
  const panel = globalThis.TweetGuardPanel;
  const checker = globalThis.TweetGuardChecker;
  const live = globalThis.TweetGuardLive;
  const CONFIRM_WINDOW_MS = 20000; // how long we watch for X to confirm a post
  const SETTLE_MS = 3000; // a click this soon after a release, on the same text, is the same post
  const CHANGED = 'The post changed since it was checked. Press Post again.';
  const SCHEDULE_UNSURE =
    'tweetguard cannot tell which post this schedule is for, so it will check it as a post when you press Schedule, and X may hold it once more before it is scheduled.';

  const inFlight = new WeakSet(); // composers with a check running
  const released = new WeakMap(); // composer -> {at, texts} of the post last let through
  let releasing = false; // true only while we re-dispatch an approved post

  function stop(event) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }

  const NOT_POSTS = new Set(['schedule', 'draft']);

  let scheduling = null; // the composer whose schedule button opened the schedule dialog

  function onClick(event) {
    if (releasing) return;
    const button = dom.postButtonFrom(event.target);
    if (button) {
      stop(event);
      guard(dom.composerAround(button), () => button.click());
      return;
    }
    noteControl(event);
  }

  // Clicks that change what kind of post a composer makes (they are not held),
  // and X's "Save post?" sheet, which saves a draft: held and checked like a post.
  function noteControl(event) {
    const kind = dom.controlKind(event.target);
    if (!kind) return;
    if (kind === 'schedule-open') {
      scheduling = dom.composerFrom(event.target); // null: a schedule button in no composer we know
    } else if (kind === 'schedule-set' || kind === 'schedule-clear') {
      // The composer the schedule dialog belongs to: its own, or the one whose
      // button opened it. Never a guess: another composer marked as a schedule
      // would have its post let through as one (and held at the network).
      const composer = dom.composerFrom(event.target) || (scheduling && scheduling.isConnected ? scheduling : null);
      scheduling = null;
      if (!composer) {
        if (kind === 'schedule-set') {
          // Unmarked, the post is checked as a post and X's schedule call is held
          // at the network until it is checked: safe, but say so.
          for (const c of dom.composers()) panel.error(c, dom.panelAnchor(c), SCHEDULE_UNSURE);
        }
        return;
      }
      checker.setAction(composer, kind === 'schedule-set' ? 'schedule' : null);
      live.edited(composer);
    } else if (kind === 'edit-open') {
      markNextComposer('edit');
    } else if (kind === 'sheet-confirm' && !dom.intentRepostId()) {
      // A composer with text still open behind the sheet: this saves it as a draft.
      // The sheet is X's answer to closing the post window: that window's composer,
      // never a guess between two (X's draft call is then held at the network).
      const withText = dom.composers().filter((c) => dom.composerTexts(c).some((t) => t.trim()));
      const windows = withText.filter((c) => c.matches('[role="dialog"], [aria-modal="true"]'));
      const composer = windows.length === 1 ? windows[0] : withText.length === 1 ? withText[0] : null;
      if (!composer) return;
      const sheet = dom.sheetConfirmFrom(event.target);
      stop(event);
      guard(composer, () => sheet.click(), { action: 'draft' });
    }
  }

  // X opens the composer for an edit after the menu item is clicked: the first
  // composer that appears within a few seconds is that edit.
  function markNextComposer(action) {
    const before = new Set(dom.composers());
    const observer = new MutationObserver(() => {
      const fresh = dom.composers().find((c) => !before.has(c));
      if (!fresh) return;
      checker.setAction(fresh, action);
      observer.disconnect();
    });
    observer.observe(document, { childList: true, subtree: true });
    setTimeout(() => observer.disconnect(), 5000);
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

  async function guard(composer, post, { action } = {}) {
    if (!composer) return; // not a composer we understand: nothing was posted
    if (inFlight.has(composer)) return; // a second click while checking is swallowed
    const last = released.get(composer);
    if (last && Date.now() - last.at < SETTLE_MS && checker.sameTexts(last.texts, dom.composerTexts(composer))) {
      return; // ...or a second click on a post already let through
    }
    inFlight.add(composer);
    live.pause(composer);
    const anchor = dom.panelAnchor(composer);
    try {
      if (dom.composerTexts(composer).length === 0) {
        panel.error(composer, anchor, 'tweetguard cannot read this post, so it is held. Reload the page; if it keeps happening, tell IT.');
        return;
      }
      panel.checking(composer, anchor);
      const onWait = () => panel.checking(composer, anchor, 'tweetguard is still checking a photo or video: the post waits here until that check is done.');
      const [check, settings] = await Promise.all([
        checker.checkComposer(composer, { onWait, action }),
        checker.send({ kind: 'tweetguard:settings' }),
      ]);
      if (!checker.unchanged(composer, check)) {
        panel.error(composer, anchor, 'The post changed while tweetguard was checking it. Press Post again.');
        return;
      }
      if (check.failed) {
        panel.error(composer, anchor, check.failed.error ? check.failed.error.message : checker.UNAVAILABLE.error.message);
        return;
      }
      if (check.verdict === 'allow') {
        await confirmThenPost(composer, anchor, check, settings, post);
        return;
      }
      const onFix = (box, finding, quoted) => live.fix(composer, box, finding, quoted);
      const overridable = canOverride(check, settings);
      panel.held(composer, anchor, checker.results(check), check.verdict, {
        onFix,
        override: overridable ? (reason) => override(composer, anchor, check, settings, reason, post) : null,
      });
    } finally {
      inFlight.delete(composer);
    }
  }

  function canOverride(check, settings) {
    if (!settings || settings.ok === false) return false; // settings unknown: no way past
    const findings = check.replies.flatMap((r) => r.findings);
    if (findings.some((f) => f.rule.startsWith('accounts.'))) return false;
    if (check.verdict === 'block') return Boolean(settings.allow_block_override);
    return Boolean(settings.allow_warn_override);
  }

  async function override(composer, anchor, check, settings, reason, post) {
    if (!checker.unchanged(composer, check)) {
      panel.error(composer, anchor, CHANGED);
      return;
    }
    for (let i = 0; i < check.texts.length; i++) {
      const rules = check.replies[i].findings.filter((f) => f.severity !== 'info').map((f) => f.rule);
      if (rules.length === 0) continue;
      const reply = await checker.ask({
        type: 'override', text: check.texts[i], rules, reason, account: check.account, media: check.media[i] || [],
        ...((check.extras && check.extras[i]) || {}),
      });
      if (!reply.ok) {
        panel.error(composer, anchor, reply.error.message);
        return;
      }
    }
    await confirmThenPost(composer, anchor, check, settings, post);
  }

  async function confirmThenPost(composer, anchor, check, settings, post) {
    if (!settings || settings.ok === false) {
      // Without the settings we cannot know whether the school wants a confirmation.
      panel.error(composer, anchor, checker.UNAVAILABLE.error.message);
      return;
    }
    const account = (check.replies[0] && check.replies[0].account) || {};
    const key = account.handle || (check.account && check.account.user_id) || '';
    if (settings.confirm_account) {
      const { confirmed } = await checker.send({ kind: 'tweetguard:isConfirmed', handle: key });
      if (!confirmed) {
        panel.confirmAccount(composer, anchor, {
          who: account.handle ? `@${account.handle}` : `the account with id ${key || 'unknown'}`,
          visibility: account.visibility || 'public',
          onConfirm: async () => {
            await checker.send({ kind: 'tweetguard:confirmed', handle: key });
            release(composer, anchor, check, post);
          },
        });
        return;
      }
    }
    await release(composer, anchor, check, post);
  }

  // The last gate: the composer must still hold exactly what was checked (text,
  // photos, account), whatever happened while a panel waited for the teacher.
  async function release(composer, anchor, check, post) {
    if (!checker.unchanged(composer, check)) {
      panel.error(composer, anchor, CHANGED);
      return;
    }
    const action = (check.extras && check.extras[0] && check.extras[0].action) || 'post';
    // The network guard lets exactly these texts through X's call for this action.
    const approved = await checker.approve({ action, texts: check.texts });
    if (!approved.ok) {
      panel.error(composer, anchor, approved.error ? approved.error.message : checker.UNAVAILABLE.error.message);
      return;
    }
    if (!checker.unchanged(composer, check)) {
      panel.error(composer, anchor, CHANGED);
      return;
    }
    panel.clear(composer);
    released.set(composer, { at: Date.now(), texts: check.texts });
    releasing = true;
    try {
      post();
    } finally {
      releasing = false;
    }
    watchForConfirmation(composer, check, action);
  }

  // X confirms a post with a toast, or by closing the composer with the post in
  // the timeline. Only then is the browser signed out: not on the click alone,
  // which X may still refuse, nor on a box that merely emptied (X empties it for
  // a draft, a failed send, a direct message).
  function watchForConfirmation(composer, check, action) {
    const first = check.texts[0] || '';
    const earlier = new Set(dom.toasts()); // a toast still showing from before is not this post's
    let done = false;
    const confirmed = () =>
      dom.toasts().some((t) => !earlier.has(t)) ||
      ((!composer.isConnected || dom.composerTexts(composer).every((t) => !t.trim())) && dom.timelineHas(first));
    const finish = () => {
      if (done) return;
      done = true;
      observer.disconnect();
      clearTimeout(timer);
      live.resume(composer);
      if (NOT_POSTS.has(action)) {
        checker.setAction(composer, null); // the composer X leaves behind starts a new post
        return;
      }
      // Every thread post's text, for the audit's post row (before any sign-out).
      checker.send({ kind: 'tweetguard:posted', account: check.account, action: action || 'post', texts: check.texts });
    };
    const observer = new MutationObserver(() => {
      if (confirmed()) finish();
    });
    observer.observe(document, { childList: true, subtree: true, characterData: true });
    const timer = setTimeout(() => {
      // No confirmation from X: the browser stays signed in.
      observer.disconnect();
      live.resume(composer);
    }, CONFIRM_WINDOW_MS);
    if (confirmed()) finish();
  }

  window.addEventListener('click', onClick, true);
  window.addEventListener('keydown', onKeyDown, true);
})();
