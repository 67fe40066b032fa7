// Which file belongs to which attachment preview.
import { test } from 'node:test';
import assert from 'node:assert/strict';

await import('../src/content/attachment-book.js');
const { AttachmentBook, kindOfMime, videoExcerptRanges } = globalThis.TweetGuardAttachmentBook;

const file = (name, type = 'image/jpeg') => ({ name, type });
const img = (key) => ({ key, kind: 'image' });
const vid = (key) => ({ key, kind: 'video' });

test('files bind to previews in attach order, whatever the route', () => {
  const book = new AttachmentBook();
  book.attach([file('a.jpg'), file('b.jpg')], 'input');
  book.attach([file('c.png', 'image/png')], 'paste');
  const { added } = book.reconcile([img('blob:1'), img('blob:2'), img('blob:3')]);
  assert.deepEqual(added.map((e) => [e.file.name, e.route, e.key]), [
    ['a.jpg', 'input', 'blob:1'],
    ['b.jpg', 'input', 'blob:2'],
    ['c.png', 'paste', 'blob:3'],
  ]);
  assert.equal(book.entryFor('blob:2').file.name, 'b.jpg');
  assert.deepEqual(book.pending(), []);
});

test('a preview that appears later binds to the file still waiting', () => {
  const book = new AttachmentBook();
  book.attach([file('a.jpg')], 'drop');
  assert.deepEqual(book.reconcile([]).added, []);
  assert.equal(book.pending().length, 1);
  const { added } = book.reconcile([img('blob:9')]);
  assert.equal(added[0].file.name, 'a.jpg');
  // Seeing the same previews again changes nothing.
  assert.deepEqual(book.reconcile([img('blob:9')]), { added: [], dropped: [] });
});

test('a removed preview drops its file; the others keep theirs', () => {
  const book = new AttachmentBook();
  book.attach([file('a.jpg'), file('b.jpg')], 'input');
  book.reconcile([img('blob:1'), img('blob:2')]);
  const { dropped } = book.reconcile([img('blob:2')]);
  assert.deepEqual(dropped.map((e) => e.file.name), ['a.jpg']);
  assert.equal(book.entryFor('blob:2').file.name, 'b.jpg');
  assert.equal(book.entryFor('blob:1'), null);
  // A replacement attached afterwards takes the new preview, not an old one.
  book.attach([file('a-clean.jpg')], 'input');
  book.reconcile([img('blob:2'), img('blob:3')]);
  assert.equal(book.entryFor('blob:3').file.name, 'a-clean.jpg');
});

test('a preview with no file seen gets a file-less entry, to be read from the preview', () => {
  const book = new AttachmentBook();
  const { added } = book.reconcile([img('blob:old'), { key: 'https://media.example/gif.mp4', kind: 'video' }]);
  assert.deepEqual(added.map((e) => [e.file, e.route, e.kind]), [
    [null, 'preview', 'image'],
    [null, 'preview', 'video'],
  ]);
});

test('a video file is not bound to a photo preview, nor a photo to a video', () => {
  const book = new AttachmentBook();
  book.attach([file('clip.mp4', 'video/mp4')], 'input');
  const { added } = book.reconcile([img('blob:p')]);
  assert.equal(added[0].file, null, 'the photo preview is not the video');
  const later = book.reconcile([img('blob:p'), vid('blob:v')]);
  assert.equal(later.added[0].file.name, 'clip.mp4');
  // A GIF may be shown either way.
  book.attach([file('fun.gif', 'image/gif')], 'paste');
  assert.equal(book.reconcile([img('blob:p'), vid('blob:v'), vid('blob:g')]).added[0].file.name, 'fun.gif');
});

test('a file X never shows is forgotten, so it cannot take a later preview', () => {
  let now = 0;
  const book = new AttachmentBook({ now: () => now, pendingMs: 1000 });
  book.attach([file('refused.jpg')], 'input');
  now = 5000;
  book.attach([file('b.jpg')], 'input');
  const { added, dropped } = book.reconcile([img('blob:b')]);
  assert.deepEqual(dropped.map((e) => e.file.name), ['refused.jpg']);
  assert.equal(added[0].file.name, 'b.jpg');
});

test('kinds and video excerpts', () => {
  assert.equal(kindOfMime('image/png'), 'image');
  assert.equal(kindOfMime('video/quicktime'), 'video');
  assert.equal(kindOfMime('image/gif'), 'gif');
  assert.equal(kindOfMime(''), 'image');
  const MiB = 1024 * 1024;
  assert.deepEqual(videoExcerptRanges(5 * MiB), [[0, 5 * MiB]]);
  assert.deepEqual(videoExcerptRanges(8 * MiB), [[0, 8 * MiB]]);
  assert.deepEqual(videoExcerptRanges(30 * MiB), [[0, 4 * MiB], [26 * MiB, 30 * MiB]]);
});
