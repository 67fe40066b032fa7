// What the popup says about how well this browser is protected: installed by
// school policy or not, and how the network guard (src/network-guard.js) works.
// Plain functions so the wording is tested without a browser (test/popup-status.test.js).

export const DEPLOY_HELP = 'see “How IT deploys it” in the tweetguard README';
export const ASK_IT = 'Ask IT: run tweetguard doctor';

// The helper row when the helper cannot be reached, by which link is broken
// (helper-client.js's error kinds). Each says posts are held and what to do.
const HELPER_PROBLEMS = {
  not_installed: `Not installed for this browser, so posts are held. ${ASK_IT}`,
  refused: `Installed for another extension, so it refused this one and posts are held. ${ASK_IT}`,
  crashed: `Stopped before it answered (crashed or could not start), so posts are held. ${ASK_IT}`,
  no_answer: `Not answering, so posts are held. Try again; if it keeps happening: ${ASK_IT}`,
  unknown: `Not running, so posts are held. ${ASK_IT}`,
};

/** `self` is chrome.management.getSelf()'s answer (no "management" permission
 * needed), or null when it could not be read. Policy installs are 'admin'. */
export function policyLine(self) {
  if (self && self.installType === 'admin') {
    return { text: 'Installed by school policy', tone: 'good' };
  }
  if (!self) {
    return { text: `Cannot tell if school policy installed tweetguard (${DEPLOY_HELP})`, tone: 'bad' };
  }
  return {
    text: `This computer is not protected by school policy: IT can force-install tweetguard (${DEPLOY_HELP})`,
    tone: 'bad',
  };
}

/** `status` is chrome.storage.session's `networkGuard` ({mode, ...}), or undefined
 * before the network guard has started (then the row is hidden: null). */
export function guardLine(status) {
  if (!status || !status.mode) return null;
  if (status.mode === 'blocking') return { text: 'On: checks the text of every post sent', tone: 'good' };
  if (status.mode === 'rules') return { text: 'On: stops posts that were not checked', tone: '' };
  return { text: `On (${status.mode})`, tone: '' };
}

/** `audit` is the hello reply's {shared, ok, note}, or undefined from a helper too
 * old to say. Hidden (null) while this browser writes the school's shared audit. */
export function auditLine(audit) {
  if (!audit || typeof audit.note !== 'string') return null;
  if (audit.ok === false) return { text: audit.note, tone: 'bad' };
  if (audit.shared) return null;
  return { text: audit.note, tone: '' };
}

/** When `iso` was, for one line: "09:14" today, else "28 Nov 09:14" (local time). */
export function clockTime(iso, now = new Date()) {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return null;
  const pad = (n) => String(n).padStart(2, '0');
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}`;
  if (at.toDateString() === now.toDateString()) return time;
  const month = at.toLocaleString('en-GB', { month: 'short' });
  return `${at.getDate()} ${month} ${time}`;
}

/** `helper` is the worker's status().helper: {ok, version, ...} or {ok: false,
 * message, problem}. `problem` is the broken link (null when the helper answered
 * with a problem of its own, or the school's server did: its message is shown). */
export function helperLine(helper) {
  if (helper && helper.ok) return { text: `Running (version ${helper.version})`, tone: 'good' };
  const problem = helper && HELPER_PROBLEMS[helper.problem];
  if (problem) return { text: problem, tone: 'bad' };
  const message = helper && typeof helper.message === 'string' && helper.message ? helper.message : HELPER_PROBLEMS.unknown;
  return { text: message, tone: 'bad' };
}

/** `sync` is the hello reply's `server` ({url, state, since, note}) from a helper
 * enrolled with the school's server, or undefined when it is not enrolled (then the
 * row is hidden: null). One line: up to date, working offline since when, or the
 * server's refusal in the helper's own words. */
export function syncLine(sync, now = new Date()) {
  if (!sync || typeof sync.state !== 'string') return null;
  const note = typeof sync.note === 'string' ? sync.note : '';
  if (sync.state === 'online') {
    let host = '';
    try {
      host = new URL(sync.url).host;
    } catch {
      host = '';
    }
    return { text: `Up to date with the school's server${host ? ` (${host})` : ''}`, tone: 'good' };
  }
  if (sync.state === 'offline') {
    const since = sync.since ? clockTime(sync.since, now) : null;
    if (!since) return { text: note || "Not synced with the school's server yet", tone: 'warn' };
    return { text: `Working offline since ${since} on the school's last policy`, tone: 'warn' };
  }
  return { text: note || "The school's server refused this computer: ask IT", tone: 'bad' };
}
