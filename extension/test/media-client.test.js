// Photos to the helper in chunks, the verdict cache by SHA-256, and sending a
// photo again when the helper has forgotten it.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { MediaClient, chunkPlan, needsResend, base64Length, CHUNK_BYTES } from '../src/media-client.js';

const MiB = 1024 * 1024;
const SHA = 'a'.repeat(64);

// A helper that answers media_put like the real one: `received` per chunk, a
// report after the last (or at the first chunk of a file it already has).
function fakeHelper({ has = new Set(), answer } = {}) {
  const helper = { sent: [], files: new Map(), has };
  helper.request = async (message, options = {}) => {
    helper.sent.push({ message, options });
    if (answer) {
      const reply = answer(message, helper);
      if (reply) return reply;
    }
    if (message.type === 'media_put') {
      const photo = { sha256: message.sha256, faces: 0, verdict: 'allow', findings: [] };
      if (helper.has.has(message.sha256)) return { ok: true, received: message.size, photo };
      const got = (helper.files.get(message.sha256) || 0) + base64Length(message.data);
      assert.equal(message.offset, helper.files.get(message.sha256) || 0, 'chunks in order, no gaps');
      helper.files.set(message.sha256, got);
      if (got < message.size) return { ok: true, received: got };
      helper.has.add(message.sha256);
      return { ok: true, received: got, photo };
    }
    return { ok: true, verdict: 'allow', findings: [], photos: [] };
  };
  return helper;
}

function reader(size) {
  const reads = [];
  const read = async (offset, length) => {
    reads.push([offset, length]);
    assert.ok(length <= CHUNK_BYTES);
    assert.ok(offset + length <= size);
    return Buffer.alloc(length, 7).toString('base64');
  };
  return { reads, read };
}

test('chunk plan: 1 MiB chunks in order without gaps; an empty file is one empty chunk', () => {
  assert.deepEqual(chunkPlan(0), [{ offset: 0, length: 0 }]);
  assert.deepEqual(chunkPlan(10), [{ offset: 0, length: 10 }]);
  assert.deepEqual(chunkPlan(MiB), [{ offset: 0, length: MiB }]);
  assert.deepEqual(chunkPlan(2 * MiB + 5), [
    { offset: 0, length: MiB },
    { offset: MiB, length: MiB },
    { offset: 2 * MiB, length: 5 },
  ]);
});

test('base64 length counts the padding', () => {
  for (const n of [0, 1, 2, 3, 4, 5, 1000]) assert.equal(base64Length(Buffer.alloc(n).toString('base64')), n);
});

test('a file goes in chunks; only the last waits for the analysis', async () => {
  const helper = fakeHelper();
  const client = new MediaClient(helper);
  const size = 2 * MiB + 10;
  const { reads, read } = reader(size);
  const reply = await client.put({ sha256: SHA, mime: 'image/jpeg', name: 'a.jpg', kind: 'image', size }, read);
  assert.equal(reply.ok, true);
  assert.equal(reply.photo.sha256, SHA);
  assert.deepEqual(reads, [[0, MiB], [MiB, MiB], [2 * MiB, 10]]);
  const timeouts = helper.sent.map((s) => s.options.timeoutMs);
  assert.ok(timeouts[2] > timeouts[0] && timeouts[0] === timeouts[1]);
  assert.deepEqual(helper.sent.map((s) => s.message.offset), [0, MiB, 2 * MiB]);
  assert.equal(helper.sent[0].message.kind, 'image');
  assert.equal(client.report(SHA).sha256, SHA);
});

test('the verdict is cached by SHA-256: the same file is not sent twice', async () => {
  const helper = fakeHelper();
  const client = new MediaClient(helper);
  const { read } = reader(100);
  const meta = { sha256: SHA, mime: 'image/png', name: 'a.png', kind: 'image', size: 100 };
  const [a, b] = await Promise.all([client.put(meta, read), client.put(meta, read)]);
  assert.equal(a.photo.sha256, b.photo.sha256);
  assert.equal(helper.sent.length, 1, 'two attaches of one file, one upload');
  await client.put(meta, read);
  assert.equal(helper.sent.length, 1);
});

test('a file the helper already has is answered at the first chunk', async () => {
  const helper = fakeHelper({ has: new Set([SHA]) });
  const client = new MediaClient(helper);
  const { reads, read } = reader(3 * MiB);
  const reply = await client.put({ sha256: SHA, mime: 'image/png', name: 'a.png', kind: 'image', size: 3 * MiB }, read);
  assert.equal(reply.ok, true);
  assert.equal(reads.length, 1);
});

test('an error reply ends the upload and is passed on', async () => {
  const helper = fakeHelper({
    answer: (m) => (m.offset === MiB ? { ok: false, error: { code: 'media_too_large', message: 'too large' } } : null),
  });
  const client = new MediaClient(helper);
  const { read } = reader(3 * MiB);
  const reply = await client.put({ sha256: SHA, mime: 'image/png', name: 'a.png', kind: 'image', size: 3 * MiB }, read);
  assert.equal(reply.error.code, 'media_too_large');
  assert.equal(client.report(SHA), null);
});

test('a tab that cannot read the file gives a plain error, not an exception', async () => {
  const client = new MediaClient(fakeHelper());
  const reply = await client.put({ sha256: SHA, mime: 'image/png', name: 'a.png', kind: 'image', size: 10 }, async () => {
    throw new Error('tab closed');
  });
  assert.equal(reply.ok, false);
  assert.match(reply.error.message, /could not read this photo.*held/);
});

