// One native messaging port to the tweetguard helper, shared by every tab.
//
// Every failure to reach the helper becomes an ordinary error reply, so callers
// have one path: anything but {ok: true} holds the post (fail closed). The reply
// says which link is broken (`error.kind`, below), so the panel and the popup tell
// "not installed" from "refused this extension" from "crashed", each with the one
// thing to do: ask IT to run `tweetguard doctor` (docs/doctor.md).

export const HOST_NAME = 'org.tweetguard.helper';
export const TIMEOUT_MS = 5000;

export const HELPER_UNAVAILABLE = 'helper_unavailable';

// Why the helper could not be reached: `error.kind` of a helper_unavailable reply.
export const NOT_INSTALLED = 'not_installed'; // no manifest the browser accepts for this host name
export const REFUSED = 'refused'; // a manifest (or the helper) that allows another extension id
export const CRASHED = 'crashed'; // started, then exited or broke the protocol, or could not start
export const NO_ANSWER = 'no_answer'; // running, but no reply within the time limit
export const UNKNOWN = 'unknown';

const DOCTOR = "ask your school's IT lead to run tweetguard doctor.";

const MESSAGES = {
  [NOT_INSTALLED]:
    'The tweetguard safety helper is not running, so this post is held. ' +
    `It is not installed for this browser: ${DOCTOR}`,
  firefoxNotFound:
    'The tweetguard safety helper is not running, so this post is held. ' +
    `It is not installed for this browser, or not for this add-on: ${DOCTOR}`,
  [REFUSED]:
    'The tweetguard safety helper refused this browser extension, so this post is held. ' +
    `It was installed for another extension: ${DOCTOR}`,
  [CRASHED]:
    'The tweetguard safety helper stopped before it answered (it crashed or could not start), ' +
    `so this post is held. Try again; if it keeps happening, ${DOCTOR}`,
  [NO_ANSWER]:
    'The tweetguard safety helper did not answer, so this post is held. ' +
    `Try again; if it keeps happening, ${DOCTOR}`,
  [UNKNOWN]: `The tweetguard safety helper is not running, so this post is held. Ask your school's IT lead to run tweetguard doctor.`,
};

// What a port's disconnect says, from the browsers' own sources (exact wording):
// Chromium extensions/browser/api/messaging/native_message_host.cc, Firefox
// toolkit/components/extensions/NativeMessaging.sys.mjs. A port that closes with
// no error at all is Firefox's word for a host that exited (end of file).
export const EXITED = 'the helper exited';
// Why the requests still waiting fail when one of them timed out and the port was dropped.
export const STOPPED_ANSWERING = 'the helper stopped answering';
const REASONS = [
  // Chromium: no manifest in any folder it reads (or one it cannot parse, or
  // whose path is not absolute); Windows: no registry key names one.
  [/Specified native messaging host not found/i, NOT_INSTALLED],
  [/native messaging host .* is not registered/i, NOT_INSTALLED],
  [/Invalid native messaging host name specified/i, NOT_INSTALLED],
  // Chromium: the manifest's allowed_origins lacks this extension, or policy
  // (NativeMessagingBlocklist) forbids the host.
  [/Access to the specified native messaging host is forbidden/i, REFUSED],
  [/Native host has exited/i, CRASHED],
  [/Error when communicating with the native messaging host/i, CRASHED],
  [/Failed to start native messaging host/i, CRASHED],
  // Firefox says the same for a missing manifest and one whose allowed_extensions
  // lacks this add-on (so as not to tell add-ons which hosts exist).
  [/No such native application/i, NOT_INSTALLED, 'firefoxNotFound'],
  [/Attempt to postMessage on disconnected port/i, CRASHED],
  [/Attempting to use a disconnected port object/i, CRASHED],
  [/An unexpected error occurred/i, CRASHED],
  [new RegExp(`^${EXITED}$`), CRASHED],
  [new RegExp(`^${STOPPED_ANSWERING}$`), NO_ANSWER],
];

/** The kind of failure (and its message) a browser's disconnect reason names. */
export function classify(reason) {
  const text = String(reason || '');
  for (const [pattern, kind, message] of REASONS) {
    if (pattern.test(text)) return { kind, message: MESSAGES[message || kind] };
  }
  return { kind: UNKNOWN, message: MESSAGES[UNKNOWN] };
}

