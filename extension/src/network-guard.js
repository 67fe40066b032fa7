// The network guard: a second layer under the composer guard (content/guard.js),
// independent of X's DOM. Whatever the page does, a post leaves only through X's
// API: GraphQL (POST /i/api/graphql/<queryId>/<Operation>, the content in the JSON
// body) or its older REST calls (1.1/statuses/update, 2/tweets, 1.1/statuses/retweet,
// 2/users/<id>/retweets), so that is where it is held.
//
// 1. Static declarativeNetRequest rules (rules/network-guard.json) block every
//    posting operation on x.com, twitter.com and their subdomains, matched by the
//    operation's name at the end of the path however the path is spelled around it
//    (doubled slashes, extra segments, a trailing slash or `;parameter`, any case).
//    They work with no service worker running.
// 2. When the composer guard has checked a post it asks this module to let
//    exactly that post through, just before it releases the click:
//
//      content script -> service worker (chrome.runtime.sendMessage):
//        {kind: 'tweetguard:approve',
//         action: 'post' | 'reply' | 'quote' | 'edit' | 'repost' | 'schedule' | 'draft',  // default 'post'
//         texts: ['text of post 1', 'text of post 2', ...],   // every box of a thread, in order
//         tweet_id: '123'}                                     // for 'repost': the post reposted (required)
//      reply: {ok: true, mode: 'blocking' | 'rules', expiresInMs}
//          or {ok: false, error: {code: 'network_guard', message}}: hold the post
//             (message: one plain line for the teacher, what is wrong and what to do).
//
//    (`operation: 'CreateTweet'` may be given instead of `action`; `text` instead of
//    `texts` for one post.) This opens a session allow rule for that tab and those
//    operations (rules/ are priority 1, allow rules ALLOW_PRIORITY) until every
//    approved text has gone out once, or approvalTtl(texts): APPROVAL_TTL_MS plus
//    PER_EXTRA_TEXT_MS for each further post of a thread, at most MAX_APPROVAL_MS.
//    Timers die with the service worker, so each allowance (its rules, texts and
//    expiry) is also kept in chrome.storage.session (memory only) and a chrome.alarms
//    alarm (ALARM) is set for the earliest expiry: it wakes the worker, which removes
//    expired allow rules. When the worker starts it reads the stored allowances back,
//    keeps those not yet expired and removes every other allow rule of ours. Texts of
//    a thread whose allowance ran out are held like any unapproved post, with a
//    message saying the rest of the thread took too long to go out.
// 3. Every posting request is observed (webRequest.onBeforeRequest with its body).
//    Where the browser grants blocking webRequest (the extension force-installed by
//    policy), a request whose text is not an approved one, or cannot be read, is
//    cancelled there (mode 'blocking'). Otherwise (mode 'rules') a request that went
//    out through an allow rule with another text is a `network-mismatch` incident:
//    the browser is signed out of X first, then it is recorded with the helper. The
//    observer also watches the rest of X's API: a POST that matches no rule but
//    whose body carries a post's text (tweet_text, status, text) is recorded as
//    `network-unchecked` when it goes out (not held: it may be something else).
// 4. A request that was blocked without an approval becomes a held post: the tab is
//    told (content/network-held.js shows it), an incident is recorded
//    (`unknown-composer` when the teacher had used a text box or button the
//    selectors do not know, else `network-unchecked`), the text is checked with the
//    helper, and if it passes the teacher is asked to press Post again: that press
//    (content script -> worker {kind: 'tweetguard:network-arm'} -> {ok}) opens a
//    one-shot allowance for exactly what was checked (that text, with no photo,
//    poll or quoted post: a body with any of them added does not match), and the
//    press is replayed; network-held.js arms it only while the box still holds the
//    checked text. When such a held post goes out, the after-post sign-out follows
//    (background.js's, as for any post), unless it was a scheduled post or a draft.
//
// Messages to the tab (top frame), answered by content/network-held.js:
//   {kind: 'tweetguard:network-held', phase: 'held', operation, timedOut, quiet}
//       -> {account: {handle, user_id}, unknown: {tag, role, testid, ariaLabel, ...} | null, detail}
//   {kind: 'tweetguard:network-held', phase: 'allowed' | 'blocked' | 'cannot-check' | 'mismatch' | 'sent',
//    unknown: bool, message, text, reply}
//
// Status for the popup and tests: chrome.storage.session `networkGuard`:
//   {mode: 'blocking' | 'rules', since, held, mismatches, recorded, unmatched, allowances,
//    last: {what, at, operation}}

