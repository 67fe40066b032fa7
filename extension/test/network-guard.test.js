// The network guard: its static rule set, the bodies it reads, and the allow
// rules, incidents and held posts of the service worker's side (with a fake chrome).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  GUARDED,
  NetworkGuard,
  OPERATIONS,
  RESOURCE_TYPES,
  allowRules,
  matchItem,
  operationOf,
  operationsFor,
  readBody,
  regexFor,
  staticRules,
} from '../src/network-guard.js';

const RULES = JSON.parse(readFileSync(new URL('../rules/network-guard.json', import.meta.url), 'utf8'));
const MANIFEST = JSON.parse(readFileSync(new URL('../manifest.json', import.meta.url), 'utf8'));

// Chromium matches regexFilter with RE2; these patterns use nothing RE2 and
// JavaScript read differently. isUrlFilterCaseSensitive: false -> the i flag.
const compiled = (rule) => new RegExp(rule.condition.regexFilter, rule.condition.isUrlFilterCaseSensitive ? '' : 'i');
const urls = (op) => [
  `https://x.com/i/api/graphql/abc-123_XYZ/${op}`,
  `https://x.com/i/api/graphql/abc/${op}?variables=%7B%7D`,
  `https://twitter.com/i/api/graphql/q/${op}`,
  `https://mobile.x.com/i/api/graphql/q/${op}`,
  `https://pro.x.com/i/api/graphql/q/${op}`,
  `https://api.x.com/graphql/q/${op}`,
];

test('the rules file is exactly the rule set the module describes, and the manifest declares it', () => {
  assert.deepEqual(RULES, staticRules());
  const [resource] = MANIFEST.declarative_net_request.rule_resources;
  assert.deepEqual(resource, { id: 'network_guard', enabled: true, path: 'rules/network-guard.json' });
  for (const permission of ['declarativeNetRequest', 'webRequest']) assert.ok(MANIFEST.permissions.includes(permission));
});

test('every posting operation has a block rule for POSTs on x.com, twitter.com and subdomains', () => {
  const expected = [
    'CreateTweet', 'CreateNoteTweet', 'EditTweet', 'CreateRetweet', 'CreateScheduledTweet',
    'EditScheduledTweet', 'CreateDraftTweet', 'EditDraftTweet', 'ArticleEntityPublish',
  ];
  assert.deepEqual([...GUARDED].sort(), [...expected].sort());
  assert.equal(RULES.length, expected.length);
  assert.equal(new Set(RULES.map((r) => r.id)).size, RULES.length);
  for (const rule of RULES) {
    assert.equal(rule.action.type, 'block');
    assert.deepEqual(rule.condition.requestDomains, ['x.com', 'twitter.com']); // and their subdomains
    assert.deepEqual(rule.condition.excludedRequestMethods, ['get', 'head', 'options']);
    for (const type of ['xmlhttprequest', 'other', 'ping', 'sub_frame', 'main_frame']) {
      assert.ok(rule.condition.resourceTypes.includes(type), type);
    }
    assert.ok(!rule.condition.resourceTypes.includes('websocket'));
  }
});

test("each rule's regexFilter matches its operation, at the end of the path, whatever the query id", () => {
  for (const op of GUARDED) {
    const matching = RULES.filter((rule) => urls(op).every((url) => compiled(rule).test(url)));
    assert.equal(matching.length, 1, op);
    assert.ok(compiled(matching[0]).test(`https://x.com/i/api/graphql/q/${op.toLowerCase()}`), 'case');
  }
});

test('no rule matches other operations, longer names, or the name in the query id', () => {
  const others = [
    'https://x.com/i/api/graphql/q/FavoriteTweet',
    'https://x.com/i/api/graphql/q/HomeTimeline',
    'https://x.com/i/api/graphql/q/CreateTweetDownvote',
    'https://x.com/i/api/graphql/q/CreateBookmark',
    'https://x.com/i/api/graphql/q/DeleteTweet',
    'https://x.com/i/api/graphql/q/DeleteRetweet',
    'https://x.com/i/api/graphql/q/ArticleEntityUpdateContent',
    'https://x.com/i/api/graphql/CreateTweet/HomeTimeline',
    'https://x.com/i/api/graphql/CreateTweet',
    'https://x.com/i/api/graphql/q/CreateTweet/extra',
    'https://x.com/home?next=/i/api/graphql/q/CreateTweet',
  ];
  for (const url of others) {
    assert.deepEqual(RULES.filter((rule) => compiled(rule).test(url)).map((r) => r.id), [], url);
    assert.equal(operationOf(url), null, url);
  }
});

