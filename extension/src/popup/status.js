// What the popup says about how well this browser is protected: installed by
// school policy or not, and how the network guard (src/network-guard.js) works.
// Plain functions so the wording is tested without a browser (test/popup-status.test.js).

export const DEPLOY_HELP = 'see “How IT deploys it” in the tweetguard README';

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