export const RULESET_ID = 'network_guard';
export const ALLOW_PRIORITY = 100;
// A checked post is released within milliseconds, but a long thread goes out one
// request after another (and may wait for a slow photo upload): each extra text
// gets more time, up to MAX_APPROVAL_MS.
export const APPROVAL_TTL_MS = 10_000;
export const PER_EXTRA_TEXT_MS = 5_000;
export const MAX_APPROVAL_MS = 60_000;
export const HELD_TTL_MS = 120_000; // a held post that passed waits this long for Post again
export const ALARM = 'tweetguard-network-guard'; // wakes the worker to remove expired allow rules
const FIRST_RULE_ID = 1000; // session rule ids from here on are ours
const STORE_KEY = 'networkGuardAllowances';
const STATUS_KEY = 'networkGuard';
const ASK_TAB_MS = 500; // a tab that does not answer must not delay a sign-out

/** How long an approval of `count` texts stays open. */
export function approvalTtl(count) {
  return Math.min(APPROVAL_TTL_MS + Math.max(0, count - 1) * PER_EXTRA_TEXT_MS, MAX_APPROVAL_MS);
}

/** Which operations each kind of post may use. An edit may go out as CreateTweet
 * with `edit_options`, a long post as CreateNoteTweet. X's older REST calls
 * (statuses/update, 2/tweets, statuses/retweet, 2/users/<id>/retweets) post too. */
const POST_OPERATIONS = Object.freeze(['CreateTweet', 'CreateNoteTweet', 'EditTweet', 'statuses/update', '2/tweets']);
export const OPERATIONS = Object.freeze({
  post: POST_OPERATIONS,
  reply: POST_OPERATIONS,
  quote: POST_OPERATIONS,
  edit: POST_OPERATIONS,
  repost: Object.freeze(['CreateRetweet', 'statuses/retweet', '2/retweets']),
  schedule: Object.freeze(['CreateScheduledTweet', 'EditScheduledTweet']),
  draft: Object.freeze(['CreateDraftTweet', 'EditDraftTweet']),
  article: Object.freeze(['ArticleEntityPublish']),
});
export const GUARDED = Object.freeze([...new Set(Object.values(OPERATIONS).flat())]);
const ACTION_OF = Object.freeze(
  Object.fromEntries(
    GUARDED.map((op) => [op, Object.keys(OPERATIONS).find((a) => a !== 'reply' && a !== 'quote' && a !== 'edit' && OPERATIONS[a].includes(op))]),
  ),
);

export const REQUEST_DOMAINS = Object.freeze(['x.com', 'twitter.com']);
export const RESOURCE_TYPES = Object.freeze(['xmlhttprequest', 'other', 'ping', 'sub_frame', 'main_frame']);
export const SAFE_METHODS = Object.freeze(['get', 'head', 'options']);
// The posting calls (the blocking listener: every request it sees waits for the worker).
export const URL_PATTERNS = Object.freeze(
  ['x.com', 'twitter.com'].flatMap((host) => ['graphql/', 'statuses/', 'tweets'].map((part) => `*://*.${host}/*${part}*`)),
);
// Everything a post could go out through (the non-blocking body observer): X's API.
export const OBSERVE_PATTERNS = Object.freeze([
  ...URL_PATTERNS,
  '*://*.x.com/*api/*',
  '*://*.twitter.com/*api/*',
  '*://api.x.com/*',
  '*://api.twitter.com/*',
]);

// Any host (left to requestDomains), any slashes, any path before the call.
const PREFIX = '^https?://[^/?#]+/+(?:[^?#]*/)?';
// The path of each REST posting call after that prefix.
const REST_PATHS = Object.freeze({
  'statuses/update': 'statuses/+update(?:_with_media)?(?:\\.json)?',
  'statuses/retweet': 'statuses/+retweet/+[^/?#]+',
  '2/tweets': '2/+tweets',
  '2/retweets': '2/+users/+[^/?#]+/+retweets',
});

/** The regexFilter for one operation: its name at the end of the path, never the
 * query id, however the path is spelled around it (doubled slashes, an extra
 * segment, a trailing slash or `;parameter`). One rule per operation: Chromium's
 * regex memory limit (2 KB compiled) refuses an alternation of all of them. The
 * host is left to requestDomains. */
export function regexFor(operation) {
  if (Object.hasOwn(REST_PATHS, operation)) return `${PREFIX}${REST_PATHS[operation]}/*(?:[;?%].*)?$`;
  return `${PREFIX}graphql/+(?:[^?#]*/)?${operation}(?:[/;?%].*)?$`;
}

/** The static rule set (rules/network-guard.json is exactly this; a unit test checks). */
export function staticRules() {
  return GUARDED.map((operation, i) => ({
    id: i + 1,
    priority: 1,
    action: { type: 'block' },
    condition: {
      regexFilter: regexFor(operation),
      isUrlFilterCaseSensitive: false,
      requestDomains: [...REQUEST_DOMAINS],
      excludedRequestMethods: [...SAFE_METHODS],
      resourceTypes: [...RESOURCE_TYPES],
    },
  }));
}

