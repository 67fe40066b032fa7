// The network guard: its static rule set, the bodies it reads, and the allow
// rules, incidents and held posts of the service worker's side (with a fake chrome).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  GUARDED,
  ALARM,
  NetworkGuard,
  OPERATIONS,
  approvalTtl,
  RESOURCE_TYPES,
  allowRules,
  matchItem,
  operationOf,
  operationsFor,
  isXApi,
  readBody,
  regexFor,
  staticRules,
} from '../src/network-guard.js';

const RULES = JSON.parse(readFileSync(new URL('../rules/network-guard.json', import.meta.url), 'utf8'));
const MANIFEST = JSON.parse(readFileSync(new URL('../manifest.json', import.meta.url), 'utf8'));

// Chromium matches regexFilter with RE2; these patterns use nothing RE2 and
// JavaScript read differently. isUrlFilterCaseSensitive: false -> the i flag.
const compiled = (rule) => new RegExp(rule.condition.regexFilter, rule.condition.isUrlFilterCaseSensitive ? '' : 'i');
const GRAPHQL = GUARDED.filter((op) => !op.includes('/'));
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
    'statuses/update', '2/tweets', 'statuses/retweet', '2/retweets',
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
  for (const op of GRAPHQL) {
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
    'https://x.com/i/api/graphql/q/CreateTweetX/extra',
    'https://x.com/i/api/graphql/q/XCreateTweet',
    'https://x.com/i/api/graphqlx/q/CreateTweet',
    'https://x.com/home?next=/i/api/graphql/q/CreateTweet',
    'https://x.com/home?next=/i/api/1.1/statuses/update.json',
    'https://x.com/i/api/1.1/statuses/destroy/1.json',
    'https://x.com/i/api/1.1/statuses/unretweet/1.json',
    'https://x.com/i/api/1.1/statuses/update_profile.json',
    'https://x.com/i/api/1.1/dm/new2.json',
    'https://x.com/i/api/2/tweets/123',
    'https://x.com/i/api/2/tweets/123/hidden',
    'https://x.com/i/api/2/tweets/search/recent',
    'https://x.com/i/api/2/users/1/retweets/123',
    'https://x.com/i/api/2/users/1/likes',
    'https://x.com/i/api/1.1/jot/client_event.json',
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
  assert.deepEqual(operationsFor({ operation: 'CreateTweet' }), ['CreateTweet', 'CreateNoteTweet', 'EditTweet', 'statuses/update', '2/tweets']);
  assert.deepEqual(operationsFor({ operation: 'CreateScheduledTweet' }), ['CreateScheduledTweet', 'EditScheduledTweet']);
  assert.deepEqual(operationsFor({ action: 'repost' }), ['CreateRetweet', 'statuses/retweet', '2/retweets']);
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
    readable: true, text: 'Hi ✨', tweetId: null, media: 1, card: false, quote: false,
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

function fakeChrome({ blocking = false, leftover = [], stored: kept = {}, tabSilent = false } = {}) {
  let session = [...leftover];
  const stored = { ...kept };
  const sent = [];
  const alarms = new Map();
  const chrome = {
    blocking,
    sent,
    stored,
    alarmsSet: alarms,
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
    storage: {
      session: {
        set: async (values) => Object.assign(stored, structuredClone(values)),
        get: async (key) => (key in stored ? { [key]: structuredClone(stored[key]) } : {}),
      },
    },
    alarms: {
      create: (name, info) => alarms.set(name, info),
      clear: (name) => alarms.delete(name),
      onAlarm: event(),
    },
    tabs: {
      sendMessage: async (tabId, message) => {
        sent.push({ tabId, ...message });
        if (tabSilent) return new Promise(() => {});
        return message.phase === 'held' ? { account: { handle: 'OakfieldPrimary', user_id: '1' }, unknown: null } : { ok: true };
      },
    },
  };
  return chrome;
}

function setUp(options = {}, verdict = 'allow') {
  const chrome = fakeChrome(options);
  const asked = [];
  const order = [];
  const posted = [];
  let logouts = 0;
  let clock = options.clock || 1_000_000;
  const guard = new NetworkGuard(chrome, {
    ask: async (request) => {
      asked.push(request);
      order.push(request.type);
      if (options.slowHelper && request.type === 'incident') return new Promise(() => {});
      if (request.type === 'check') return { ok: true, verdict, findings: [] };
      return { ok: true, recorded: true };
    },
    logout: async () => {
      logouts += 1;
      order.push('logout');
    },
    posted: async (what) => {
      posted.push(what);
    },
    now: () => clock,
    log: {},
  }).start();
  let nextRequest = 1;
  const request = (text, { tabId = 5, op = 'CreateTweet', outcome, url, variables = {}, body } = {}) => {
    const details = {
      requestId: String(nextRequest++), tabId, method: 'POST',
      url: url || `https://x.com/i/api/graphql/q/${op}`,
      requestBody: body || bytes(JSON.stringify({ variables: { tweet_text: text, ...variables } })),
    };
    // The browser: an allow rule for this tab when the request starts (and no cancel) lets it out.
    const allowed = chrome.session.some((r) => r.action.type === 'allow' && r.condition.tabIds.includes(tabId) && new RegExp(r.condition.regexFilter, 'i').test(details.url));
    const guarded = RULES.some((r) => new RegExp(r.condition.regexFilter, 'i').test(details.url));
    const answers = chrome.webRequest.onBeforeRequest.listeners.map(({ fn }) => fn(details));
    // Without the policy's grant Chromium ignores what a blocking listener answers.
    const cancelled = chrome.blocking && answers.some((a) => a && a.cancel);
    const out = outcome || ((allowed || !guarded) && !cancelled ? 'sent' : 'blocked');
    if (out === 'sent') chrome.webRequest.onSendHeaders.listeners.forEach(({ fn }) => fn(details));
    else chrome.webRequest.onErrorOccurred.listeners.forEach(({ fn }) => fn({ ...details, error: 'net::ERR_BLOCKED_BY_CLIENT' }));
    return { out, cancelled };
  };
  const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
  return { chrome, guard, asked, order, posted, request, settle, logouts: () => logouts, tick: (ms) => (clock += ms) };
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
  assert.equal(chrome.session.length, OPERATIONS.post.length);
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
  assert.equal(asked[1].stage, 'network'); // recorded only if the composer had not just checked it
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

// --- Review of issue 9: near-spellings, REST calls, held posts, expiry, sign-outs, messages.

const blockedBy = (url) => RULES.filter((rule) => compiled(rule).test(new URL(url).href)).map((r) => r.id);

test('near-spellings of a posting path are blocked: trailing slash, ;parameter, doubled slashes, extra segments', () => {
  for (const op of GRAPHQL) {
    for (const url of [
      `https://x.com/i/api/graphql/abc/${op}/`,
      `https://x.com/i/api/graphql/abc/${op};v=1`,
      `https://x.com/i/api//graphql/abc/${op}`,
      `https://x.com//i/api/graphql/abc/${op}`,
      `https://x.com/i/api/graphql/abc//${op}`,
      `https://x.com/i/api/graphql//abc/${op}`,
      `https://x.com/i/api/graphql/x/y/${op}`,
      `https://x.com/i/api/graphql/${op}`,
      `https://x.com/i/api/graphql/abc/${op}%2F`,
      `https://x.com/i/api/graphql/abc/${op}/extra`,
      `https://x.com/I/API/GRAPHQL/abc/${op.toUpperCase()}`,
      `https://x.com./i/api/graphql/abc/${op}`,
      `https://x.com:443/i/api/graphql/abc/${op}`,
    ]) {
      assert.equal(blockedBy(url).length >= 1, true, url);
      assert.equal(operationOf(url), op, url);
    }
  }
});

test("X's REST posting calls are blocked too, in their spellings, and map to their kind of post", () => {
  const cases = {
    'statuses/update': [
      'https://x.com/i/api/1.1/statuses/update.json',
      'https://x.com/i/api/1.1/statuses/update',
      'https://x.com/i/api//1.1/statuses/update.json',
      'https://x.com/i/api/1.1/statuses//update.json?include_entities=1',
      'https://api.twitter.com/1.1/statuses/update.json',
      'https://x.com/i/api/1.1/statuses/update_with_media.json',
      'https://x.com/i/api/1.1/statuses/update.json/',
    ],
    '2/tweets': ['https://x.com/i/api/2/tweets', 'https://x.com/i/api/2/tweets/', 'https://api.x.com/2/tweets', 'https://x.com//i/api/2//tweets?x=1'],
    'statuses/retweet': ['https://x.com/i/api/1.1/statuses/retweet/123.json', 'https://x.com/i/api/1.1/statuses/retweet/123'],
    '2/retweets': ['https://x.com/i/api/2/users/1/retweets', 'https://api.x.com/2/users/1/retweets/'],
  };
  for (const [op, list] of Object.entries(cases)) {
    for (const url of list) {
      assert.equal(blockedBy(url).length, 1, url);
      assert.equal(operationOf(url), op, url);
    }
  }
  assert.ok(OPERATIONS.post.includes('statuses/update') && OPERATIONS.post.includes('2/tweets'));
  assert.ok(OPERATIONS.repost.includes('statuses/retweet') && OPERATIONS.repost.includes('2/retweets'));
});

test('every regexFilter stays small (Chromium refuses a regex over its memory limit)', () => {
  for (const rule of RULES) assert.ok(rule.condition.regexFilter.length < 120, rule.condition.regexFilter);
});

test('readBody reads REST bodies: form fields, 2/tweets JSON, a repost id in the URL; and quotes and polls', () => {
  const form = readBody({ formData: { status: ['Form post'], media_ids: ['1,2'] } });
  assert.deepEqual([form.readable, form.text, form.media], [true, 'Form post', 2]);
  const v2 = readBody(bytes('{"text":"V2 post","media":{"media_ids":["1"]},"poll":{"options":["a","b"]}}'));
  assert.deepEqual([v2.text, v2.media, v2.card], ['V2 post', 1, true]);
  assert.equal(readBody(bytes('{}'), 'https://x.com/i/api/1.1/statuses/retweet/77.json').tweetId, '77');
  assert.equal(readBody(bytes('{"variables":{"tweet_text":"q","attachment_url":"https://x.com/a/status/1"}}')).quote, true);
  assert.equal(readBody(bytes('{"variables":"{\\"tweet_text\\":\\"string vars\\"}"}')).text, 'string vars');
});

test('a POST to X\'s API no rule covers, carrying a post\'s text, is recorded when it goes out; other calls are not', async () => {
  const { guard, asked, request, settle, chrome } = setUp();
  const send = (url, body) => request(null, { url, body: bytes(JSON.stringify(body)) });
  assert.equal(send('https://x.com/i/api/1.1/statuses/new_post.json', { status: 'Amelia Thornbury' }).out, 'sent');
  assert.equal(send('https://x.com/i/api/graphql/q/CreateTweetV2', { variables: { tweet_text: 'Amelia' } }).out, 'sent');
  assert.equal(send('https://api.x.com/3/posts', { text: 'Hello' }).out, 'sent');
  await settle();
  assert.deepEqual(asked.map((r) => r.what), ['network-unchecked', 'network-unchecked', 'network-unchecked']);
  assert.match(asked[0].detail, /matches no network guard rule/);
  assert.equal(asked[0].text, 'Amelia Thornbury');
  assert.equal(chrome.stored.networkGuard.unmatched, 3);
  // Not looked at: no text, a GET, a direct message, another site.
  assert.equal(send('https://x.com/i/api/graphql/q/FavoriteTweet', { variables: { tweet_id: '1' } }).out, 'sent');
  assert.equal(send('https://x.com/i/api/1.1/dm/new2.json', { text: 'hi' }).out, 'sent');
  assert.equal(send('https://example.com/i/api/2/posts', { text: 'hi' }).out, 'sent');
  assert.equal(guard.seen({ requestId: 'g', method: 'GET', url: 'https://x.com/i/api/2/posts', requestBody: bytes('{"text":"x"}') }), null);
  await settle();
  assert.equal(asked.length, 3);
  assert.equal(isXApi('https://x.com/i/api/1.1/dm/new2.json'), false);
  assert.equal(isXApi('https://api.x.com/anything'), true);
  assert.equal(isXApi('https://x.com/home'), false);
});

test('blocking mode: a call no rule covers is recorded, never cancelled', async () => {
  const { guard, asked, settle } = setUp({ blocking: true });
  await guard.ready;
  const details = { requestId: 'u', tabId: 5, method: 'POST', url: 'https://x.com/i/api/graphql/q/PostTweetNew', requestBody: bytes('{"variables":{"tweet_text":"x"}}') };
  assert.deepEqual(guard.onBlockingRequest(details), {});
  guard.onSent(details);
  await settle();
  assert.equal(asked[0].what, 'network-unchecked');
});

test('Press again lets out only what was checked: a photo, poll or quote added afterwards is held (rules mode)', async () => {
  const { chrome, guard, request, settle, asked, logouts } = setUp();
  request('Sports day was great');
  await settle();
  assert.equal(chrome.sent.at(-1).phase, 'allowed');
  assert.equal(chrome.sent.at(-1).text, 'Sports day was great'); // for network-held.js to compare with the box
  assert.equal((await guard.arm({}, tab())).ok, true);
  const photo = { media: { media_entities: [{ media_id: '77' }] } };
  assert.equal(request('Sports day was great', { variables: photo }).out, 'sent'); // the allow rule cannot read bodies
  await settle();
  assert.equal(asked.at(-1).what, 'network-mismatch');
  assert.equal(logouts(), 1);
  for (const variables of [{ card_uri: 'card://1' }, { attachment_url: 'https://x.com/a/status/1' }]) {
    const again = setUp();
    again.request('Sports day was great');
    await again.settle();
    await again.guard.arm({}, tab());
    again.request('Sports day was great', { variables });
    await again.settle();
    assert.equal(again.asked.at(-1).what, 'network-mismatch', JSON.stringify(variables));
  }
});

test('Press again in blocking mode: a photo and poll added after the check are cancelled', async () => {
  const { guard, request, settle, asked, logouts } = setUp({ blocking: true });
  await guard.ready;
  request('Sports day was great');
  await settle();
  assert.equal((await guard.arm({}, tab())).ok, true);
  const { out, cancelled } = request('Sports day was great', { variables: { media: { media_entities: [{ media_id: '77' }] }, card_uri: 'card://1' } });
  assert.equal(out, 'blocked');
  assert.ok(cancelled);
  await settle();
  assert.equal(asked.at(-1).what, 'network-mismatch');
  assert.equal(logouts(), 1);
});

test('a held post that goes out signs the browser out like any post; a held scheduled post or draft does not', async () => {
  const { guard, request, settle, posted } = setUp();
  request('Year 4 planted sunflowers');
  await settle();
  await guard.arm({}, tab());
  assert.equal(request('Year 4 planted sunflowers').out, 'sent');
  await settle();
  // The text that went out travels with it, for the audit's post row (protocol 'posted').
  assert.deepEqual(posted, [{ account: { handle: 'OakfieldPrimary', user_id: '1' }, action: 'post', texts: ['Year 4 planted sunflowers'] }]);
  for (const op of ['CreateScheduledTweet', 'CreateDraftTweet']) {
    request('Trip tomorrow', { op });
    await settle();
    assert.equal((await guard.arm({}, tab())).ok, true, op);
    assert.equal(request('Trip tomorrow', { op }).out, 'sent', op);
    await settle();
  }
  assert.equal(posted.length, 1);
  // A post the composer guard approved is signed out by the composer guard (after X's toast), not here.
  await guard.approve({ texts: ['ordinary'] }, tab());
  request('ordinary');
  await settle();
  assert.equal(posted.length, 1);
});

test('an expired allowance is removed by the alarm, even after the worker (and its timer) died', async () => {
  const first = setUp();
  await first.guard.ready;
  await first.guard.approve({ texts: ['approved'] }, tab());
  const left = first.chrome.stored.networkGuardAllowances;
  assert.equal(left.length, 1);
  assert.equal(left[0].expires, 1_000_000 + 10_000);
  assert.deepEqual(first.chrome.alarmsSet.get(ALARM), { when: 1_010_000 });
  // A new worker, 5 s later: the allowance has not expired, so it is taken back with its texts.
  const second = setUp({ leftover: first.chrome.session, stored: first.chrome.stored, clock: 1_005_000 });
  await second.guard.ready;
  assert.equal(second.chrome.session.length, OPERATIONS.post.length);
  assert.equal(second.guard.allowances.get(5).items[0].text, 'approved');
  assert.deepEqual(second.chrome.alarmsSet.get(ALARM), { when: 1_010_000 });
  // Its timer is gone with it (simulated): the alarm fires after the expiry and removes the rules.
  clearTimeout(second.guard.timers.get(5));
  second.tick(6_000);
  second.chrome.alarms.onAlarm.listeners.forEach(({ fn }) => fn({ name: ALARM }));
  await second.settle();
  assert.deepEqual(second.chrome.session, []);
  assert.deepEqual(second.chrome.stored.networkGuardAllowances, []);
  assert.equal(second.chrome.alarmsSet.has(ALARM), false);
  // A new worker after the expiry: nothing is taken back.
  const third = setUp({ leftover: first.chrome.session, stored: first.chrome.stored, clock: 1_020_000 });
  await third.guard.ready;
  assert.deepEqual(third.chrome.session, []);
  assert.equal(third.guard.allowances.size, 0);
});

test('a leftover allow rule with no stored allowance is removed at start', async () => {
  const { chrome, guard } = setUp({ leftover: [{ id: 1007, action: { type: 'allow' }, condition: {} }], stored: { networkGuardAllowances: [{ tabId: 5, id: 1000, ruleIds: [1000], items: [], expires: 2e12 }] } });
  await guard.ready;
  assert.deepEqual(chrome.session, []);
});

test('a mismatch signs out before the incident is recorded: a slow helper or silent tab does not delay it', async () => {
  const { guard, request, settle, order, logouts } = setUp({ slowHelper: true });
  await guard.approve({ texts: ['Year 4 won'] }, tab());
  request('Amelia Thornbury lives at 12 Oak Lane');
  await settle();
  assert.equal(logouts(), 1);
  assert.deepEqual(order, ['logout', 'incident']); // the incident is still waiting for the helper
  const silent = setUp({ slowHelper: true, tabSilent: true });
  await silent.guard.approve({ texts: ['Year 4 won'] }, tab());
  silent.request('Amelia Thornbury lives at 12 Oak Lane');
  await new Promise((resolve) => setTimeout(resolve, 600)); // the tab is asked for 500 ms at most
  assert.equal(silent.logouts(), 1);
});

test('every message to the teacher says what is wrong and what to do, in one plain line', async () => {
  const { guard, chrome, request, settle } = setUp();
  const refusals = [
    await guard.approve({ action: 'repost', texts: [], text: '' }, tab()),
    await guard.approve({ action: 'repost', tweet_id: '' }, tab()),
    await guard.approve({ texts: ['x'] }, {}),
    await guard.approve({ texts: [] }, tab()),
    await guard.approve({ texts: ['x'], operation: 'DeleteTweet' }, tab()),
  ];
  assert.match(refusals[0].error.message, /could not tell which post is being reposted.*Open the post itself and repost it/);
  assert.doesNotMatch(refusals[0].error.message, /Press Post|no text|\(/);
  for (const { ok, error } of refusals) {
    assert.equal(ok, false);
    assert.doesNotMatch(error.message, /\n|\(|tab\b.*\)|undefined/);
    assert.ok(error.message.split('. ').length >= 2, error.message); // what is wrong. what to do.
  }
  // A held repost names the Repost button, not Post.
  request(null, { op: 'CreateRetweet', body: bytes('{"variables":{"tweet_id":"1"}}') });
  await settle();
  assert.match(chrome.sent.at(-1).message, /Repost it from the post itself, with X's Repost button\./);
  for (const m of chrome.sent.filter((x) => x.message)) assert.doesNotMatch(m.message, /\n/);
});

test('an approval lasts longer for a longer thread, within a limit', async () => {
  assert.equal(approvalTtl(1), 10_000);
  assert.equal(approvalTtl(3), 20_000);
  assert.equal(approvalTtl(50), 60_000);
  const { guard, request, settle, tick, asked } = setUp();
  const reply = await guard.approve({ texts: ['one', 'two', 'three'] }, tab());
  assert.equal(reply.expiresInMs, 20_000);
  assert.equal(request('one').out, 'sent');
  tick(15_000); // past the single-post window, within the thread's
  assert.equal(request('two').out, 'sent');
  await settle();
  assert.deepEqual(asked, []);
});

test('the rest of a thread whose approval ran out is held with a message that says so, and checked again', async () => {
  const { chrome, guard, request, settle, tick, asked } = setUp();
  await guard.approve({ texts: ['one', 'two'] }, tab());
  assert.equal(request('one').out, 'sent');
  tick(15_001);
  request('two', { outcome: 'blocked' });
  await settle();
  const held = chrome.sent.find((m) => m.phase === 'held');
  assert.equal(held.timedOut, true);
  const allowed = chrome.sent.at(-1);
  assert.equal(allowed.phase, 'allowed');
  assert.match(allowed.message, /^tweetguard held the rest of this thread because it took too long to go out\. .*press Post again/);
  assert.deepEqual(asked.map((r) => r.type), ['incident', 'check']);
  assert.match(asked[0].detail, /approval ran out/);
  assert.equal((await guard.arm({}, tab())).ok, true);
  assert.equal(request('two').out, 'sent');
  // Another text after that is an ordinary held post.
  request('three');
  await settle();
  assert.equal(chrome.sent.filter((m) => m.phase === 'held').at(-1).timedOut, false);
});
