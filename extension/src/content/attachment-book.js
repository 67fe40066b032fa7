// Which file belongs to which attachment preview, for one composer. Pure
// bookkeeping (no DOM): attachments.js feeds it the files it saw attached and the
// previews X shows; node tests drive it directly.
//
// Files are bound to new previews in attach order. A preview X removes drops
// its file. A preview no file was seen for (attached before the extension
// loaded, X's GIF picker, a route we missed) gets an entry without a file, which
// is checked by reading the preview itself.
(() => {
  'use strict';

  const PENDING_MS = 60_000; // a file X never showed (it refused it) is forgotten after this

  /** 'video' or 'image' for a MIME type (a GIF is shown like a photo or a video: either). */
  function kindOfMime(mime) {
    if (/^video\//i.test(mime || '')) return 'video';
    if (/^image\/gif$/i.test(mime || '')) return 'gif';
    return 'image';
  }

  function fits(entry, previewKind) {
    return entry.kind === 'gif' || entry.kind === previewKind;
  }

  class AttachmentBook {
    constructor({ now = () => Date.now(), pendingMs = PENDING_MS } = {}) {
      this.now = now;
      this.pendingMs = pendingMs;
      this.nextId = 1;
      this.list = []; // entries, in attach order
    }

    /** Files seen attached by `route` ('input', 'paste', 'drop'); returns their new entries. */
    attach(files, route, extra = {}) {
      const added = [...files].map((file) => ({
        id: this.nextId++,
        file,
        route,
        kind: kindOfMime(file.type),
        key: null, // the preview it is bound to
        at: this.now(),
        ...extra,
      }));
      this.list.push(...added);
      return added;
    }

    /** Brings the book in line with the previews X shows now ([{key, kind}] in
     * order). Returns {added, dropped}: entries newly bound (including new
     * file-less ones for previews no file was seen for), and entries dropped. */
    reconcile(previews) {
      const keys = new Set(previews.map((p) => p.key));
      const now = this.now();
      const dropped = this.list.filter((e) => (e.key ? !keys.has(e.key) : now - e.at > this.pendingMs));
      this.list = this.list.filter((e) => !dropped.includes(e));
      const bound = new Set(this.list.filter((e) => e.key).map((e) => e.key));
      const added = [];
      for (const preview of previews) {
        if (bound.has(preview.key)) continue;
        let entry = this.list.find((e) => !e.key && fits(e, preview.kind));
        if (!entry) {
          entry = { id: this.nextId++, file: null, route: 'preview', kind: preview.kind, key: null, at: now };
          this.list.push(entry);
        }
        entry.key = preview.key;
        bound.add(preview.key);
        added.push(entry);
      }
      return { added, dropped };
    }

    /** The entry bound to a preview key, or null. */
    entryFor(key) {
      return this.list.find((e) => e.key === key) || null;
    }

    /** Files seen but not (yet) shown by X. */
    pending() {
      return this.list.filter((e) => !e.key);
    }

    entries() {
      return [...this.list];
    }
  }

  /** Byte ranges of a video sent for its metadata: the whole file up to 8 MiB, else
   * the first and last 4 MiB (where MP4 and QuickTime keep theirs), as [[start, end)]. */
  function videoExcerptRanges(size, half = 4 * 1024 * 1024) {
    if (size <= 2 * half) return [[0, size]];
    return [[0, half], [size - half, size]];
  }

  globalThis.TweetGuardAttachmentBook = Object.freeze({ AttachmentBook, kindOfMime, videoExcerptRanges });
})();