const HOST = /^([a-z0-9-]+\.)*(x|twitter)\.com\.?$/i;
const MATCHERS = GUARDED.map((op) => [op, new RegExp(regexFor(op), 'i')]);

function parseXUrl(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (!/^https?:$/.test(parsed.protocol) || !HOST.test(parsed.hostname)) return null;
  return parsed;
}

/** The posting operation a URL calls (what the static rules block), or null. */
export function operationOf(url) {
  const parsed = parseXUrl(url);
  if (!parsed) return null;
  const href = `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search}`;
  const found = MATCHERS.find(([, regex]) => regex.test(href));
  return found ? found[0] : null;
}

/** Whether a URL is one of X's API calls (a post no rule knows could go out there):
 * a path with `/api/` on X's hosts, or anything on api.x.com / api.twitter.com.
 * Direct messages are not posts. */
export function isXApi(url) {
  const parsed = parseXUrl(url);
  if (!parsed) return false;
  if (/\/dm\//i.test(parsed.pathname)) return false;
  return /\/api\//i.test(parsed.pathname) || /^api\./i.test(parsed.hostname);
}

/** The operations an approval covers. */
export function operationsFor({ action, operation } = {}) {
  const ops = new Set(OPERATIONS[action] || []);
  for (const op of [].concat(operation || [])) {
    if (GUARDED.includes(op)) for (const same of OPERATIONS[ACTION_OF[op]] || [op]) ops.add(same);
  }
  if (ops.size === 0 && !action && !operation) for (const op of OPERATIONS.post) ops.add(op);
  return [...ops];
}

/** Texts compare after what X itself may change: line endings, NFC, no-break
 * spaces, spaces at either end. */
export function normalize(text) {
  return String(text).normalize('NFC').replace(/\r\n?/g, '\n').replace(/\u00a0/g, ' ').trim();
}

function decode(requestBody) {
  if (!requestBody || requestBody.error) return null;
  if (requestBody.formData) {
    const form = requestBody.formData;
    // X's GraphQL as a form: the variables are JSON. A REST call: the fields are the post.
    if (form.variables) return `{"variables":${form.variables[0]}}`;
    return JSON.stringify(Object.fromEntries(Object.entries(form).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v])));
  }
  if (!Array.isArray(requestBody.raw) || requestBody.raw.length === 0) return null;
  const parts = [];
  let size = 0;
  for (const part of requestBody.raw) {
    if (!part.bytes) return null; // a file part: not read here
    parts.push(new Uint8Array(part.bytes));
    size += part.bytes.byteLength;
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(all);
  } catch {
    return null;
  }
}

const isObject = (v) => Boolean(v) && typeof v === 'object' && !Array.isArray(v);
const countOf = (v) => (Array.isArray(v) ? v.length : typeof v === 'string' ? v.split(',').filter(Boolean).length : 0);

/** What a posting request carries: {readable, text, tweetId, media, card, quote}.
 * `readable` is false when the body could not be read as X's JSON (GraphQL's
 * `variables`, or a REST call's own fields). `card` is a poll or card, `quote` a
 * quoted post: neither can be checked from the body alone. `url` gives a REST
 * repost's id. */
export function readBody(requestBody, url = '') {
  const unread = { readable: false, text: null, tweetId: null, media: 0, card: false, quote: false };
  const raw = decode(requestBody);
  if (raw === null) return unread;
  let body;
  try {
    body = JSON.parse(raw);
  } catch {
    return unread;
  }
  if (!isObject(body)) return unread;
  // GraphQL nests the post in `variables`; REST calls (1.1 form fields, 2/tweets JSON) do not.
  if (typeof body.variables === 'string') {
    try {
      body.variables = JSON.parse(body.variables);
    } catch {
      return unread;
    }
  }
  const variables = isObject(body.variables) ? body.variables : 'variables' in body ? null : body;
  if (!variables) return unread;
  const request = isObject(variables.post_tweet_request) ? variables.post_tweet_request : {};
  const text = [variables.tweet_text, request.status, variables.status, variables.text].find((t) => typeof t === 'string');
  const fromUrl = /\/statuses\/+retweet\/+(\d+)/i.exec(url);
  const tweetId = [variables.tweet_id, variables.source_tweet_id, fromUrl && fromUrl[1]].find(
    (t) => typeof t === 'string' || typeof t === 'number',
  );
  const media = isObject(variables.media) ? variables.media : {};
  const entities = media.media_entities || media.media_ids || request.media_ids || variables.media_ids || [];
  return {
    readable: text !== undefined || tweetId !== undefined,
    text: text === undefined ? null : text,
    tweetId: tweetId === undefined ? null : String(tweetId),
    media: countOf(entities),
    card: Boolean(variables.card_uri || request.card_uri || variables.poll),
    quote: Boolean(variables.attachment_url || request.attachment_url || variables.quote_tweet_id),
  };
}

