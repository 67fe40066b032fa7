// The network guard: a second layer under the composer guard (content/guard.js),
// independent of X's DOM. Whatever the page does, a post leaves only through X's
// GraphQL API (POST /i/api/graphql/<queryId>/<Operation>, the content in the JSON
// body), so that is where it is held.
//
// 1. A static declarativeNetRequest rule (rules/network-guard.json) blocks every
//    posting operation on x.com, twitter.com and their subdomains. It works with
//    no service worker running.
// 2. When the composer guard has checked a post it asks this module to let
//    exactly that post through, just before it releases the click:
//
//      content script -> service worker (chrome.runtime.sendMessage):
//        {kind: 'tweetguard:approve',
//         action: 'post' | 'reply' | 'quote' | 'edit' | 'repost' | 'schedule' | 'draft',  // default 'post'
//         texts: ['text of post 1', 'text of post 2', ...],   // every box of a thread, in order
//         tweet_id: '123'}                                     // for 'repost': the post reposted
//      reply: {ok: true, mode: 'blocking' | 'rules', expiresInMs}
//          or {ok: false, error: {code: 'network_guard', message}}: hold the post.
//
//    (`operation: 'CreateTweet'` may be given instead of `action`; `text` instead of
//    `texts` for one post.) This opens a session allow rule for that tab and those
//    operations (rules/ are priority 1, allow rules ALLOW_PRIORITY) until every
//    approved text has gone out once, or APPROVAL_TTL_MS. The expiry is kept in
//    chrome.storage.session: timers die with the service worker, so on start every
//    leftover allow rule is removed.
// 3. Every posting request is observed (webRequest.onBeforeRequest with its body).
//    Where the browser grants blocking webRequest (the extension force-installed by
//    policy), a request whose text is not an approved one, or cannot be read, is
//    cancelled there (mode 'blocking'). Otherwise (mode 'rules') a request that went
//    out through an allow rule with another text is a `network-mismatch` incident:
//    recorded with the helper, and the browser is signed out of X.
// 4. A request that was blocked without an approval becomes a held post: the tab is
//    told (content/network-held.js shows it), an incident is recorded
//    (`unknown-composer` when the teacher had used a text box or button the
//    selectors do not know, else `network-unchecked`), the text is checked with the
//    helper, and if it passes the teacher is asked to press Post again: that press
//    (content script -> worker {kind: 'tweetguard:network-arm'} -> {ok}) opens a
//    one-shot allowance for exactly that text, and the press is replayed.
//
// Messages to the tab (top frame), answered by content/network-held.js:
//   {kind: 'tweetguard:network-held', phase: 'held', operation}
//       -> {account: {handle, user_id}, unknown: {tag, role, testid, ariaLabel, ...} | null, detail}
//   {kind: 'tweetguard:network-held', phase: 'allowed' | 'blocked' | 'cannot-check' | 'mismatch',
//    unknown: bool, message, text, reply}
//
// Status for the popup and tests: chrome.storage.session `networkGuard`:
//   {mode: 'blocking' | 'rules', since, held, mismatches, recorded, allowances, last: {what, at, operation}}

export const RULESET_ID = 'network_guard';
export const ALLOW_PRIORITY = 100;
export const APPROVAL_TTL_MS = 10_000; // a checked post is released within milliseconds
export const HELD_TTL_MS = 120_000; // a held post that passed waits this long for Post again
const FIRST_RULE_ID = 1000; // session rule ids from here on are ours
const STORE_KEY = 'networkGuardAllowances';
const STATUS_KEY = 'networkGuard';

/** Which operations each kind of post may use. An edit may go out as CreateTweet
 * with `edit_options`, a long post as CreateNoteTweet. */
