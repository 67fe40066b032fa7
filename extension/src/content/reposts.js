// Holds a repost until the helper has checked the post being reposted: X's
// Repost menu (retweet -> retweetConfirm) and the /intent/retweet prompt. A
// parent's post naming a pupil is as public once the school reposts it, and the
// policy may allow reposts only from listed accounts. Quotes are composers
// (guard.js and checker.js send their source).
//
// Like guard.js, the listener sits on window in the capture phase at
// document_start, so it runs before X's handlers; the repost goes out only by
// our own re-dispatch after an `allow`.
(() => {
  'use strict';

  const dom = globalThis.TweetGuardDom;
  const panel = globalThis.TweetGuardPanel;
  const checker = globalThis.TweetGuardChecker;
  const CONFIRM_WINDOW_MS = 20000;
  const UNREADABLE =
    'tweetguard cannot read the post being reposted, so the repost is held. Open the post itself and repost it from there.';
  const CHANGED = 'The post changed while tweetguard was checking it. Press Repost again.';
  const UNSURE =
    'tweetguard cannot tell which post this Repost menu is for, so the repost is held. Close the menu and press Repost under the post again.';

  let releasing = false;
  const inFlight = new WeakSet(); // anchors with a check running

  function stop(event) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }

  function onClick(event) {
    if (releasing) return;
    const confirm = dom.repostConfirmFrom(event.target);
    if (confirm) {
      stop(event);
      // The post is the one whose Repost button the menu is anchored to, not the
      // one clicked last: X's `t` key opens the menu for the focused post.
      const article = dom.repostMenuArticle(confirm);
      if (!article) {
        const anchor = anchorOf(confirm);
        if (!inFlight.has(anchor)) panel.error(anchor, anchor, UNSURE);
        return;
      }
      hold(article, confirm);
      return;
    }
    const id = dom.intentRepostId();
    const sheet = id && dom.sheetConfirmFrom(event.target);
    if (sheet) {
      stop(event);
      hold(dom.articleByStatus(id), sheet);
    }
  }

  // The panel sits in the menu or prompt, beside the button the teacher pressed.
  function anchorOf(button) {
    return button.closest('[role="menu"], [role="alertdialog"], [role="dialog"], [data-testid="sheetDialog"]') || button.parentElement;
  }

  async function hold(article, button) {
    const anchor = anchorOf(button);
    if (inFlight.has(anchor)) return; // a second click while checking is swallowed
    const source = article && dom.postSource(article);
    if (!source || !(source.text || source.url)) {
      panel.error(anchor, anchor, UNREADABLE);
      return;
    }
    inFlight.add(anchor);
    panel.checking(anchor, anchor, 'tweetguard is checking this repost…');
    try {
      const request = { type: 'check', action: 'repost', text: '', source, account: dom.activeAccount() };
      const [reply, settings] = await Promise.all([checker.ask(request), checker.send({ kind: 'tweetguard:settings' })]);
      if (!button.isConnected) return; // the menu was closed: nothing to let through
      if (JSON.stringify(dom.postSource(article)) !== JSON.stringify(source)) {
        panel.error(anchor, anchor, CHANGED);
        return;
      }
      if (!reply || !reply.ok) {
        panel.error(anchor, anchor, (reply && reply.error && reply.error.message) || checker.UNAVAILABLE.error.message);
        return;
      }
      if (!settings || settings.ok === false) {
        panel.error(anchor, anchor, checker.UNAVAILABLE.error.message);
        return;
      }
      if (reply.verdict !== 'allow') {
        // No way past a held repost: the teacher can quote it instead, in their own words.
        panel.held(anchor, anchor, [{ text: '', reply, extra: { action: 'repost', source } }], reply.verdict, {});
        return;
      }
      const account = reply.account || {};
      const key = account.handle || (request.account && request.account.user_id) || '';
      if (settings.confirm_account) {
        const { confirmed } = await checker.send({ kind: 'tweetguard:isConfirmed', handle: key });
        if (!confirmed) {
          panel.confirmAccount(anchor, anchor, {
            who: account.handle ? `@${account.handle}` : `the account with id ${key || 'unknown'}`,
            visibility: account.visibility || 'public',
            onConfirm: async () => {
              await checker.send({ kind: 'tweetguard:confirmed', handle: key });
              release(article, button, anchor, source, request.account);
            },
          });
          return;
        }
      }
      await release(article, button, anchor, source, request.account);
    } finally {
      inFlight.delete(anchor);
    }
  }

  async function release(article, button, anchor, source, account) {
    const sameMenu = !dom.repostConfirmFrom(button) || dom.repostMenuArticle(button) === article;
    if (!button.isConnected || !sameMenu || JSON.stringify(dom.postSource(article)) !== JSON.stringify(source)) {
      panel.error(anchor, anchor, CHANGED);
      return;
    }
    const id = /\/status\/(\d+)/.exec(source.url || '');
    const approved = await checker.approve({ action: 'repost', texts: [], tweetId: id ? id[1] : undefined });
    if (!approved.ok) {
      panel.error(anchor, anchor, approved.error ? approved.error.message : checker.UNAVAILABLE.error.message);
      return;
    }
    panel.clear(anchor);
    const earlier = new Set(dom.toasts());
    releasing = true;
    try {
      button.click();
    } finally {
      releasing = false;
    }
    watchForConfirmation(article, earlier, account, source);
  }

  // X shows the post as reposted (Undo repost) or a toast: a repost is a post,
  // so the browser is then signed out (when the policy says so).
  function watchForConfirmation(article, earlier, account, source) {
    let done = false;
    const confirmed = () => dom.isReposted(article) || dom.toasts().some((t) => !earlier.has(t));
    const finish = () => {
      if (done) return;
      done = true;
      observer.disconnect();
      clearTimeout(timer);
      // The audit's post row: a repost carries the reposted post's text.
      checker.send({ kind: 'tweetguard:posted', account, action: 'repost', texts: [(source && source.text) || ''] });
    };
    const observer = new MutationObserver(() => {
      if (confirmed()) finish();
    });
    observer.observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-testid'] });
    const timer = setTimeout(() => observer.disconnect(), CONFIRM_WINDOW_MS);
    if (confirmed()) finish();
  }

  window.addEventListener('click', onClick, true);
})();