/** Session rules letting these operations through one tab, ids from `firstId`. */
export function allowRules(firstId, tabId, operations) {
  return operations.map((operation, i) => ({
    id: firstId + i,
    priority: ALLOW_PRIORITY,
    action: { type: 'allow' },
    condition: {
      regexFilter: regexFor(operation),
      isUrlFilterCaseSensitive: false,
      requestDomains: [...REQUEST_DOMAINS],
      excludedRequestMethods: [...SAFE_METHODS],
      resourceTypes: [...RESOURCE_TYPES],
      tabIds: [tabId],
    },
  }));
}

/** Whether a request's body is one of an allowance's items; the index, or -1.
 * An item with `media` (a held post, checked from its body) matches only a body
 * with the same photos, card/poll and quote as the one that was checked: a photo
 * or poll added before Post is pressed again has not been checked. */
export function matchItem(items, body) {
  if (!body.readable) return -1;
  return items.findIndex((item) => {
    if (item.tweetId != null) return body.tweetId === item.tweetId;
    if (body.text === null || normalize(body.text) !== normalize(item.text)) return false;
    if (item.media === undefined) return true;
    return body.media === item.media && Boolean(body.card) === Boolean(item.card) && Boolean(body.quote) === Boolean(item.quote);
  });
}

const MESSAGES = {
  held: 'tweetguard held a post it could not check.',
  unknown: 'tweetguard does not know this kind of post yet, so it is held.',
  timedOut: 'tweetguard held the rest of this thread because it took too long to go out.',
};

// What a teacher reads when an approval cannot be opened: what is wrong, and what to do.
const REFUSALS = {
  tab: 'tweetguard could not tell which tab this post came from, so it is held. Reload the page and post again.',
  kind: 'tweetguard does not know this kind of post, so it is held. Post it from X\'s usual Post box.',
  repost: 'tweetguard could not tell which post is being reposted, so the repost is held. Open the post itself and repost it from there.',
  text: 'tweetguard found no text in this post, so it is held. Type the post again, then press Post.',
  failed: 'tweetguard could not let this post through, so it is held. Press Post again; if it keeps happening, reload the page.',
};

const withTimeout = (promise, ms, fallback) =>
  Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(fallback), ms))]);

export class NetworkGuard {
  /**
   * chrome: the extension API (declarativeNetRequest, webRequest, storage, tabs, alarms).
   * ask(request): a helper request (check, incident) -> reply.
   * logout(): signs the browser out of X after a mismatch.
   * posted({account, action, texts}): a held post went out: recorded in the audit,
   *   then the after-post sign-out (background.js's, as for a post the composer guard let go).
   * now(): ms clock (tests).
   */
  constructor(chrome, { ask, logout, posted = async () => {}, now = () => Date.now(), log = console } = {}) {
    this.chrome = chrome;
    this.ask = ask;
    this.logout = logout;
    this.posted = posted;
    this.now = now;
    this.log = log;
    this.mode = null;
    this.allowances = new Map(); // tabId -> {id, ruleIds, tabId, ops, items, expires, source, account}
    this.armable = new Map(); // tabId -> {ops, items, expires, account}: a held post that passed, until Post is pressed
    this.timedOut = new Map(); // tabId -> {items, at}: approved texts an expired allowance never saw
    this.requests = new Map(); // requestId -> what onBeforeRequest saw
    this.timers = new Map();
    this.nextId = FIRST_RULE_ID;
    this.counts = { held: 0, mismatches: 0, recorded: 0, unmatched: 0 };
    this.last = null;
    this.timings = []; // ms spent answering each approve (bench/network_guard.py)
    this.ready = null;
  }