const POST_OPERATIONS = Object.freeze(['CreateTweet', 'CreateNoteTweet', 'EditTweet']);
export const OPERATIONS = Object.freeze({
  post: POST_OPERATIONS,
  reply: POST_OPERATIONS,
  quote: POST_OPERATIONS,
  edit: POST_OPERATIONS,
  repost: Object.freeze(['CreateRetweet']),
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
export const URL_PATTERNS = Object.freeze([
  '*://x.com/*graphql/*',
  '*://*.x.com/*graphql/*',
  '*://twitter.com/*graphql/*',
  '*://*.twitter.com/*graphql/*',
]);

/** The regexFilter for one operation: its name at the end of the path, never the
 * query id. One rule per operation: Chromium's regex memory limit (2 KB compiled)
 * refuses an alternation of all of them. The host is left to requestDomains. */
export function regexFor(operation) {
  return `^https?://[^/?#]+/(i/api/)?graphql/[^/?#]+/${operation}([?#].*)?$`;
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

const HOST = /^([a-z0-9-]+\.)*(x|twitter)\.com$/i;
const PATH = /^\/(?:i\/api\/)?graphql\/[^/?#]+\/([A-Za-z]+)$/;

/** The posting operation a URL calls, or null. */
export function operationOf(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (!/^https?:$/.test(parsed.protocol) || !HOST.test(parsed.hostname)) return null;
  const match = PATH.exec(parsed.pathname);
  if (!match) return null;
  const name = GUARDED.find((op) => op.toLowerCase() === match[1].toLowerCase());
  return name || null;
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
    const variables = requestBody.formData.variables;
    return variables ? `{"variables":${variables[0]}}` : null;
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

/** What a posting request carries: {readable, text, tweetId, media}. `readable` is
 * false when the body could not be read as X's JSON. */
export function readBody(requestBody) {
  const unread = { readable: false, text: null, tweetId: null, media: 0 };
  const raw = decode(requestBody);
  if (raw === null) return unread;
  let body;
  try {
    body = JSON.parse(raw);
  } catch {
    return unread;
  }
  const variables = body && typeof body === 'object' ? body.variables : null;
  if (!variables || typeof variables !== 'object') return unread;
  const request = variables.post_tweet_request && typeof variables.post_tweet_request === 'object' ? variables.post_tweet_request : {};
  const text = [variables.tweet_text, request.status, variables.status].find((t) => typeof t === 'string');
  const tweetId = [variables.tweet_id, variables.source_tweet_id].find((t) => typeof t === 'string' || typeof t === 'number');
  const entities = (variables.media && variables.media.media_entities) || request.media_ids || [];
  return {
    readable: text !== undefined || tweetId !== undefined,
    text: text === undefined ? null : text,
    tweetId: tweetId === undefined ? null : String(tweetId),
    media: Array.isArray(entities) ? entities.length : 0,
    card: Boolean(variables.card_uri || request.card_uri),
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

/** Whether a request's body is one of an allowance's items; the index, or -1. */
export function matchItem(items, body) {
  if (!body.readable) return -1;
  return items.findIndex((item) =>
    item.tweetId != null ? body.tweetId === item.tweetId : body.text !== null && normalize(body.text) === normalize(item.text),
  );
}

const MESSAGES = {
  held: 'tweetguard held a post it could not check.',
  unknown: 'tweetguard does not know this kind of post yet, so it is held.',
};

export class NetworkGuard {
  /**
   * chrome: the extension API (declarativeNetRequest, webRequest, storage, tabs).
   * ask(request): a helper request (check, incident) -> reply.
   * logout(): signs the browser out of X after a mismatch.
   * now(): ms clock (tests).
   */
  constructor(chrome, { ask, logout, now = () => Date.now(), log = console } = {}) {
    this.chrome = chrome;
    this.ask = ask;
    this.logout = logout;
    this.now = now;
    this.log = log;
    this.mode = null;
    this.allowances = new Map(); // tabId -> {id, ruleIds, tabId, ops, items, expires, source}
    this.armable = new Map(); // tabId -> {ops, items, expires}: a held post that passed, until Post is pressed
    this.requests = new Map(); // requestId -> what onBeforeRequest saw
    this.timers = new Map();
    this.nextId = FIRST_RULE_ID;
    this.counts = { held: 0, mismatches: 0, recorded: 0 };
    this.last = null;
    this.timings = []; // ms spent answering each approve (bench/network_guard.py)
    this.ready = null;
  }

  /** Registers the listeners, synchronously (an MV3 worker must, to be woken by them),
   * and removes allow rules a previous worker left. */
  start() {
    const wr = this.chrome.webRequest;
    const filter = { urls: [...URL_PATTERNS], types: [...RESOURCE_TYPES] };
    // Both listeners, now: Chromium grants blocking webRequest only to an extension
    // force-installed by policy, and in Chromium 156 a blocking listener without
    // that grant neither throws nor blocks, so which one counts is asked below.
    // Each request is read once (seen() keeps it by requestId).
    wr.onBeforeRequest.addListener((d) => {
      this.seen(d);
    }, filter, ['requestBody']);
    try {
      wr.onBeforeRequest.addListener((d) => this.onBlockingRequest(d), filter, ['blocking', 'requestBody']);
    } catch {
      this.mode = 'rules'; // older browsers throw at once
    }
    wr.onSendHeaders.addListener((d) => this.onSent(d), filter);
    wr.onErrorOccurred.addListener((d) => this.onError(d), filter);
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

  async cleanUp() {
    await this.modeKnown;
    const dnr = this.chrome.declarativeNetRequest;
    try {
      const rules = await dnr.getSessionRules();
      const ours = rules.filter((r) => r.id >= FIRST_RULE_ID).map((r) => r.id);
      if (ours.length) await dnr.updateSessionRules({ removeRuleIds: ours });
      this.nextId = Math.max(FIRST_RULE_ID, ...rules.map((r) => r.id + 1));
    } catch (error) {
      this.log.warn && this.log.warn('tweetguard network guard: could not clear allow rules', error);
    }
    await this.chrome.storage.session.set({ [STORE_KEY]: [] }).catch(() => {});
    await this.saveStatus();
  }

  async saveStatus() {
    const status = {
      mode: this.mode,
      since: this.since || (this.since = new Date(this.now()).toISOString()),
      held: this.counts.held,
      mismatches: this.counts.mismatches,
      recorded: this.counts.recorded, // incidents the helper has recorded
      allowances: this.allowances.size,
      last: this.last,
    };
    await this.chrome.storage.session.set({ [STATUS_KEY]: status }).catch(() => {});
  }

  persist() {
    const list = [...this.allowances.values()].map(({ id, tabId, ops, expires, source, items }) => ({
      id, tabId, ops, expires, source, left: items.length,
    }));
    return this.chrome.storage.session.set({ [STORE_KEY]: list }).catch(() => {});
  }

  // --- Allowances
  /** The content script's approve message; see the top of this file. */
  async approve(message, sender) {
    const started = typeof performance !== 'undefined' ? performance.now() : 0;
    const tabId = sender && sender.tab ? sender.tab.id : undefined;
    const refuse = (why) => ({
      ok: false,
      error: { code: 'network_guard', message: `tweetguard could not open the way for this post (${why}), so it is held. Press Post again.` },
    });
    if (typeof tabId !== 'number' || tabId < 0) return refuse('no tab');
    const ops = operationsFor(message);
    if (ops.length === 0) return refuse('unknown kind of post');
    let items;
    if (message.tweet_id != null) items = [{ tweetId: String(message.tweet_id) }];
    else items = (Array.isArray(message.texts) ? message.texts : [message.text]).filter((t) => typeof t === 'string').map((text) => ({ text }));
    if (items.length === 0) return refuse('no text');
    try {
      await this.open(tabId, ops, items, APPROVAL_TTL_MS, 'guard');
    } catch (error) {
      return refuse(String((error && error.message) || error));
    }
    if (started) this.timings.push(performance.now() - started);
    if (this.timings.length > 500) this.timings.shift();
    return { ok: true, mode: this.mode, expiresInMs: APPROVAL_TTL_MS };
  }

  async open(tabId, ops, items, ttl, source) {
    await this.ready;
    const old = this.allowances.get(tabId);
    const id = this.nextId;
    this.nextId += ops.length;
    const allowance = { id, ruleIds: ops.map((_, i) => id + i), tabId, ops, items: [...items], expires: this.now() + ttl, source };
    // The allowance counts before the rule exists: a request the rule lets through
    // must find it (onBeforeRequest may come before updateSessionRules resolves).
    this.allowances.set(tabId, allowance);
    await this.chrome.declarativeNetRequest.updateSessionRules({
      removeRuleIds: old ? old.ruleIds : [],
      addRules: allowRules(id, tabId, ops),
    });
    clearTimeout(this.timers.get(tabId));
    this.timers.set(tabId, setTimeout(() => this.expire(tabId, id), ttl));
    this.persist();
    return allowance;
  }

  close(tabId, id) {
    const current = this.allowances.get(tabId);
    if (!current || (id !== undefined && current.id !== id)) return Promise.resolve();
    this.allowances.delete(tabId);
    clearTimeout(this.timers.get(tabId));
    this.timers.delete(tabId);
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
    const operation = operationOf(details.url);
    if (!operation) return null;
    const known = this.requests.get(details.requestId);
    if (known) return known; // the other onBeforeRequest listener read it already
    const body = readBody(details.requestBody);
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
        allowance.items.splice(index, 1);
        if (allowance.items.length === 0) this.close(allowance.tabId, allowance.id);
        else this.persist();
      }
    }
    this.requests.set(details.requestId, record);
    if (this.requests.size > 200) this.requests.delete(this.requests.keys().next().value);
    return record;
  }

  /** Blocking mode: an unapproved or unreadable body never leaves. */
  onBlockingRequest(details) {
    const record = this.seen(details);
    if (!record || record.approved) return {};
    return { cancel: true };
  }

  /** The request went out (onSendHeaders is not sent for a blocked request). */
  onSent(details) {
    const record = this.requests.get(details.requestId);
    if (!record) return;
    this.requests.delete(details.requestId);
    if (record.approved) {
      // A held post the teacher sent again: the notice has done its job.
      if (record.source === 'held') this.tell(record.tabId, { phase: 'sent' });
      return;
    }
    // Through an allow rule with a text that was not approved (or a rule a dead
    // worker left behind): it has gone out. Record it and sign out.
    this.mismatch(record, 'sent').catch((e) => this.log.error && this.log.error(e));
  }

  onError(details) {
    const record = this.requests.get(details.requestId);
    if (!record) return;
    this.requests.delete(details.requestId);
    if (!/BLOCKED_BY_CLIENT/.test(details.error || '')) return; // the network's own failure
    if (record.againstApproval && !record.approved) {
      this.mismatch(record, 'cancelled').catch((e) => this.log.error && this.log.error(e));
      return;
    }
    this.held(record).catch((e) => this.log.error && this.log.error(e));
  }

  tell(tabId, message) {
    if (typeof tabId !== 'number' || tabId < 0) return Promise.resolve(null);
    return this.chrome.tabs
      .sendMessage(tabId, { kind: 'tweetguard:network-held', ...message }, { frameId: 0 })
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

  async mismatch(record, how) {
    this.counts.mismatches += 1;
    const allowance = this.allowances.get(record.tabId);
    if (allowance) await this.close(record.tabId, allowance.id);
    const context = (await this.tell(record.tabId, { phase: 'held', operation: record.operation, quiet: true })) || {};
    await this.incident('network-mismatch', record, {
      account: context.account,
      detail: `${record.operation}: the text differs from the approved post; ${how === 'sent' ? 'it went out' : 'it was stopped'} (${this.mode} mode)`,
    });
    await this.logout();
    await this.tell(record.tabId, {
      phase: 'mismatch',
      sent: how === 'sent',
      message:
        how === 'sent'
          ? 'tweetguard saw a post go out that was changed after it was checked, so it signed this browser out of X and recorded it. Tell your school\'s IT lead.'
          : 'tweetguard stopped a post that was changed after it was checked, signed this browser out of X and recorded it. Tell your school\'s IT lead.',
    });
  }

  async held(record) {
    this.counts.held += 1;
    const context = (await this.tell(record.tabId, { phase: 'held', operation: record.operation })) || {};
    const unknown = Boolean(context.unknown);
    const title = unknown ? MESSAGES.unknown : MESSAGES.held;
    await this.incident(unknown ? 'unknown-composer' : 'network-unchecked', record, {
      account: context.account,
      detail: unknown ? context.detail : `${record.operation}: no composer tweetguard knows asked for it (${this.mode} mode)`,
    });
    const { body } = record;
    const action = ACTION_OF[record.operation] || 'post';
    const cannot = (why) =>
      this.tell(record.tabId, { phase: 'cannot-check', unknown, message: `${title} ${why}` });
    if (!body.readable || body.text === null) {
      return cannot('tweetguard could not read what it would post. Post it from X\'s usual Post box.');
    }
    if (body.media > 0 || body.card) {
      return cannot('It has a photo, video or poll that tweetguard could not check here. Post it from X\'s usual Post box.');
    }
    if (action === 'repost' || action === 'article') {
      return cannot('tweetguard cannot check this kind of post here. Post it from X\'s usual Post box.');
    }
    const request = { type: 'check', text: body.text, action };
    if (context.account && (context.account.handle || context.account.user_id)) {
      request.account = Object.fromEntries(Object.entries(context.account).filter(([, v]) => v));
    }
    const reply = await this.ask(request);
    if (!reply || !reply.ok) {
      const message = reply && reply.error ? reply.error.message : 'The tweetguard safety helper did not answer.';
      return cannot(message);
    }
    if (reply.verdict !== 'allow') {
      return this.tell(record.tabId, { phase: 'blocked', unknown, message: title, text: body.text, reply });
    }
    // Not opened yet: the allow rule would let any text of this tab through until
    // it is used. It opens when the teacher presses Post again (a trusted click or
    // key the content script sees, then replays: `arm` below).
    this.armable.set(record.tabId, {
      ops: OPERATIONS[action] || [record.operation],
      items: [{ text: body.text }],
      expires: this.now() + HELD_TTL_MS,
    });
    return this.tell(record.tabId, {
      phase: 'allowed',
      unknown,
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
    await this.open(tabId, waiting.ops, waiting.items, APPROVAL_TTL_MS, 'held');
    return { ok: true };
  }
}