test('operationOf names the operation only on X hosts', () => {
  assert.equal(operationOf('https://x.com/i/api/graphql/q/CreateTweet'), 'CreateTweet');
  assert.equal(operationOf('https://mobile.twitter.com/i/api/graphql/q/createdrafttweet?x=1'), 'CreateDraftTweet');
  assert.equal(operationOf('https://example.com/i/api/graphql/q/CreateTweet'), null);
  assert.equal(operationOf('https://notx.com/i/api/graphql/q/CreateTweet'), null);
  assert.equal(operationOf('not a url'), null);
});

test('an approval covers the operations of its kind of post', () => {
  assert.deepEqual(operationsFor({}), OPERATIONS.post);
  assert.deepEqual(operationsFor({ operation: 'CreateTweet' }), ['CreateTweet', 'CreateNoteTweet', 'EditTweet']);
  assert.deepEqual(operationsFor({ operation: 'CreateScheduledTweet' }), ['CreateScheduledTweet', 'EditScheduledTweet']);
  assert.deepEqual(operationsFor({ action: 'repost' }), ['CreateRetweet']);
  assert.deepEqual(operationsFor({ action: 'draft' }), ['CreateDraftTweet', 'EditDraftTweet']);
  assert.deepEqual(operationsFor({ operation: 'DeleteTweet' }), []);
});

test('allow rules are scoped to one tab, outrank the block rules, and match the same URLs', () => {
  const rules = allowRules(1000, 7, ['CreateTweet', 'CreateNoteTweet']);
  assert.deepEqual(rules.map((r) => r.id), [1000, 1001]);
  for (const rule of rules) {
    assert.equal(rule.action.type, 'allow');
    assert.deepEqual(rule.condition.tabIds, [7]);
    assert.ok(rule.priority > RULES[0].priority);
    assert.deepEqual(rule.condition.resourceTypes, [...RESOURCE_TYPES]);
  }
  assert.equal(rules[0].condition.regexFilter, regexFor('CreateTweet'));
});

const bytes = (text) => ({ raw: [{ bytes: new TextEncoder().encode(text).buffer }] });

test('readBody finds the text of a post, a scheduled post or draft, and a repost', () => {
  assert.deepEqual(readBody(bytes('{"variables":{"tweet_text":"Hi ✨","media":{"media_entities":[{"media_id":"1"}]}}}')), {
    readable: true, text: 'Hi ✨', tweetId: null, media: 1, card: false,
  });
  const scheduled = readBody(bytes('{"variables":{"post_tweet_request":{"status":"Later","media_ids":[]},"execute_at":1}}'));
  assert.equal(scheduled.text, 'Later');
  assert.equal(readBody(bytes('{"variables":{"tweet_id":"123","dark_request":false}}')).tweetId, '123');
  // Split across parts, as Chromium may give a large body.
  const whole = new TextEncoder().encode('{"variables":{"tweet_text":"split"}}');
  const split = { raw: [{ bytes: whole.slice(0, 10).buffer }, { bytes: whole.slice(10).buffer }] };
  assert.equal(readBody(split).text, 'split');
  assert.equal(readBody({ formData: { variables: ['{"tweet_text":"form"}'] } }).text, 'form');
});

test('a body that cannot be read is unreadable (and so never approved)', () => {
  for (const body of [
    undefined,
    { error: 'Unknown error.' },
    { raw: [{ file: '/tmp/x' }] },
    bytes('not json'),
    bytes('{"variables":{}}'),
    bytes('{"queryId":"q"}'),
    { raw: [{ bytes: new Uint8Array([0xff, 0xfe]).buffer }] },
  ]) {
    const read = readBody(body);
    assert.equal(read.readable, false, JSON.stringify(body));
    assert.equal(matchItem([{ text: '' }], read), -1);
  }
});

