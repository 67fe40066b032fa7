// One native messaging port to the tweetguard helper, shared by every tab.
//
// Every failure to reach the helper becomes an ordinary error reply, so callers
// have one path: anything but {ok: true} holds the post (fail closed).

export const HOST_NAME = 'org.tweetguard.helper';
export const TIMEOUT_MS = 5000;

export const HELPER_UNAVAILABLE = 'helper_unavailable';
const UNAVAILABLE_MESSAGE =
  "The tweetguard safety helper is not running, so this post is held. " +
  "Ask your school's IT lead to install or restart tweetguard.";
const NO_ANSWER_MESSAGE =
  "The tweetguard safety helper did not answer, so this post is held. " +
  "Try again; if it keeps happening, ask your school's IT lead.";

export function unavailable(detail, message = UNAVAILABLE_MESSAGE) {
  return { ok: false, error: { code: HELPER_UNAVAILABLE, message, detail: String(detail || '') } };
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
        resolve(unavailable(`no answer within ${timeoutMs} ms`, NO_ANSWER_MESSAGE));
        // A helper that stops answering is restarted on the next request.
        this.drop(port, 'helper stopped answering');
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
    port.onDisconnect.addListener(() => {
      const reason = (this.runtime.lastError && this.runtime.lastError.message) || 'helper exited';
      this.drop(port, reason);
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