test('needsResend: media_unknown names every photo; photos.unchecked names its own', () => {
  const request = { media: [{ sha256: 'a' }, { kind: 'image' }, { sha256: 'c' }] };
  assert.deepEqual(needsResend(request, { ok: false, error: { code: 'media_unknown' } }), [0, 2]);
  assert.deepEqual(
    needsResend(request, { ok: true, findings: [{ rule: 'photos.unchecked', media: 2 }, { rule: 'photos.unchecked', media: 1 }] }),
    [2],
  );
  assert.deepEqual(needsResend(request, { ok: true, findings: [] }), []);
});

test('a helper that forgot the photo (restart) gets it again once, then the check is asked again', async () => {
  let checks = 0;
  const helper = fakeHelper({
    answer: (m, h) => {
      if (m.type !== 'check') return null;
      checks += 1;
      if (checks === 1) {
        h.has.clear();
        h.files.clear();
        return { ok: false, error: { code: 'media_unknown', message: 'gone' } };
      }
      return { ok: true, verdict: 'allow', findings: [], photos: [{ sha256: SHA }] };
    },
  });
  const client = new MediaClient(helper);
  const { reads, read } = reader(10);
  await client.put({ sha256: SHA, mime: 'image/png', name: 'a.png', kind: 'image', size: 10 }, read);
  const reply = await client.request({ type: 'check', text: 'x', media: [{ sha256: SHA, kind: 'image' }] });
  assert.equal(reply.ok, true);
  assert.equal(checks, 2);
  assert.equal(reads.length, 2, 'the file was read from the tab again');
});

test('a second unchecked reply is passed on, not retried for ever', async () => {
  const helper = fakeHelper({
    answer: (m) => (m.type === 'check' ? { ok: true, verdict: 'block', findings: [{ rule: 'photos.unchecked', media: 0 }] } : null),
  });
  const client = new MediaClient(helper);
  await client.put({ sha256: SHA, mime: 'image/png', name: 'a.png', kind: 'image', size: 4 }, reader(4).read);
  const reply = await client.request({ type: 'check', text: 'x', media: [{ sha256: SHA }] });
  assert.equal(reply.verdict, 'block');
  assert.equal(helper.sent.filter((s) => s.message.type === 'check').length, 2);
});

test('media_get is asked until done; the chunks come back in order', async () => {
  const parts = ['AAAA', 'BBBB', 'CC=='];
  const helper = fakeHelper({
    answer: (m) => {
      if (m.type === 'photo_clean') return { ok: true, photo: { sha256: 'b'.repeat(64), faces: 0 } };
      if (m.type !== 'media_get') return null;
      const index = [0, 3, 6].indexOf(m.offset);
      return { ok: true, sha256: m.sha256, mime: 'image/jpeg', name: 'a-clean.jpg', size: 7, offset: m.offset, data: parts[index], done: index === 2 };
    },
  });
  const client = new MediaClient(helper);
  const reply = await client.remedy('photo_clean', SHA);
  assert.equal(reply.ok, true);
  assert.deepEqual(reply.file.chunks, parts);
  assert.equal(reply.file.name, 'a-clean.jpg');
  assert.equal(client.report('b'.repeat(64)).faces, 0);
});

// A helper that reports progress on the request that does the analysis, like the
// real one: media_put's last chunk, photo_blur, photo_clean.
function progressHelper(faces = 3) {
  const helper = fakeHelper();
  const plain = helper.request;
  helper.request = async (message, options = {}) => {
    const analyses = message.type === 'photo_blur' || message.type === 'photo_clean' || message.type === 'media_put';
    if (analyses && options.onProgress) {
      // Let every caller register before the work "runs".
      await new Promise((resolve) => setTimeout(resolve, 5));
      for (let done = 1; done <= faces; done++) options.onProgress({ done, total: faces });
    }
    if (message.type === 'photo_blur' || message.type === 'media_get') helper.sent.push({ message, options });
    if (message.type === 'photo_blur') return { ok: true, photo: { sha256: 'c'.repeat(64), faces: 0 } };
    if (message.type === 'media_get') return { ok: true, mime: 'image/jpeg', name: 'x.jpg', size: 3, offset: 0, data: 'AAAA', done: true };
    return plain(message, options);
  };
  return helper;
}

test('progress of the analysis reaches every put waiting on that file, then stops', async () => {
  const helper = progressHelper(3);
  const client = new MediaClient(helper);
  const { read } = reader(100);
  const meta = { sha256: SHA, mime: 'image/jpeg', name: 'a.jpg', kind: 'image', size: 100 };
  const tabA = [];
  const tabB = [];
  const [a, b] = await Promise.all([
    client.put(meta, read, { onProgress: (p) => tabA.push(p.done) }),
    client.put(meta, read, { onProgress: (p) => tabB.push(p.done) }), // the same photo in another tab
  ]);
  assert.equal(a.ok && b.ok, true);
  assert.deepEqual(tabA, [1, 2, 3]);
  assert.deepEqual(tabB, [1, 2, 3]);
  assert.equal(client.watchers.size, 0, 'no listener is kept after the reply');
  // Known now: answered from the cache, with no progress at all.
  const tabC = [];
  await client.put(meta, read, { onProgress: (p) => tabC.push(p) });
  assert.deepEqual(tabC, []);
});

test('a remedy passes on the progress of matching the new copy', async () => {
  const helper = progressHelper(2);
  const client = new MediaClient(helper);
  const heard = [];
  const reply = await client.remedy('photo_blur', SHA, [0], { onProgress: (p) => heard.push(p) });
  assert.equal(reply.ok, true);
  assert.deepEqual(heard, [{ done: 1, total: 2 }, { done: 2, total: 2 }]);
  const blur = helper.sent.find((s) => s.message.type === 'photo_blur');
  assert.deepEqual(blur.message.faces, [0], 'only the chosen faces are blurred');
});
