// The school's tweetguard server in place of the native helper, for Chromebooks
// and other machines that cannot run it (docs/server-api.md, docs/privacy.md).
//
// The same interface as HelperClient (helper-client.js): `request(message,
// {timeoutMs, onProgress})` resolves to the reply the helper would give, and every
// failure becomes an ordinary error reply, so the post is held (fail closed), with
// one line naming the server that could not be reached.
//
// How it talks: one WebSocket (`/api/v1/ws`, credential in the first message) with
// replies matched by id and progress frames, as over the native port; when the
// socket cannot open, POST /api/v1/protocol per request, trying the socket again
// after a backoff. The credential comes from enrolling once with the school's
// enrolment token (managed storage), kept in chrome.storage.local.
//
// A device the school removed stays removed: the server's 401 `device_unknown` (or
// 4401 on the socket after the credential was sent) is remembered in
// chrome.storage.local, and the token is not used to enrol again until IT pushes a
// different one (else every removal would just make a new device). The socket URL a
// hello names is used only when it is as safe as serverUrl (wss: on the same host,
// or ws: for a server on loopback); else the HTTPS fallback carries everything.

import { HELPER_UNAVAILABLE, isProgress, unavailable } from './helper-client.js';
import { isLoopback } from './settings.js';

export const TIMEOUT_MS = 5000;
export const STORAGE_KEY = 'tweetguardServer';
export const BACKOFF_MIN_MS = 1000;
export const BACKOFF_MAX_MS = 60_000;
const AUTH_WAIT_MS = 3000; // how long the socket may take to open and accept the credential
const UNAUTHORISED = 4401;

/** The server's host as people know it, e.g. "tweetguard.oakfield.sch.uk". */
export function serverHost(serverUrl) {
  try {
    return new URL(serverUrl).host;
  } catch {
    return String(serverUrl || '');
  }
}

export function unreachable(serverUrl, detail) {
  return unavailable(
    detail,
    `The school's tweetguard server ${serverHost(serverUrl)} cannot be reached, so this post is held. ` +
      "Check the network; if it keeps happening, ask your school's IT lead.",
  );
}

function noAnswer(serverUrl, timeoutMs) {
  return unavailable(
    `no answer within ${timeoutMs} ms`,
    `The school's tweetguard server ${serverHost(serverUrl)} did not answer, so this post is held. ` +
      "Try again; if it keeps happening, ask your school's IT lead.",
  );
}

/** The one line a teacher sees on a Chromebook the school removed. */
export function removedReply(serverUrl) {
  return {
    ok: false,
    error: {
      code: HELPER_UNAVAILABLE,
      message: `This Chromebook was removed from the school's tweetguard server ${serverHost(serverUrl)}, so this post is held; ask IT to enrol it again.`,
    },
  };
}

/** What is kept of the token beside a removal: its SHA-256, never the token. */
export async function tokenFingerprint(token) {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(token || ''));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The WebSocket URL a hello named, if it may carry the credential and post text:
 * wss: on serverUrl's own host (any port), or ws: only when serverUrl is itself
 * plain http on loopback. Else null (the HTTPS fallback): a server behind a proxy
 * that does not set X-Forwarded-Proto answers ws://, which would be in the clear. */
export function acceptableSocketUrl(serverUrl, socketUrl) {
  let server;
  let socket;
  try {
    server = new URL(serverUrl);
    socket = new URL(socketUrl);
  } catch {
    return null;
  }
  if (socket.username || socket.password) return null;
  if (socket.protocol === 'wss:' && socket.hostname === server.hostname) return socket.toString();
  if (socket.protocol === 'ws:' && server.protocol === 'http:' && isLoopback(server.hostname) && isLoopback(socket.hostname)) {
    return socket.toString();
  }
  return null;
}

function refused(serverUrl, message) {
  return {
    ok: false,
    error: {
      code: HELPER_UNAVAILABLE,
      message: `The school's tweetguard server ${serverHost(serverUrl)} refused this browser, so this post is held: ${message}`,
    },
  };
}

