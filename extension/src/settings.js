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
 * native host, enrolling once with `enrolmentToken` (docs/server-api.md). */
export function serverConfig(managed = {}) {
  const { serverUrl, enrolmentToken } = managed;
  if (typeof serverUrl !== 'string' || !/^https?:\/\/[^/]/i.test(serverUrl)) return null;
  return { serverUrl: serverUrl.replace(/\/+$/, ''), enrolmentToken: typeof enrolmentToken === 'string' ? enrolmentToken : '' };
}