test('texts match after line endings, no-break spaces and NFC; nothing else', () => {
  const read = (text) => readBody(bytes(JSON.stringify({ variables: { tweet_text: text } })));
  assert.equal(matchItem([{ text: 'a\nb' }], read('a\r\nb ')), 0);
  assert.equal(matchItem([{ text: 'café' }], read('cafe\u0301')), 0);
  assert.equal(matchItem([{ text: 'a b' }], read('a\u00a0b')), 0);
  assert.equal(matchItem([{ text: 'Year 4' }], read('Year 5')), -1);
  assert.equal(matchItem([{ tweetId: '9' }], readBody(bytes('{"variables":{"tweet_id":"9"}}'))), 0);
  assert.equal(matchItem([{ tweetId: '9' }], readBody(bytes('{"variables":{"tweet_id":"8"}}'))), -1);
});

// --- The service worker's side, with a fake chrome.
function event() {
  const listeners = [];
  return {
    listeners,
    addListener(fn, _filter, extra) {
      if (extra && extra.includes('blocking') && event.refuseBlocking) throw new Error('no blocking');
      listeners.push({ fn, extra: extra || [] });
    },
  };
}

function fakeChrome({ blocking = false, leftover = [] } = {}) {
  let session = [...leftover];
  const stored = {};
  const sent = [];
  const chrome = {
    blocking,
    sent,
    stored,
    get session() {
      return session;
    },
    declarativeNetRequest: {
      getSessionRules: async () => session.map((r) => ({ ...r })),
      updateSessionRules: async ({ removeRuleIds = [], addRules = [] }) => {
        session = session.filter((r) => !removeRuleIds.includes(r.id)).concat(addRules);
      },
    },
    webRequest: { onBeforeRequest: event(), onSendHeaders: event(), onErrorOccurred: event() },
    permissions: { contains: async () => blocking },
    storage: { session: { set: async (values) => Object.assign(stored, values) } },
    tabs: {
      sendMessage: async (tabId, message) => {
        sent.push({ tabId, ...message });
        return message.phase === 'held' ? { account: { handle: 'OakfieldPrimary', user_id: '1' }, unknown: null } : { ok: true };
      },
    },
  };
  return chrome;
}

function setUp(options = {}, verdict = 'allow') {
  const chrome = fakeChrome(options);
  const asked = [];
  let logouts = 0;
  let clock = 1_000_000;
  const guard = new NetworkGuard(chrome, {
    ask: async (request) => {
      asked.push(request);
      if (request.type === 'check') return { ok: true, verdict, findings: [] };
      return { ok: true, recorded: true };
    },
    logout: async () => {
      logouts += 1;
    },
    now: () => clock,
    log: {},
  }).start();
  let nextRequest = 1;
  const request = (text, { tabId = 5, op = 'CreateTweet', outcome } = {}) => {
    const details = {
      requestId: String(nextRequest++), tabId, method: 'POST',
      url: `https://x.com/i/api/graphql/q/${op}`,
      requestBody: bytes(JSON.stringify({ variables: { tweet_text: text } })),
    };
    // The browser: an allow rule for this tab when the request starts (and no cancel) lets it out.
    const allowed = chrome.session.some((r) => r.action.type === 'allow' && r.condition.tabIds.includes(tabId) && new RegExp(r.condition.regexFilter, 'i').test(details.url));
    const answers = chrome.webRequest.onBeforeRequest.listeners.map(({ fn }) => fn(details));
    // Without the policy's grant Chromium ignores what a blocking listener answers.
    const cancelled = chrome.blocking && answers.some((a) => a && a.cancel);
    const out = outcome || (allowed && !cancelled ? 'sent' : 'blocked');
    if (out === 'sent') chrome.webRequest.onSendHeaders.listeners.forEach(({ fn }) => fn(details));
    else chrome.webRequest.onErrorOccurred.listeners.forEach(({ fn }) => fn({ ...details, error: 'net::ERR_BLOCKED_BY_CLIENT' }));
    return { out, cancelled };
  };
  const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
  return { chrome, guard, asked, request, settle, logouts: () => logouts, tick: (ms) => (clock += ms) };
}