/** `https://host[:port]/base` -> `wss://host[:port]/base/api/v1/ws`. */
export function defaultSocketUrl(serverUrl) {
  const url = new URL(serverUrl);
  url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/ws`;
  url.search = '';
  url.hash = '';
  return url.toString();
}

export class ServerClient {
  /**
   * `storage` is chrome.storage.local; `fetch` and `WebSocket` are the worker's
   * own (injected for tests); `name` is what the dashboard lists the device as.
   */
  constructor({
    serverUrl,
    enrolmentToken,
    storage,
    // The worker's own fetch, called as a plain function: fetch invoked as a method
    // of this client throws "Illegal invocation".
    fetch: fetchImpl = (...args) => globalThis.fetch(...args),
    WebSocket: Socket = globalThis.WebSocket,
    timeoutMs = TIMEOUT_MS,
    name = 'Chromebook',
    version = '',
    now = () => Date.now(),
    socketUrl = undefined,
    problem = null,
    log = (...args) => console.warn(...args),
  }) {
    this.serverUrl = serverUrl.replace(/\/+$/, '');
    // A serverUrl settings.js refused: every request is held with its one line.
    this.problem = problem;
    this.log = log;
    this.refusedSocketUrl = null; // the last socket URL refused, logged once
    this.removed = false; // the server said this device was removed
    this.enrolmentToken = enrolmentToken || '';
    this.storage = storage;
    this.fetch = fetchImpl;
    this.Socket = Socket;
    this.timeoutMs = timeoutMs;
    this.name = name;
    this.version = version;
    this.now = now;
    this.hostName = `server:${this.serverUrl}`; // background.js compares this to rebuild
    this.host = serverHost(this.serverUrl);
    // Where the WebSocket is, as the server's hello reply names it (its own port
    // beside the HTTPS one, or this host's /api/v1/ws behind a proxy). Until a hello
    // has answered, requests go by HTTP.
    this.socketUrl = socketUrl;
    this.socket = null;
    this.socketReady = null; // a promise of the open, accepted socket (or null)
    this.backoffMs = 0;
    this.retryAt = 0;
    this.nextId = 1;
    this.pending = new Map();
    this.enrolling = null;
  }

  request(message, { timeoutMs = this.timeoutMs, onProgress = null } = {}) {
    return new Promise((resolve) => {
      const id = this.nextId++;
      let done = false;
      const settle = (reply) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.pending.delete(id);
        if (reply && reply.ok && reply.protocol) this.useSocketUrl(reply.websocket);
        resolve(reply);
      };
      settle.onProgress = onProgress;
      const timer = setTimeout(() => settle(noAnswer(this.serverUrl, timeoutMs)), timeoutMs);
      this.send({ ...message, id }, settle).catch((error) =>
        settle(unreachable(this.serverUrl, error && error.message)),
      );
    });
  }

  /** Where the hello says the socket is, if it is safe to send the credential
   * there; else none (requests go by HTTPS) and one line in the worker's log. */
  useSocketUrl(named) {
    if (typeof named !== 'string') {
      this.socketUrl = defaultSocketUrl(this.serverUrl);
      return;
    }
    const accepted = acceptableSocketUrl(this.serverUrl, named);
    if (accepted !== this.socketUrl && this.socket) this.closeSocket('the server named another socket');
    this.socketUrl = accepted;
    if (!accepted && this.refusedSocketUrl !== named) {
      this.refusedSocketUrl = named;
      this.log(
        `tweetguard: the school's server ${this.host} named the WebSocket ${named}, which is not wss:// on ${this.host}; ` +
          'using HTTPS instead (IT: set X-Forwarded-Proto on the proxy, see docs/server.md).',
      );
    }
  }

  async send(message, settle) {
    if (this.problem) {
      settle({ ok: false, error: { code: HELPER_UNAVAILABLE, message: this.problem } });
      return;
    }
    const credential = await this.credential();
    if (!credential.ok) {
      settle(credential.reply);
      return;
    }
    const socket = await this.openSocket(credential.value);
    if (this.removed) {
      settle(removedReply(this.serverUrl));
      return;
    }
    if (socket) {
      this.pending.set(message.id, settle);
      try {
        socket.send(JSON.stringify(message));
        return;
      } catch (error) {
        this.pending.delete(message.id);
        this.dropSocket(socket, error && error.message);
      }
    }
    settle(await this.post(message, credential.value));
  }

  // --- enrolment -------------------------------------------------------------

  async credential() {
    const stored = (await this.storage.get(STORAGE_KEY))[STORAGE_KEY];
    if (stored && stored.serverUrl === this.serverUrl && stored.credential) {
      return { ok: true, value: stored.credential };
    }
    // Removed by the school: held until IT pushes a different enrolment token.
    if (stored && stored.serverUrl === this.serverUrl && stored.removed) {
      if (stored.token === (await tokenFingerprint(this.enrolmentToken))) {
        this.removed = true;
        return { ok: false, reply: removedReply(this.serverUrl) };
      }
    }
    if (!this.enrolling) this.enrolling = this.enrol().finally(() => (this.enrolling = null));
    return this.enrolling;
  }

  async enrol() {
    if (!this.enrolmentToken) {
      return {
        ok: false,
        reply: refused(this.serverUrl, 'this browser has no enrolment token; ask IT to set enrolmentToken in its policy.'),
      };
    }
    let response;
    try {
      response = await this.fetch(`${this.serverUrl}/api/v1/enrol`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Tweetguard-Helper': this.version },
        body: JSON.stringify({ code: this.enrolmentToken, name: this.name, kind: 'extension' }),
      });
    } catch (error) {
      return { ok: false, reply: unreachable(this.serverUrl, error && error.message) };
    }
    const body = await response.json().catch(() => null);
    if (!response.ok || !body || typeof body.credential !== 'string') {
      const why = (body && body.error && body.error.message) || `HTTP ${response.status}`;
      return { ok: false, reply: refused(this.serverUrl, why) };
    }
    await this.storage.set({
      [STORAGE_KEY]: { serverUrl: this.serverUrl, credential: body.credential, deviceId: body.device_id, school: body.school },
    });
    this.removed = false;
    return { ok: true, value: body.credential };
  }

  /** A credential the server no longer knows: the school removed this device.
   * Not enrolled again with the same token (that would undo the removal); kept
   * so until the managed enrolmentToken changes. */
  async markRemoved() {
    this.removed = true;
    this.closeSocket('this device was removed', removedReply(this.serverUrl));
    await this.storage.set({
      [STORAGE_KEY]: { serverUrl: this.serverUrl, removed: true, token: await tokenFingerprint(this.enrolmentToken) },
    });
  }

  // --- HTTP ------------------------------------------------------------------

  async post(message, credential) {
    let response;
    try {
      response = await this.fetch(`${this.serverUrl}/api/v1/protocol`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Authorization: `Bearer ${credential}`,
          'X-Tweetguard-Helper': this.version,
        },
        body: JSON.stringify(message),
      });
    } catch (error) {
      return unreachable(this.serverUrl, error && error.message);
    }
    const body = await response.json().catch(() => null);
    if (response.status === 401 && body && body.error && body.error.code === 'device_unknown') {
      await this.markRemoved();
      return removedReply(this.serverUrl);
    }
    if (!response.ok || !body || typeof body !== 'object') {
      const why = (body && body.error && body.error.message) || `HTTP ${response.status}`;
      return refused(this.serverUrl, why);
    }
    return body;
  }

  // --- WebSocket ---------------------------------------------------------------

  /** The open socket, or null (then the request goes by HTTP). A socket that
   * failed is tried again only after the backoff, doubling up to a minute. */
  async openSocket(credential) {
    if (!this.Socket || !this.socketUrl) return null;
    if (!this.socketReady) {
      if (this.now() < this.retryAt) return null;
      this.socketReady = this.connect(credential);
    }
    return this.socketReady;
  }

  connect(credential) {
    return new Promise((resolve) => {
      let socket;
      try {
        socket = new this.Socket(this.socketUrl);
      } catch (error) {
        this.failed(error && error.message);
        resolve(null);
        return;
      }
      let accepted = false;
      let credentialSent = false;
      const timer = setTimeout(() => {
        if (accepted) return;
        this.dropSocket(socket, 'the socket did not open in time');
        resolve(null);
      }, AUTH_WAIT_MS);
      socket.onopen = () => {
        socket.send(JSON.stringify({ type: 'auth', credential, version: this.version }));
        credentialSent = true;
      };
      socket.onmessage = (event) => {
        let frame;
        try {
          frame = JSON.parse(event.data);
        } catch {
          return;
        }
        if (!accepted) {
          if (frame && frame.type === 'auth' && frame.ok) {
            accepted = true;
            clearTimeout(timer);
            this.socket = socket;
            this.backoffMs = 0;
            resolve(socket);
          }
          return;
        }
        this.onFrame(frame);
      };
      socket.onclose = (event) => {
        clearTimeout(timer);
        if (event && event.code === UNAUTHORISED && credentialSent) {
          // Set before anything else runs: send() must not go on by HTTP.
          this.removed = true;
          this.dropSocket(socket, 'this device was removed', removedReply(this.serverUrl));
          this.markRemoved().catch(() => {});
        } else {
          this.dropSocket(socket, (event && event.reason) || 'the connection closed');
        }
        if (!accepted) resolve(null);
      };
      socket.onerror = () => {};
    });
  }

  onFrame(frame) {
    if (isProgress(frame)) {
      const settle = this.pending.get(frame.for);
      if (!settle || !settle.onProgress) return;
      try {
        settle.onProgress({ done: Math.min(frame.done, frame.total), total: frame.total });
      } catch {
        // a listener's failure must not cost the request its answer
      }
      return;
    }
    const settle = frame && this.pending.get(frame.id);
    if (settle) settle(frame);
  }

  failed() {
    this.backoffMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, this.backoffMs * 2));
    this.retryAt = this.now() + this.backoffMs;
  }

  /** The socket is gone: requests waiting on it are held (fail closed); the next
   * request goes by HTTP until the backoff lets the socket be tried again. */
  dropSocket(socket, reason, reply = unreachable(this.serverUrl, reason)) {
    const wasCurrent = this.socket === socket || this.socket === null;
    if (this.socket === socket) this.socket = null;
    if (wasCurrent) {
      this.socketReady = null;
      this.failed();
    }
    try {
      socket.close();
    } catch {
      // already closed
    }
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const settle of waiting) settle(reply);
  }

  closeSocket(reason, reply = undefined) {
    if (this.socket) this.dropSocket(this.socket, reason, reply);
  }
}
