// Findings while the teacher types: every composer X shows (found by a
// MutationObserver, since X never reloads the page) is checked shortly after
// each change, and the panel under it updated.
(() => {
  'use strict';

  const dom = globalThis.TweetGuardDom;
  const panel = globalThis.TweetGuardPanel;
  const checker = globalThis.TweetGuardChecker;
  const editor = globalThis.TweetGuardEditor;
  const DEBOUNCE_MS = 40; // the helper answers in about a millisecond: this is the budget

  const timers = new WeakMap(); // composer -> timeout
  const runs = new WeakMap(); // composer -> latest run number
  const typedAt = new WeakMap(); // composer -> time of the last keystroke
  const known = new WeakMap(); // composer -> media count last checked
  const paused = new WeakSet(); // composers whose panel guard.js owns right now

  function schedule(composer, delay = DEBOUNCE_MS) {
    clearTimeout(timers.get(composer));
    timers.set(composer, setTimeout(() => run(composer), delay));
  }

  async function run(composer) {
    if (!composer.isConnected || paused.has(composer)) return;
    const number = (runs.get(composer) || 0) + 1;
    runs.set(composer, number);
    const check = await checker.checkComposer(composer, { stage: 'typing' });
    if (runs.get(composer) !== number || paused.has(composer)) return; // a newer run is coming
    if (!checker.sameTexts(check.texts, dom.composerTexts(composer))) return;
    const anchor = dom.panelAnchor(composer);
    if (check.failed) {
      panel.error(composer, anchor, check.failed.error ? check.failed.error.message : checker.UNAVAILABLE.error.message);
    } else {
      panel.live(composer, anchor, checker.results(check), check.verdict, (box, finding, quoted) =>
        fix(composer, box, finding, quoted),
      );
    }
    const started = typedAt.get(composer);
    const host = panel.host(composer);
    if (host && started !== undefined) {
      host.dataset.typedToShownMs = (performance.now() - started).toFixed(1);
    }
  }

  function fix(composer, box, finding, quoted) {
    const target = dom.textBoxesIn(composer)[box];
    if (!target || !editor.replaceRange(target, finding.start, finding.end, finding.fix, quoted)) {
      panel.error(composer, dom.panelAnchor(composer), 'The text changed, so tweetguard did not change it. Check it again or edit it by hand.');
    }
    // The editor's input event schedules the next check.
  }

  document.addEventListener(
    'input',
    (event) => {
      const box = dom.textBoxFrom(event.target);
      const composer = box && dom.composerAround(box);
      if (!composer) return;
      paused.delete(composer); // editing again: live findings take the panel back
      typedAt.set(composer, performance.now());
      schedule(composer);
    },
    true,
  );

  // Composers that appear with text (drafts, replies) or gain a photo are checked
  // without waiting for a keystroke. Mutations come in bursts: look once per frame.
  let pending = false;
  function scan() {
    pending = false;
    for (const composer of dom.composers()) {
      const media = dom.attachedMedia(composer).length;
      if (known.get(composer) === media) continue;
      known.set(composer, media);
      if (dom.composerTexts(composer).some((t) => t.trim())) schedule(composer, 0);
    }
  }
  new MutationObserver(() => {
    if (!pending) {
      pending = true;
      requestAnimationFrame(scan);
    }
  }).observe(document, { childList: true, subtree: true });

  globalThis.TweetGuardLive = Object.freeze({
    pause(composer) {
      paused.add(composer);
      clearTimeout(timers.get(composer));
    },
    resume(composer) {
      paused.delete(composer);
    },
    recheck: (composer) => schedule(composer, 0),
    /** The teacher changed the post outside the text (a photo, its description,
     * who is pictured): live findings take the panel back, as after typing. */
    edited(composer) {
      paused.delete(composer);
      schedule(composer, 0);
    },
    fix,
  });
})();
