// Asking the helper (through the service worker) about a composer's posts.
// Anything but a clean answer becomes an error reply: callers hold the post.
(() => {
  'use strict';

  const dom = globalThis.TweetGuardDom;
  const TIMEOUT_MS = 8000; // the service worker gives up on the helper at 5 s
  const UNAVAILABLE = Object.freeze({
    ok: false,
    error: {
      code: 'helper_unavailable',
      message:
        "The tweetguard safety helper is not running, so this post is held. " +
        "Ask your school's IT lead to install or restart tweetguard.",
    },
  });

  /** One message to the service worker; resolves to its answer or UNAVAILABLE. */
  function send(message, timeoutMs = TIMEOUT_MS) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(UNAVAILABLE), timeoutMs);
      try {
        chrome.runtime.sendMessage(message, (reply) => {
          clearTimeout(timer);
          // lastError: the extension was reloaded or its worker could not start.
          resolve(chrome.runtime.lastError || reply === undefined ? UNAVAILABLE : reply);
        });
      } catch {
        clearTimeout(timer);
        resolve(UNAVAILABLE);
      }
    });
  }

  // background.js answers 'tweetguard:approve' (the network guard): every approved
  // post is announced to it before the click goes through.
  const APPROVE_VIA_WORKER = true;

  const MEDIA_ASK_TIMEOUT_MS = 90_000; // the worker may send a forgotten photo again first

  function ask(request) {
    const slow = Array.isArray(request.media) && request.media.length > 0;
    return send({ kind: 'tweetguard:ask', request }, slow ? MEDIA_ASK_TIMEOUT_MS : TIMEOUT_MS);
  }

  const attachments = () => globalThis.TweetGuardAttachments;

  // What kind of post a composer makes, when the Post button alone does not say:
  // guard.js notes a schedule set in X's schedule dialog, or a post being edited.
  const kinds = new WeakMap(); // composer -> 'schedule' | 'draft' | 'edit'

  function setAction(composer, action) {
    if (!composer) return;
    if (action) kinds.set(composer, action);
    else kinds.delete(composer);
  }

  /** The protocol's `action` for this composer's posts. */
  function actionOf(composer) {
    const kind = kinds.get(composer);
    if (kind) return kind;
    return dom.quotedSource(composer) ? 'quote' : 'post';
  }

  /** The fields besides text and media that go with each box's check: action,
   * the quoted post (first box only) and the box's poll choices. */
  function extrasFor(composer, count, action = actionOf(composer)) {
    const source = dom.quotedSource(composer);
    const polls = dom.pollsByPost(composer);
    return Array.from({ length: count }, (_, i) => {
      const extra = { action };
      if (i === 0 && source) extra.source = source;
      if (polls[i] && polls[i].length) extra.poll = polls[i].slice(0, 4).map((c) => c.slice(0, 100));
      return extra;
    });
  }

  /** Checks every box of the composer with its own photos and videos;
   * {texts, replies, account, media, verdict}. A photo still being checked holds
   * the check until it is done (`onWait` is told, so the panel can say so). */
  async function checkComposer(composer, { onWait, action, stage } = {}) {
    const before = snapshot(composer); // what is being checked, taken before any wait
    const texts = dom.composerTexts(composer);
    const account = dom.activeAccount();
    const gathered = await attachments().mediaFor(composer, { onWait });
    if (gathered.failed) {
      return { texts, replies: [], account, media: [], extras: [], labels: [], snapshot: before, failed: gathered.failed, verdict: null };
    }
    const media = texts.map((_, i) => gathered.perPost[i] || []);
    const extras = extrasFor(composer, texts.length, action);
    // stage 'typing' (live.js): not recorded; the helper takes any other check as the
    // one at the moment of posting, whose verdict goes to the school's audit.
    const staged = stage ? { stage } : {};
    const askOne = (i) => ask({ type: 'check', text: texts[i], account, media: media[i], ...extras[i], ...staged });
    let replies = await Promise.all(texts.map((_, i) => askOne(i)));
    // A helper that restarted with the service worker has forgotten the photos: once
    // more, only for the posts it could not check (the others are answered and
    // recorded already; asking again would put a second check of them in the audit).
    if (await attachments().resendUnknown(gathered, replies)) {
      replies = await Promise.all(replies.map((r, i) => (r && r.ok ? r : askOne(i))));
    }
    attachments().noteResults(composer, gathered, replies);
    const failed = replies.find((r) => !r || !r.ok);
    return {
      texts, replies, account, media, extras,
      labels: gathered.labels,
      snapshot: before,
      failed: failed || null,
      verdict: failed ? null : worst(replies),
    };
  }

  /** What a check covered: the texts, the photos (with their descriptions and who
   * is pictured) and the account. A post goes out only if this is still exactly
   * what the composer holds. */
  function snapshot(composer) {
    return JSON.stringify([
      dom.composerTexts(composer),
      dom.pollsByPost(composer),
      dom.quotedSource(composer),
      actionOf(composer),
      dom.attachedMedia(composer),
      attachments().signature(composer),
      dom.activeAccount(),
    ]);
  }

  function unchanged(composer, check) {
    return composer.isConnected && snapshot(composer) === check.snapshot;
  }

  /** Asks the service worker's network guard to let exactly this post through
   * (background.js -> network-guard.js: {kind: 'tweetguard:approve', action,
   * texts, tweet_id}), just before the click goes through. `action` is the
   * protocol's (post, quote, schedule, draft, edit, repost); `tweet_id` names the
   * post reposted. Resolves to {ok: true} or an error reply: the post is held. */
  async function approve({ action = 'post', texts = [], tweetId } = {}) {
    if (!APPROVE_VIA_WORKER) return { ok: true };
    const message = { kind: 'tweetguard:approve', action, texts, text: texts[0] || '' };
    if (tweetId) message.tweet_id = tweetId;
    const reply = await send(message);
    return reply && reply.ok === true ? reply : reply && reply.error ? reply : UNAVAILABLE;
  }

  function worst(replies) {
    const verdicts = replies.map((r) => r.verdict);
    if (verdicts.includes('block')) return 'block';
    if (verdicts.includes('warn')) return 'warn';
    return 'allow';
  }

  function sameTexts(a, b) {
    return a.length === b.length && a.every((text, i) => text === b[i]);
  }

  function results(check) {
    return check.texts.map((text, i) => ({
      text,
      reply: check.replies[i],
      media: (check.media && check.media[i]) || [],
      labels: (check.labels && check.labels[i]) || [],
      extra: (check.extras && check.extras[i]) || {},
    }));
  }

  globalThis.TweetGuardChecker = Object.freeze({
    send, ask, checkComposer, sameTexts, unchanged, results, setAction, actionOf, approve, UNAVAILABLE,
  });
})();