  /** Registers the listeners, synchronously (an MV3 worker must, to be woken by them),
   * and removes allow rules a previous worker left. */
  start() {
    const wr = this.chrome.webRequest;
    const filter = { urls: [...URL_PATTERNS], types: [...RESOURCE_TYPES] };
    const observed = { urls: [...OBSERVE_PATTERNS], types: [...RESOURCE_TYPES] };
    // Both listeners, now: Chromium grants blocking webRequest only to an extension
    // force-installed by policy, and in Chromium 156 a blocking listener without
    // that grant neither throws nor blocks, so which one counts is asked below.
    // Each request is read once (seen() keeps it by requestId). The non-blocking
    // one also watches the rest of X's API, for a post no rule knows.
    wr.onBeforeRequest.addListener((d) => {
      this.seen(d);
    }, observed, ['requestBody']);
    try {
      wr.onBeforeRequest.addListener((d) => this.onBlockingRequest(d), filter, ['blocking', 'requestBody']);
    } catch {
      this.mode = 'rules'; // older browsers throw at once
    }
    wr.onSendHeaders.addListener((d) => this.onSent(d), observed);
    wr.onErrorOccurred.addListener((d) => this.onError(d), observed);
    // Timers die with the service worker; the alarm wakes it to remove expired allow rules.
    if (this.chrome.alarms && this.chrome.alarms.onAlarm) {
      this.chrome.alarms.onAlarm.addListener((alarm) => {
        if (alarm && alarm.name === ALARM) this.sweep().catch(() => {});
      });
    }
    this.modeKnown = this.mode
      ? Promise.resolve(this.mode)
      : Promise.resolve(this.chrome.permissions.contains({ permissions: ['webRequestBlocking'] }))
          .catch(() => false)
          .then((granted) => {
            this.mode = granted ? 'blocking' : 'rules';
            return this.mode;
          });
    this.modeKnown.then((mode) => this.log.info && this.log.info(`tweetguard network guard: mode ${mode}`));
    this.ready = this.cleanUp();
    globalThis.tweetguardNetworkGuard = this; // for the worker's console and bench/network_guard.py
    return this;
  }

  /** At the worker's start: allowances a previous worker left (chrome.storage.session)
   * stay only until their stored expiry; every other allow rule of ours goes. */
  async cleanUp() {
    await this.modeKnown;
    await this.sweep({ restore: true });
    await this.saveStatus();
  }

  async stored() {
    try {
      const values = await this.chrome.storage.session.get(STORE_KEY);
      return Array.isArray(values && values[STORE_KEY]) ? values[STORE_KEY] : [];
    } catch {
      return [];
    }
  }

  /** Closes expired allowances and removes every allow rule of ours that belongs to
   * no live one; with `restore`, first takes back the unexpired allowances a previous
   * worker stored. Then sets the alarm for the next expiry. Run at start and by the alarm. */
  async sweep({ restore = false } = {}) {
    const now = this.now();
    if (restore) {
      for (const entry of await this.stored()) {
        const usable = entry && typeof entry.tabId === 'number' && Array.isArray(entry.ruleIds) && Array.isArray(entry.items);
        if (!usable || entry.expires <= now || entry.items.length === 0 || this.allowances.has(entry.tabId)) continue;
        this.allowances.set(entry.tabId, { ...entry, items: [...entry.items] });
        this.timers.set(entry.tabId, setTimeout(() => this.expire(entry.tabId, entry.id), entry.expires - now));
      }
    }
    for (const allowance of [...this.allowances.values()]) {
      if (allowance.expires <= now) this.forget(allowance);
    }
    const dnr = this.chrome.declarativeNetRequest;
    try {
      const live = new Set([...this.allowances.values()].flatMap((a) => a.ruleIds));
      const rules = await dnr.getSessionRules();
      const stale = rules.filter((r) => r.id >= FIRST_RULE_ID && !live.has(r.id)).map((r) => r.id);
      if (stale.length) await dnr.updateSessionRules({ removeRuleIds: stale });
      this.nextId = Math.max(this.nextId, FIRST_RULE_ID, ...rules.map((r) => r.id + 1));
    } catch (error) {
      this.log.warn && this.log.warn('tweetguard network guard: could not clear allow rules', error);
    }
    await this.persist();
  }

  async saveStatus() {
    const status = {
      mode: this.mode,
      since: this.since || (this.since = new Date(this.now()).toISOString()),
      held: this.counts.held,
      mismatches: this.counts.mismatches,
      recorded: this.counts.recorded, // incidents the helper has recorded
      unmatched: this.counts.unmatched, // post-like calls no rule covers (recorded, not held)
      allowances: this.allowances.size,
      last: this.last,
    };
    await this.chrome.storage.session.set({ [STATUS_KEY]: status }).catch(() => {});
  }

  /** Stores the allowances (chrome.storage.session: memory only, never on disk) and
   * sets the alarm for the earliest expiry. */
  persist() {
    const list = [...this.allowances.values()].map(({ id, ruleIds, tabId, ops, expires, source, items, account }) => ({
      id, ruleIds, tabId, ops, expires, source, items, account: account || null,
    }));
    const alarms = this.chrome.alarms;
    if (alarms) {
      try {
        if (list.length) alarms.create(ALARM, { when: Math.min(...list.map((a) => a.expires)) });
        else alarms.clear(ALARM);
      } catch {
        // no alarms: the timers and the next start still clean up
      }
    }
    return Promise.resolve(this.chrome.storage.session.set({ [STORE_KEY]: list })).catch(() => {});
  }