const tab = (id = 5) => ({ tab: { id } });

test('on start, allow rules a previous worker left are removed; the mode is read from the permission', async () => {
  const { chrome, guard } = setUp({ leftover: [{ id: 1003, action: { type: 'allow' }, condition: {} }] });
  await guard.ready;
  assert.deepEqual(chrome.session, []);
  assert.equal(chrome.stored.networkGuard.mode, 'rules');
  const blocking = setUp({ blocking: true });
  await blocking.guard.ready;
  assert.equal(blocking.chrome.stored.networkGuard.mode, 'blocking');
});

test('an approved post goes out once through an allow rule for its tab, which then closes', async () => {
  const { chrome, guard, asked, request, settle } = setUp();
  const reply = await guard.approve({ kind: 'tweetguard:approve', texts: ['Year 4 won'], operation: 'CreateTweet' }, tab());
  assert.deepEqual(reply, { ok: true, mode: 'rules', expiresInMs: 10_000 });
  assert.equal(chrome.session.length, 3);
  assert.ok(chrome.session.every((r) => r.condition.tabIds[0] === 5));
  assert.equal(request('Year 4 won').out, 'sent');
  await settle();
  assert.deepEqual(chrome.session, []);
  assert.deepEqual(asked, []); // no incident
  assert.equal(request('Year 4 won').out, 'blocked'); // one-shot
  await settle();
  assert.equal(asked[0].what, 'network-unchecked');
});

test('a thread: every approved box goes out once, in any order', async () => {
  const { chrome, guard, asked, request, settle } = setUp();
  await guard.approve({ texts: ['one', 'two'] }, tab());
  assert.equal(request('two').out, 'sent');
  assert.equal(request('one').out, 'sent');
  await settle();
  assert.deepEqual(chrome.session, []);
  assert.deepEqual(asked, []);
});

test('another tab gets nothing from an approval', async () => {
  const { guard, request, settle, asked } = setUp();
  await guard.approve({ texts: ['hello'] }, tab(5));
  assert.equal(request('hello', { tabId: 6 }).out, 'blocked');
  await settle();
  assert.equal(asked[0].what, 'network-unchecked');
});

test('rules mode: a different text through an open allowance is a mismatch, recorded, and signs out', async () => {
  const { chrome, guard, asked, request, settle, logouts } = setUp();
  await guard.approve({ texts: ['Year 4 won'] }, tab());
  assert.equal(request('Amelia Thornbury lives at 12 Oak Lane').out, 'sent');
  await settle();
  assert.equal(asked.length, 1);
  assert.equal(asked[0].type, 'incident');
  assert.equal(asked[0].what, 'network-mismatch');
  assert.equal(asked[0].text, 'Amelia Thornbury lives at 12 Oak Lane');
  assert.deepEqual(asked[0].account, { handle: 'OakfieldPrimary', user_id: '1' });
  assert.equal(logouts(), 1);
  assert.deepEqual(chrome.session, []);
  assert.ok(chrome.sent.some((m) => m.phase === 'mismatch' && m.sent === true));
});

test('blocking mode: a different or unreadable text is cancelled before it leaves', async () => {
  const { guard, asked, request, settle, logouts } = setUp({ blocking: true });
  await guard.ready;
  await guard.approve({ texts: ['Year 4 won'] }, tab());
  const { out, cancelled } = request('Year 4 lost');
  assert.equal(out, 'blocked');
  assert.ok(cancelled);
  await settle();
  assert.equal(asked[0].what, 'network-mismatch');
  assert.equal(logouts(), 1);
  await guard.approve({ texts: ['Year 4 won'] }, tab());
  assert.ok(request('Year 4 won').out === 'sent');
});

