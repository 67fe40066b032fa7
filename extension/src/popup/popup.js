// The toolbar popup: is the helper running (if not, which link is broken), who is
// signed in, when idle sign-out comes, whether school policy installed tweetguard
// and how the network guard works.

import { auditLine, guardLine, helperLine, policyLine, syncLine } from './status.js';

function send(message) {
  return chrome.runtime.sendMessage(message);
}

function minutes(ms) {
  const total = Math.ceil(ms / 1000);
  const m = Math.floor(total / 60);
  const s = total % 60;
  return m ? `${m} min ${s} s` : `${s} s`;
}

function show(id, text, tone) {
  const node = document.getElementById(id);
  node.textContent = text;
  node.className = tone || '';
}

async function installedBy() {
  let self = null;
  try {
    self = await chrome.management.getSelf();
  } catch {
    self = null;
  }
  const line = policyLine(self);
  show('policy', line.text, line.tone);
}

async function networkGuard() {
  let status;
  try {
    ({ networkGuard: status } = await chrome.storage.session.get('networkGuard'));
  } catch {
    status = undefined;
  }
  const line = guardLine(status);
  for (const id of ['guard-label', 'guard']) document.getElementById(id).hidden = !line;
  if (line) show('guard', line.text, line.tone);
}

async function refresh() {
  const status = await send({ kind: 'tweetguard:status' });
  if (status.helper.ok && status.server) {
    show('helper', `Checked by the school's server ${status.server}`, 'good');
    show('school', status.helper.school);
  } else {
    // Not reachable: which link is broken, and "ask IT: run tweetguard doctor".
    const line = helperLine(status.helper);
    show('helper', line.text, line.tone);
    if (status.helper.ok) show('school', status.helper.school);
  }
  // Said only when this browser is not recording to the school's shared audit log.
  const audit = status.helper.ok ? auditLine(status.helper.audit) : null;
  for (const id of ['audit-label', 'audit']) document.getElementById(id).hidden = !audit;
  if (audit) show('audit', audit.text, audit.tone);
  // Said only when the helper is enrolled with the school's server.
  const sync = status.helper.ok ? syncLine(status.helper.sync) : null;
  for (const id of ['sync-label', 'sync']) document.getElementById(id).hidden = !sync;
  if (sync) show('sync', sync.text, sync.tone);
  const account = status.account;
  show('account', account && account.handle ? `@${account.handle}` : 'Nobody (or not seen yet)');
  const minutesSetting = status.settings.idle_logout_minutes;
  if (!(minutesSetting > 0)) show('idle', 'Off');
  else if (status.idleLeftMs === null) show('idle', `After ${minutesSetting} idle minutes`);
  else show('idle', `In ${minutes(status.idleLeftMs)} without activity`);
}

document.getElementById('logout').addEventListener('click', async () => {
  await send({ kind: 'tweetguard:logout' });
  await refresh();
});

installedBy();
networkGuard();
refresh();
setInterval(() => {
  networkGuard();
  refresh();
}, 1000);
