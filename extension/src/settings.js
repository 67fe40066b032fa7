// The extension's settings: built-in defaults, then what IT pushes through the
// browser (chrome.storage.managed, see managed_schema.json), then the school's
// policy file as the helper reports it in `hello`. The policy file wins where it
// sets a value itself (`settings_set`).

export const DEFAULTS = Object.freeze({
  confirm_account: false,
  logout_after_post: true,
  idle_logout_minutes: 10,
  logout_on_lock: true,
  allow_warn_override: true,
  allow_block_override: false,
  support_contact: "your school's IT lead",
});

// managed_schema.json uses camelCase, as Chrome policy names do.
const MANAGED_KEYS = Object.freeze({
  confirmAccount: 'confirm_account',
  logoutAfterPost: 'logout_after_post',
  idleLogoutMinutes: 'idle_logout_minutes',
  logoutOnLock: 'logout_on_lock',
  allowWarnOverride: 'allow_warn_override',
  allowBlockOverride: 'allow_block_override',
  supportContact: 'support_contact',
});

export function mergeSettings(managed = {}, hello = null) {
  const merged = { ...DEFAULTS };
  const helperSettings = (hello && hello.ok && hello.settings) || {};
  for (const key of Object.keys(DEFAULTS)) {
    if (key in helperSettings) merged[key] = helperSettings[key];
  }
  const setByPolicy = new Set((hello && hello.settings_set) || []);
  for (const [managedKey, key] of Object.entries(MANAGED_KEYS)) {
    if (managed[managedKey] !== undefined && !setByPolicy.has(key)) merged[key] = managed[managedKey];
  }
  return merged;
}

/** The native host name: IT may point the extension at another install's host. */
export function hostName(managed = {}) {
  return typeof managed.helperName === 'string' && managed.helperName ? managed.helperName : null;
}

/** The school's server, for machines without the helper (Chromebooks): with
 * `serverUrl` set in managed storage the extension asks the server instead of a
 * native host, enrolling once with `enrolmentToken` (docs/server-api.md).
 *
 * A `serverUrl` that is set but unusable still chooses the server, with `problem`
 * (one line naming the setting): the posts are held, rather than sent in the clear
 * or to a native host a Chromebook does not have. Plain http only for a server on
 * this machine, as helper/tweetguard/sync/client.py check_url. */
export function serverConfig(managed = {}) {
  const { serverUrl, enrolmentToken } = managed;
  if (serverUrl === undefined || serverUrl === null || serverUrl === '') return null;
  const token = typeof enrolmentToken === 'string' ? enrolmentToken : '';
  const given = typeof serverUrl === 'string' ? serverUrl.trim() : String(serverUrl);
  const problem = serverUrlProblem(given);
  if (problem) return { serverUrl: given, enrolmentToken: token, problem };
  return { serverUrl: given.replace(/\/+$/, ''), enrolmentToken: token };
}

/** True for this machine: localhost, 127.x.x.x, [::1]. */
export function isLoopback(hostname) {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

function serverUrlProblem(given) {
  let url;
  try {
    url = new URL(given);
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || !url.hostname) {
    return `The serverUrl setting (${given}) is not a server address, so this post is held; ask IT to set serverUrl to https://SERVER in the extension's policy.`;
  }
  if (url.search || url.hash || url.username || url.password) {
    return `The serverUrl setting has more than a server address, so this post is held; ask IT to set serverUrl to just https://SERVER in the extension's policy.`;
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    return `The serverUrl setting (${given}) is not encrypted, so this post is held; ask IT to set serverUrl to https:// (plain http only for a server on this machine).`;
  }
  return null;
}