  // --- Allowances
  /** The content script's approve message; see the top of this file. */
  async approve(message, sender) {
    const started = typeof performance !== 'undefined' ? performance.now() : 0;
    const tabId = sender && sender.tab ? sender.tab.id : undefined;
    const refuse = (why) => ({ ok: false, error: { code: 'network_guard', message: REFUSALS[why] } });
    if (typeof tabId !== 'number' || tabId < 0) return refuse('tab');
    const ops = operationsFor(message);
    if (ops.length === 0) return refuse('kind');
    const repost = message.action === 'repost' || [].concat(message.operation || []).some((op) => ACTION_OF[op] === 'repost');
    let items;
    if (message.tweet_id != null && message.tweet_id !== '') items = [{ tweetId: String(message.tweet_id) }];
    else if (repost) return refuse('repost');
    else items = (Array.isArray(message.texts) ? message.texts : [message.text]).filter((t) => typeof t === 'string').map((text) => ({ text }));
    if (items.length === 0) return refuse('text');
    const ttl = approvalTtl(items.length);
    try {
      await this.open(tabId, ops, items, ttl, 'guard');
    } catch (error) {
      this.log.warn && this.log.warn('tweetguard network guard: could not open an allowance', error);
      return refuse('failed');
    }
    if (started) this.timings.push(performance.now() - started);
    if (this.timings.length > 500) this.timings.shift();
    return { ok: true, mode: this.mode, expiresInMs: ttl };
  }

  async open(tabId, ops, items, ttl, source, account = null) {
    await this.ready;
    const old = this.allowances.get(tabId);
    const id = this.nextId;
    this.nextId += ops.length;
    const allowance = { id, ruleIds: ops.map((_, i) => id + i), tabId, ops, items: [...items], expires: this.now() + ttl, source, account };
    // The allowance counts before the rule exists: a request the rule lets through
    // must find it (onBeforeRequest may come before updateSessionRules resolves).
    this.allowances.set(tabId, allowance);
    this.timedOut.delete(tabId);
    await this.chrome.declarativeNetRequest.updateSessionRules({
      removeRuleIds: old ? old.ruleIds : [],
      addRules: allowRules(id, tabId, ops),
    });
    clearTimeout(this.timers.get(tabId));
    this.timers.set(tabId, setTimeout(() => this.expire(tabId, id), ttl));
    this.persist();
    return allowance;
  }

  /** Drops an allowance from memory (its rules are removed by the caller or sweep). */
  forget(allowance) {
    if (this.allowances.get(allowance.tabId) !== allowance) return false;
    this.allowances.delete(allowance.tabId);
    clearTimeout(this.timers.get(allowance.tabId));
    this.timers.delete(allowance.tabId);
    if (allowance.items.length && allowance.expires <= this.now()) {
      // Approved texts that never went out in time: if they come now, they are held
      // like any unapproved post, and the teacher is told why.
      this.timedOut.set(allowance.tabId, { items: [...allowance.items], at: this.now() });
    }
    return true;
  }

  close(tabId, id) {
    const current = this.allowances.get(tabId);
    if (!current || (id !== undefined && current.id !== id)) return Promise.resolve();
    this.forget(current);
    this.persist();
    return this.chrome.declarativeNetRequest.updateSessionRules({ removeRuleIds: current.ruleIds }).catch(() => {});
  }

  expire(tabId, id) {
    return this.close(tabId, id);
  }

  /** The live allowance for this tab and operation, expired ones closed. */
  allowanceFor(tabId, op) {
    const allowance = this.allowances.get(tabId);
    if (!allowance) return null;
    if (allowance.expires <= this.now()) {
      this.close(tabId, allowance.id);
      return null;
    }
    return allowance.ops.includes(op) ? allowance : null;
  }

  // --- Requests
  /** onBeforeRequest: reads the body and takes the approved item it carries, if any. */
  seen(details) {
    if (SAFE_METHODS.includes(String(details.method).toLowerCase())) return null;
    const known = this.requests.get(details.requestId);
    if (known) return known; // the other onBeforeRequest listener read it already
    const operation = operationOf(details.url);
    if (!operation) return this.unmatched(details);
    const body = readBody(details.requestBody, details.url);
    const allowance = this.allowanceFor(details.tabId, operation);
    const record = {
      requestId: details.requestId,
      tabId: details.tabId,
      url: details.url,
      operation,
      body,
      approved: false,
      // An allowance was open: a request with another text is a mismatch, not a
      // post no composer asked for.
      againstApproval: Boolean(allowance),
    };
    if (allowance) {
      const index = matchItem(allowance.items, body);
      if (index >= 0) {
        record.approved = true;
        record.source = allowance.source;
        record.account = allowance.account;
        allowance.items.splice(index, 1);
        if (allowance.items.length === 0) this.close(allowance.tabId, allowance.id);
        else this.persist();
      }
    }
    this.keep(record);
    return record;
  }