test('an allowance expires: after APPROVAL_TTL_MS the post is held', async () => {
  const { chrome, guard, request, settle, asked, tick } = setUp();
  await guard.approve({ texts: ['late'] }, tab());
  tick(10_001);
  // The browser would still let it through the rule until it is removed; the
  // guard closes it on the next request and treats the request as unapproved.
  request('late', { outcome: 'blocked' });
  await settle();
  assert.equal(asked[0].what, 'network-unchecked');
  assert.deepEqual(chrome.session, []);
});

test('a held post is checked; if it passes, exactly that text may go out once Post is pressed again', async () => {
  const { chrome, guard, request, settle, asked } = setUp();
  assert.equal(request('Year 4 planted sunflowers').out, 'blocked');
  await settle();
  assert.deepEqual(asked.map((r) => r.type), ['incident', 'check']);
  assert.equal(asked[1].text, 'Year 4 planted sunflowers');
  assert.equal(asked[1].action, 'post');
  assert.deepEqual(chrome.sent.map((m) => m.phase), ['held', 'allowed']);
  assert.match(chrome.sent[1].message, /press Post again/);
  // Nothing is open until the teacher presses Post again: a script meanwhile is held.
  assert.deepEqual(chrome.session, []);
  assert.equal(request('Something else').out, 'blocked');
  await settle();
  assert.equal((await guard.arm({}, tab(6))).ok, false); // another tab
  // (the script's request above replaced the waiting post with its own, which passed too)
  assert.equal((await guard.arm({}, tab())).ok, true);
  assert.equal(request('Something else').out, 'sent');
  await settle();
  assert.deepEqual(chrome.session, []);
  assert.equal((await guard.arm({}, tab())).ok, false); // one press, one post
  assert.ok(chrome.sent.some((m) => m.phase === 'sent'));
});

test('a held post waits for Post again only HELD_TTL_MS', async () => {
  const { guard, request, settle, tick } = setUp();
  request('hello');
  await settle();
  tick(120_001);
  assert.equal((await guard.arm({}, tab())).ok, false);
});

test('a held post that fails the check stays held, with the findings sent to the tab', async () => {
  const { chrome, request, settle } = setUp({}, 'block');
  request('Amelia Thornbury');
  await settle();
  assert.deepEqual(chrome.sent.map((m) => m.phase), ['held', 'blocked']);
  assert.deepEqual(chrome.session, []);
});

test('a held post with a photo, or an unreadable one, is not opened', async () => {
  const { chrome, guard, settle, asked } = setUp();
  const details = {
    requestId: 'p', tabId: 5, method: 'POST', url: 'https://x.com/i/api/graphql/q/CreateTweet',
    requestBody: bytes('{"variables":{"tweet_text":"hi","media":{"media_entities":[{"media_id":"1"}]}}}'),
  };
  guard.seen(details);
  guard.onError({ ...details, error: 'net::ERR_BLOCKED_BY_CLIENT' });
  await settle();
  assert.deepEqual(asked.map((r) => r.type), ['incident']);
  assert.equal(chrome.sent.at(-1).phase, 'cannot-check');
  assert.deepEqual(chrome.session, []);
});

test('a network failure that is not the guard is not a held post; GETs are not looked at', async () => {
  const { guard, settle, asked } = setUp();
  const details = { requestId: 'n', tabId: 5, method: 'POST', url: 'https://x.com/i/api/graphql/q/CreateTweet', requestBody: bytes('{"variables":{"tweet_text":"a"}}') };
  guard.seen(details);
  guard.onError({ ...details, error: 'net::ERR_CONNECTION_RESET' });
  assert.equal(guard.seen({ ...details, requestId: 'g', method: 'GET' }), null);
  await settle();
  assert.deepEqual(asked, []);
});

test('approve refuses what it cannot scope', async () => {
  const { guard } = setUp();
  assert.equal((await guard.approve({ texts: ['x'] }, {})).ok, false);
  assert.equal((await guard.approve({ texts: [] }, tab())).ok, false);
  assert.equal((await guard.approve({ texts: ['x'], operation: 'DeleteTweet' }, tab())).ok, false);
  const repost = await guard.approve({ action: 'repost', tweet_id: '42' }, tab());
  assert.equal(repost.ok, true);
});
