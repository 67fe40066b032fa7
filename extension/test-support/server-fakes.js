// The school's server as the extension's tests play it: browser storage in memory,
// fetch replies, and a WebSocket class whose far end the test decides.

export function memoryStorage(initial = {}) {
  const data = { ...initial };
  return {
    data,
    async get(key) {
      return key in data ? { [key]: data[key] } : {};
    },
    async set(values) {
      Object.assign(data, values);
    },
    async remove(key) {
      delete data[key];
    },
  };
}

export function json(status, body) {
  return { ok: status >= 200 && status < 300, status, json: async () => body };
}

// A WebSocket class: `accept: false` never opens; the credential's `auth` is
// accepted; every other message goes to `onRequest(socket, message)`, if given.
export function socketClass({ accept = true, onRequest = null } = {}) {
  const sockets = [];
  class FakeSocket {
    constructor(url) {
      this.url = url;
      this.sent = [];
      this.closed = false;
      sockets.push(this);
      if (accept) queueMicrotask(() => this.onopen && this.onopen());
      else queueMicrotask(() => this.onclose && this.onclose({ code: 1006, reason: '' }));
    }
    send(data) {
      const message = JSON.parse(data);
      this.sent.push(message);
      if (message.type === 'auth') queueMicrotask(() => this.deliver({ type: 'auth', ok: true }));
      else if (onRequest) onRequest(this, message);
    }
    deliver(frame) {
      this.onmessage({ data: JSON.stringify(frame) });
    }
    close() {
      this.closed = true;
    }
  }
  FakeSocket.sockets = sockets;
  return FakeSocket;
}