  keep(record) {
    this.requests.set(record.requestId, record);
    if (this.requests.size > 200) this.requests.delete(this.requests.keys().next().value);
  }

  /** A POST to X's API that no rule covers but whose body carries a post's text:
   * not held (it may be something else), but recorded when it goes out. */
  unmatched(details) {
    if (!isXApi(details.url)) return null;
    const body = readBody(details.requestBody, details.url);
    if (body.text === null) return null;
    const record = { requestId: details.requestId, tabId: details.tabId, url: details.url, operation: null, body, unmatched: true };
    this.keep(record);
    return record;
  }

  /** Blocking mode: an unapproved or unreadable body never leaves. */
  onBlockingRequest(details) {
    const record = this.seen(details);
    if (!record || record.approved || record.unmatched) return {};
    return { cancel: true };
  }

  /** The request went out (onSendHeaders is not sent for a blocked request). */
  onSent(details) {
    const record = this.requests.get(details.requestId);
    if (!record) return;
    this.requests.delete(details.requestId);
    const fail = (e) => this.log.error && this.log.error(e);
    if (record.unmatched) {
      this.counts.unmatched += 1;
      const path = (() => {
        try {
          return new URL(record.url).pathname;
        } catch {
          return record.url;
        }
      })();
      this.incident('network-unchecked', record, {
        detail: `${path}: a call to X's API that carries a post's text but matches no network guard rule went out (${this.mode} mode)`,
      }).catch(fail);
      return;
    }
    if (record.approved) {
      if (record.source === 'held') {
        // A held post the teacher sent again: the notice has done its job, and it is
        // a post like any other, so the after-post sign-out follows (not for a
        // scheduled post or a draft: nothing has been posted yet).
        this.tell(record.tabId, { phase: 'sent' });
        const action = ACTION_OF[record.operation] || 'post';
        if (action !== 'schedule' && action !== 'draft') {
          Promise.resolve()
            .then(() =>
              this.posted({ account: record.account || null, action, texts: [record.body.text !== null ? record.body.text : ''] }),
            )
            .catch(fail);
        }
      }
      return;
    }
    // Through an allow rule with a text that was not approved (or a rule a dead
    // worker left behind): it has gone out. Record it and sign out.
    this.mismatch(record, 'sent').catch(fail);
  }

  onError(details) {
    const record = this.requests.get(details.requestId);
    if (!record) return;
    this.requests.delete(details.requestId);
    if (record.unmatched) return;
    if (!/BLOCKED_BY_CLIENT/.test(details.error || '')) return; // the network's own failure
    if (record.againstApproval && !record.approved) {
      this.mismatch(record, 'cancelled').catch((e) => this.log.error && this.log.error(e));
      return;
    }
    this.held(record).catch((e) => this.log.error && this.log.error(e));
  }

  tell(tabId, message) {
    if (typeof tabId !== 'number' || tabId < 0) return Promise.resolve(null);
    return Promise.resolve()
      .then(() => this.chrome.tabs.sendMessage(tabId, { kind: 'tweetguard:network-held', ...message }, { frameId: 0 }))
      .catch(() => null);
  }

  async incident(what, record, { account, detail } = {}) {
    this.last = { what, at: new Date(this.now()).toISOString(), operation: record.operation };
    this.saveStatus();
    const request = {
      type: 'incident',
      what,
      text: record.body.text !== null ? record.body.text : '',
      detail: detail || `${record.operation} (${this.mode} mode)`,
      url: record.url,
    };
    if (account && (account.handle || account.user_id)) {
      request.account = Object.fromEntries(Object.entries(account).filter(([, v]) => v));
    }
    const reply = await this.ask(request);
    if (reply && reply.ok) {
      this.counts.recorded += 1;
      await this.saveStatus();
    } else if (this.log.warn) this.log.warn('tweetguard network guard: incident not recorded', reply);
    return reply;
  }

  /** A post that differs from the approved one: signed out first (a slow helper must
   * not keep the browser signed in), then recorded. */
  async mismatch(record, how) {
    this.counts.mismatches += 1;
    const allowance = this.allowances.get(record.tabId);
    if (allowance) await this.close(record.tabId, allowance.id);
    // Who was signed in, asked before the sign-out clears it (a tab that does not
    // answer is not waited for).
    const context = (await withTimeout(this.tell(record.tabId, { phase: 'held', operation: record.operation, quiet: true }), ASK_TAB_MS, null)) || {};
    this.tell(record.tabId, {
      phase: 'mismatch',
      sent: how === 'sent',
      message:
        how === 'sent'
          ? 'tweetguard saw a post go out that was changed after it was checked, so it signed this browser out of X and recorded it. Tell your school\'s IT lead.'
          : 'tweetguard stopped a post that was changed after it was checked, signed this browser out of X and recorded it. Tell your school\'s IT lead.',
    });
    try {
      await this.logout();
    } catch (error) {
      this.log.error && this.log.error('tweetguard network guard: sign-out failed', error);
    }
    await this.incident('network-mismatch', record, {
      account: context.account,
      detail: `${record.operation}: the text differs from the approved post; ${how === 'sent' ? 'it went out' : 'it was stopped'} (${this.mode} mode)`,
    });
  }