export function unavailable(detail, message, kind) {
  const reason = String(detail || '');
  const known = classify(reason);
  const error = { code: HELPER_UNAVAILABLE, message: message || known.message, detail: reason };
  // A caller's own message (the school's server) names its own problem: no kind.
  const why = kind || (message ? null : known.kind);
  if (why) error.kind = why;
  return { ok: false, error };
}

/** Which link is broken for a reply that is not ok: a kind above, or null when the
 * helper answered with a problem of its own (a broken policy, say). The helper's own
 * `forbidden_origin` (its launcher allows another id) is a refusal too. */
export function problemKind(reply) {
  const error = reply && reply.error;
  if (!error) return null;
  if (error.code === 'forbidden_origin') return REFUSED;
  if (error.code === HELPER_UNAVAILABLE) return error.kind || null;
  return null;
}

export class HelperClient {
  constructor(runtime, { hostName = HOST_NAME, timeoutMs = TIMEOUT_MS } = {}) {
    this.runtime = runtime;
    this.hostName = hostName;
    this.timeoutMs = timeoutMs;
    this.port = null;
    this.nextId = 1;
    this.pending = new Map();
  }

  /** `timeoutMs` overrides the client's limit for one request: the last chunk of a
   * photo is answered only once the helper has analysed it. `onProgress({done, total})`
   * hears the helper's progress frames for this request while it waits. */
  request(message, { timeoutMs = this.timeoutMs, onProgress = null } = {}) {
    return new Promise((resolve) => {
      let port;
      try {
        port = this.connect();
      } catch (error) {
        resolve(unavailable(error && error.message));
        return;
      }
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(unavailable(`no answer within ${timeoutMs} ms`, MESSAGES[NO_ANSWER], NO_ANSWER));
        // A helper that stops answering is restarted on the next request.
        this.drop(port, STOPPED_ANSWERING);
      }, timeoutMs);
      const settle = (reply) => {
        clearTimeout(timer);
        resolve(reply);
      };
      settle.onProgress = onProgress;
      this.pending.set(id, settle);
      try {
        port.postMessage({ ...message, id });
      } catch (error) {
        this.drop(port, error && error.message);
      }
    });
  }

  connect() {
    if (this.port) return this.port;
    const port = this.runtime.connectNative(this.hostName);
    port.onMessage.addListener((reply) => this.onReply(reply));
    port.onDisconnect.addListener((closed) => {
      // Chromium says why in runtime.lastError; Firefox in the port's `error`.
      const lastError = this.runtime.lastError && this.runtime.lastError.message;
      const portError = closed && closed.error && closed.error.message;
      this.drop(port, lastError || portError || EXITED);
    });
    this.port = port;
    return port;
  }

  onReply(reply) {
    if (isProgress(reply)) {
      this.onProgress(reply);
      return;
    }
    const settle = reply && this.pending.get(reply.id);
    if (!settle) return; // a late answer to a request we already gave up on
    this.pending.delete(reply.id);
    settle(reply);
  }

  // A progress frame is not a reply: it names the request it is about in `for`
  // and leaves that request waiting for its real answer.
  onProgress(frame) {
    const settle = this.pending.get(frame.for);
    if (!settle || !settle.onProgress) return;
    const total = frame.total;
    const done = Math.min(frame.done, total);
    try {
      settle.onProgress({ done, total });
    } catch {
      // a listener's failure must not cost the request its answer
    }
  }

  drop(port, reason) {
    if (this.port !== port) return;
    this.port = null;
    try {
      port.disconnect();
    } catch {
      // already gone
    }
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const settle of waiting) settle(unavailable(reason));
  }
}

/** `{"type": "progress", "for": <request id>, "done": n, "total": m}` with no `id`. */
export function isProgress(frame) {
  return (
    Boolean(frame) &&
    frame.type === 'progress' &&
    frame.id === undefined &&
    (typeof frame.for === 'number' || typeof frame.for === 'string') &&
    Number.isInteger(frame.done) &&
    Number.isInteger(frame.total) &&
    frame.done >= 0 &&
    frame.total > 0
  );
}
