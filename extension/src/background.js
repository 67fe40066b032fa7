// The extension's service worker: the only place that talks to the helper, and
// the one that signs the browser out of X (after a post, when idle, on lock).
import { HelperClient, HOST_NAME, problemKind } from './helper-client.js';
import { ServerClient } from './server-client.js';
import { MediaClient } from './media-client.js';
import { progressToTab } from './progress.js';
import { clearXData } from './logout.js';
import { hostName, mergeSettings, serverConfig } from './settings.js';
import { NetworkGuard } from './network-guard.js';

const VERSION = chrome.runtime.getManifest().version;
const IDLE_ALARM = 'tweetguard-idle';

let managed = {};
let helper = null;
let media = null; // photos on their way to the helper, and its reports (by SHA-256)
let hello = null; // the last hello reply, ok or not
let helloAt = 0;
let idleTimer = null;
// The policy file can change while the browser runs: ask again after this long.
const HELLO_TTL_MS = 10_000;

// Managed settings first: IT may name another native host, or the school's server
// (Chromebooks: no native host there; server-client.js speaks the same protocol). Chromium can take
// seconds to answer when no policy is set at all, so a post does not wait for it
// past MANAGED_WAIT_MS; a late answer still applies (onChanged, below).
const MANAGED_WAIT_MS = 300;

function useManaged(values) {
  managed = values || {};
  const server = serverConfig(managed);
  const name = server ? `server:${server.serverUrl}` : hostName(managed) || HOST_NAME;
  // A new enrolment token is how IT enrols again a Chromebook it removed.
  const newToken = server && helper instanceof ServerClient && helper.enrolmentToken !== server.enrolmentToken;
  if (!helper || helper.hostName !== name || newToken) {
    helper = server
      ? new ServerClient({ ...server, storage: chrome.storage.local, version: VERSION })
      : new HelperClient(chrome.runtime, { hostName: name });
    media = new MediaClient(helper);
    hello = null;
    // A Chromebook enrols with the school's token at its first start, not at its
    // first post: the dashboard lists it, and a refused token shows in the popup.
    if (server) sayHello().catch(() => {});
  }
}

const ready = (async () => {
  const read = chrome.storage.managed.get(null).then(
    (values) => useManaged(values),
    () => useManaged({}), // no managed storage (Firefox without policies)
  );
  await Promise.race([read, new Promise((resolve) => setTimeout(resolve, MANAGED_WAIT_MS))]);
  if (!helper) useManaged({});
})();

chrome.storage.onChanged.addListener((_changes, area) => {
  if (area === 'managed') chrome.storage.managed.get(null).then(useManaged, () => {});
});

async function sayHello() {
  await ready;
  const reply = await helper.request({ type: 'hello', extension_version: VERSION });
  hello = reply;
  helloAt = Date.now();
  return reply;
}

async function settings() {
  await ready;
  if (!hello || !hello.ok || Date.now() - helloAt > HELLO_TTL_MS) await sayHello();
  const merged = mergeSettings(managed, hello);
  // Callers hold posts when the helper's settings could not be read.
  return hello && hello.ok ? merged : { ...merged, ok: false };
}

// The idle clock survives the browser closing (local storage): X's cookies do
// too, so a browser reopened hours later must still sign out. Confirmations last
// one browser session (session storage, never written to disk).
async function session() {
  const local = await chrome.storage.local.get({ lastActivity: Date.now(), xSeen: false, account: null });
  const { confirmed } = await chrome.storage.session.get({ confirmed: [] });
  return { ...local, confirmed };
}

async function noteActivity(account) {
  // Only a page that shows a signed-in account starts the idle clock: the login
  // page after a sign-out must not lead to another sign-out.
  if (!account || !(account.handle || account.user_id)) return;
  await chrome.storage.local.set({ lastActivity: Date.now(), xSeen: true, account });
  await scheduleIdle();
}

async function scheduleIdle() {
  const { idle_logout_minutes: minutes } = await settings();
  clearTimeout(idleTimer);
  if (!(minutes > 0)) return;
  const { lastActivity, xSeen } = await session();
  if (!xSeen) {
    chrome.alarms.clear(IDLE_ALARM);
    return;
  }
  const due = lastActivity + minutes * 60_000 - Date.now();
  idleTimer = setTimeout(checkIdle, Math.max(0, due));
  // The timer dies with the worker; the alarm wakes it to look again.
  chrome.alarms.create(IDLE_ALARM, { periodInMinutes: 1 });
}

async function checkIdle() {
  const { idle_logout_minutes: minutes } = await settings();
  const { lastActivity, xSeen, account } = await session();
  if (!xSeen || !(minutes > 0)) return;
  if (Date.now() - lastActivity >= minutes * 60_000) {
    await logout('idle', account);
  } else {
    await scheduleIdle();
  }
}

async function logout(reason, account) {
  await clearXData(chrome.browsingData, chrome.runtime);
  await chrome.storage.local.set({ xSeen: false, account: null });
  await chrome.storage.session.set({ confirmed: [] });
  chrome.alarms.clear(IDLE_ALARM);
  clearTimeout(idleTimer);
  await ready;
  // The record is best effort: the browser is signed out whether or not the helper answers.
  await helper.request({ type: 'logout', reason, account: account || undefined });
  const tabs = await chrome.tabs.query({});
  for (const tab of tabs) {
    chrome.tabs.sendMessage(tab.id, { kind: 'tweetguard:logged-out', reason }).catch(() => {});
  }
  return { loggedOut: true, reason };
}