  /** Whether this held request is the rest of a thread whose approval ran out. */
  remainderOf(record) {
    const left = this.timedOut.get(record.tabId);
    if (!left) return false;
    if (this.now() - left.at > HELD_TTL_MS) {
      this.timedOut.delete(record.tabId);
      return false;
    }
    return matchItem(left.items, record.body) >= 0;
  }

  async held(record) {
    this.counts.held += 1;
    this.armable.delete(record.tabId); // a new held post: an older one waiting for Post again is gone
    const timedOut = this.remainderOf(record);
    const context = (await this.tell(record.tabId, { phase: 'held', operation: record.operation, timedOut })) || {};
    const unknown = Boolean(context.unknown);
    const title = timedOut ? MESSAGES.timedOut : unknown ? MESSAGES.unknown : MESSAGES.held;
    await this.incident(unknown ? 'unknown-composer' : 'network-unchecked', record, {
      account: context.account,
      detail: unknown
        ? context.detail
        : timedOut
          ? `${record.operation}: part of an approved thread that went out after its approval ran out (${this.mode} mode)`
          : `${record.operation}: no composer tweetguard knows asked for it (${this.mode} mode)`,
    });
    const { body } = record;
    const action = ACTION_OF[record.operation] || 'post';
    const cannot = (why) =>
      this.tell(record.tabId, { phase: 'cannot-check', unknown, message: `${title} ${why}` });
    if (action === 'repost') {
      return cannot('Repost it from the post itself, with X\'s Repost button.');
    }
    if (action === 'article') {
      return cannot('tweetguard cannot check an article yet. Post its text as an ordinary post instead.');
    }
    if (!body.readable || body.text === null) {
      return cannot('tweetguard could not read what it would post. Post it from X\'s usual Post box.');
    }
    if (body.media > 0 || body.card || body.quote) {
      return cannot('It has a photo, video, poll or quoted post that tweetguard cannot check here. Post it from X\'s usual Post box.');
    }
    // stage 'network': the helper records this check only when no check of the same
    // text was recorded just before (docs/protocol.md), so a post the composer
    // already checked is not counted twice in the school's audit.
    const request = { type: 'check', text: body.text, action, stage: 'network' };
    if (context.account && (context.account.handle || context.account.user_id)) {
      request.account = Object.fromEntries(Object.entries(context.account).filter(([, v]) => v));
    }
    const reply = await this.ask(request);
    if (!reply || !reply.ok) {
      const message = reply && reply.error ? reply.error.message : 'The tweetguard safety helper did not answer. Ask your school\'s IT lead.';
      return cannot(message);
    }
    if (reply.verdict !== 'allow') {
      return this.tell(record.tabId, { phase: 'blocked', unknown, message: title, text: body.text, reply });
    }
    // Not opened yet: the allow rule would let any text of this tab through until
    // it is used. It opens when the teacher presses Post again (a trusted click or
    // key the content script sees, then replays: `arm` below). It lets through
    // exactly what was checked: this text, with no photo, poll or quoted post.
    this.armable.set(record.tabId, {
      ops: OPERATIONS[action] || [record.operation],
      items: [{ text: body.text, media: body.media, card: body.card, quote: body.quote }],
      expires: this.now() + HELD_TTL_MS,
      account: context.account || null,
    });
    return this.tell(record.tabId, {
      phase: 'allowed',
      unknown,
      text: body.text,
      message: `${title} It has checked the text now and found nothing wrong: press Post again to send it.`,
    });
  }

  /** {kind: 'tweetguard:network-arm'} from the tab whose held post passed its check,
   * when the teacher presses Post again: the one-shot allowance for exactly that text
   * opens now. -> {ok: true} or {ok: false}. */
  async arm(_message, sender) {
    const tabId = sender && sender.tab ? sender.tab.id : undefined;
    const waiting = this.armable.get(tabId);
    this.armable.delete(tabId);
    if (!waiting || waiting.expires <= this.now()) return { ok: false };
    await this.open(tabId, waiting.ops, waiting.items, APPROVAL_TTL_MS, 'held', waiting.account);
    return { ok: true };
  }
}