async function status() {
  const reply = await sayHello();
  const current = await settings();
  const { lastActivity, xSeen, account } = await session();
  const minutes = current.idle_logout_minutes;
  return {
    helper: reply.ok
      ? { ok: true, school: reply.school, version: reply.helper_version, policy: reply.policy, audit: reply.audit, sync: reply.server }
      : { ok: false, message: reply.error.message, problem: problemKind(reply) },
    // Chromebooks: the school's server checks the posts (the popup says which).
    server: helper instanceof ServerClient ? helper.host : null,
    account,
    settings: current,
    idleLeftMs: xSeen && minutes > 0 ? Math.max(0, lastActivity + minutes * 60_000 - Date.now()) : null,
  };
}

// The bytes of a photo stay in the tab that attached it; the media client pulls
// them a chunk at a time (and again if the helper restarts and forgets them).
function tabReader(sender, sha256) {
  const tabId = sender.tab && sender.tab.id;
  const options = typeof sender.frameId === 'number' ? { frameId: sender.frameId } : {};
  return async (offset, length) => {
    if (tabId === undefined) throw new Error('no tab');
    const reply = await chrome.tabs.sendMessage(tabId, { kind: 'tweetguard:media-read', sha256, offset, length }, options);
    if (!reply || typeof reply.data !== 'string') throw new Error((reply && reply.error) || 'the tab no longer has this file');
    return reply.data;
  };
}

const MEDIA_TYPES = new Set(['check', 'override']);

// How long the after-post sign-out waits for the helper to record the post.
const POSTED_WAIT_MS = 3000;

// Tells the helper what went out, for the audit's post row. Never throws and never
// waits long: a helper that is down or slow must not keep the browser signed in.
async function recordPosted(account, action, texts) {
  if (!Array.isArray(texts) || !texts.length || !texts.every((t) => typeof t === 'string')) return null;
  const request = { type: 'posted', account: account || null, action: action || 'post', texts };
  let timer;
  try {
    return await Promise.race([
      (async () => {
        await ready;
        return helper.request(request);
      })(),
      new Promise((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, error: { code: 'timeout', message: 'no answer in time' } }), POSTED_WAIT_MS);
      }),
    ]);
  } catch (error) {
    return { ok: false, error: { code: 'extension', message: String(error) } };
  } finally {
    clearTimeout(timer);
  }
}

// The after-post sign-out, the one path for every post that went out: one the
// composer guard let go (its 'posted' message, after X's toast) and a held post the
// network guard let go when Post was pressed again. The post is recorded first;
// whatever the helper answers, the sign-out follows.
async function afterPost(account, { action, texts } = {}) {
  const recorded = await recordPosted(account, action, texts);
  if (recorded && recorded.ok === false) console.warn('tweetguard: the post was not recorded:', recorded.error);
  const current = await settings();
  if (!current.logout_after_post) return { loggedOut: false };
  return logout('after-post', account);
}

// The network guard under the composer guard (network-guard.js): its listeners are
// registered now, at the worker's start, so its events wake the worker.
const networkGuard = new NetworkGuard(chrome, {
  ask: async (request) => {
    await ready;
    return helper.request(request);
  },
  logout: async () => {
    const { account } = await session();
    return logout('incident', account);
  },
  // A held post went out (never a scheduled post or draft): as after any post.
  posted: async ({ account, action, texts }) => afterPost(account || (await session()).account, { action, texts }),
}).start();

const handlers = {
  approve: (message, sender) => networkGuard.approve(message, sender),
  'network-arm': (message, sender) => networkGuard.arm(message, sender),
  async ask({ request }) {
    await ready;
    // Noting activity (storage, maybe a hello) must not delay the check itself.
    if (request.type === 'check' && request.account) noteActivity(request.account).catch(() => {});
    if (MEDIA_TYPES.has(request.type) && Array.isArray(request.media) && request.media.length) {
      return media.request(request);
    }
    return helper.request(request);
  },
  async mediaPut({ meta }, sender) {
    await ready;
    const onProgress = progressToTab(chrome.tabs, sender, meta.sha256);
    return media.put(meta, tabReader(sender, meta.sha256), { onProgress });
  },
  async remedy({ type, sha256, faces }, sender) {
    await ready;
    // The progress of matching the new copy's faces is shown on the photo it replaces.
    return media.remedy(type, sha256, faces, { onProgress: progressToTab(chrome.tabs, sender, sha256) });
  },
  settings: () => settings(),
  async activity({ account }) {
    await noteActivity(account);
    return { ok: true };
  },
  posted: ({ account, action, texts }) => afterPost(account, { action, texts }),
  async confirmed({ handle }) {
    if (!handle) return { ok: false };
    const { confirmed } = await session();
    await chrome.storage.session.set({ confirmed: [...new Set([...confirmed, handle])] });
    return { ok: true };
  },
  async isConfirmed({ handle }) {
    const { confirmed } = await session();
    return { confirmed: Boolean(handle) && confirmed.includes(handle) };
  },
  status: () => status(),
  async logout() {
    const { account } = await session();
    return logout('manual', account);
  },
};

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  const kind = message && typeof message.kind === 'string' && message.kind.replace(/^tweetguard:/, '');
  const handler = kind && Object.hasOwn(handlers, kind) ? handlers[kind] : null;
  if (!handler) return false;
  Promise.resolve(handler(message, sender))
    .then(sendResponse)
    .catch((error) => sendResponse({ ok: false, error: { code: 'extension', message: String(error) } }));
  return true; // answer asynchronously
});

chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === IDLE_ALARM) checkIdle();
});

chrome.idle.onStateChanged.addListener(async (state) => {
  if (state !== 'locked') return;
  const current = await settings();
  const { xSeen, account } = await session();
  if (current.logout_on_lock && xSeen) await logout('locked', account);
});

// A browser opened again after its idle time ran out signs out of X at once.
chrome.runtime.onStartup.addListener(() => checkIdle());
