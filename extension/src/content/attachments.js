// Every photo and video attached to a composer, by any route (X's file input,
// paste, drag and drop), handed to the helper the moment it is attached, and
// tracked against the previews X shows (attachment-book.js) so the post's check
// names each by its SHA-256 with who the teacher says is pictured.
//
// Listeners sit on window in the capture phase, so they see the files before X's
// own handlers turn them into previews. Nothing here holds a post: checker.js
// waits for `mediaFor` at check time.
(() => {
  'use strict';

  const dom = globalThis.TweetGuardDom;
  const media = globalThis.TweetGuardMedia;
  const { AttachmentBook } = globalThis.TweetGuardAttachmentBook;
  const photos = () => globalThis.TweetGuardPhotoPanel;
  const live = () => globalThis.TweetGuardLive;

  const UNREADABLE_PREVIEW =
    'tweetguard could not read this photo, so the post is held. Remove it and attach it again from your computer.';
  const UNTRACKED =
    'tweetguard could not tell which file this photo is, so the post is held. Remove it and attach it again.';

  const books = new WeakMap(); // composer -> AttachmentBook
  const carried = new WeakMap(); // File -> picks carried over from the photo it replaces
  const tracked = new Set(); // composers with a book, for the observer (WeakRefs would do too)

  function bookOf(composer) {
    let book = books.get(composer);
    if (!book) {
      book = new AttachmentBook();
      books.set(composer, book);
      tracked.add(composer);
    }
    return book;
  }

  function emptyPicks() {
    return { pictured: [], nobody: false, confirmedNot: [] };
  }

  const isMedia = (file) => /^(image|video)\//i.test(file.type || '');

  function attach(composer, files, route) {
    const wanted = [...files].filter(isMedia);
    if (!composer || wanted.length === 0) return;
    for (const entry of bookOf(composer).attach(wanted, route)) start(composer, entry);
    sync(composer);
  }

  // Reads, hashes and uploads one attachment; entry.ready settles when the helper has it.
  function start(composer, entry) {
    entry.state = 'checking';
    entry.picks = (entry.file && carried.get(entry.file)) || emptyPicks();
    entry.items = [];
    entry.findings = null; // photo findings from the latest check of the post
    entry.thumb = entry.file ? URL.createObjectURL(entry.file) : entry.key;
    entry.ready = (async () => {
      let file = entry.file;
      if (!file) {
        try {
          file = await media.fromPreview(entry.key, entry.kind);
        } catch {
          entry.state = 'error';
          entry.error = { code: 'media_unreadable', message: entry.key ? UNREADABLE_PREVIEW : UNTRACKED };
          return;
        }
      }
      entry.kind = /^video\//i.test(file.type) ? 'video' : 'image';
      const parts = await media.parts(file);
      // Matching a class photo's faces takes seconds: the card counts them.
      const onProgress = (progress) => {
        entry.progress = progress;
        if (composer.isConnected) photos().refresh(composer, entry);
      };
      entry.items = await Promise.all(parts.map((part) => media.upload(part, { onProgress })));
      const failed = entry.items.find((item) => item.error);
      entry.state = failed ? 'error' : 'done';
      entry.error = failed ? failed.error : null;
    })()
      .catch((error) => {
        entry.state = 'error';
        entry.error = { code: 'extension', message: UNREADABLE_PREVIEW, detail: String(error) };
      })
      .finally(() => {
        entry.progress = null;
        render(composer);
        if (composer.isConnected) live().recheck(composer);
      });
  }

  /** Matches the book to the previews X shows now; returns whether anything changed. */
  function sync(composer) {
    const posts = dom.previewsByPost(composer);
    const flat = posts.flatMap((list, post) => list.map((p) => ({ ...p, post })));
    const book = bookOf(composer);
    const { added, dropped } = book.reconcile(flat);
    let changed = added.length > 0 || dropped.length > 0;
    for (const entry of added) if (!entry.state) start(composer, entry);
    for (const preview of flat) {
      const entry = book.entryFor(preview.key);
      if (!entry) continue;
      if (entry.alt !== preview.alt || entry.post !== preview.post) changed = true;
      entry.alt = preview.alt;
      entry.post = preview.post;
    }
    for (const entry of dropped) if (entry.file && entry.thumb) URL.revokeObjectURL(entry.thumb);
    render(composer);
    return changed;
  }

  /** The entries of the composer in the order X shows them, then files not shown yet. */
  function shown(composer) {
    const book = bookOf(composer);
    const bound = dom
      .previewsByPost(composer)
      .flat()
      .map((p) => book.entryFor(p.key))
      .filter(Boolean);
    return [...bound, ...book.pending().filter((e) => e.state)];
  }

  function render(composer) {
    if (!composer.isConnected) return;
    const entries = shown(composer);
    photos().render(composer, dom.panelAnchor(composer), entries, labels(entries));
  }

  function labels(entries) {
    let photo = 0;
    let video = 0;
    return new Map(entries.map((e) => [e, e.kind === 'video' ? `Video ${++video}` : `Photo ${++photo}`]));
  }

  /** The media items of the check request, per post of the composer, once every
   * attachment's upload is done: {perPost, owners, labels} or {failed}. `onWait`
   * is told when something is still being checked (the post waits for it). */
  async function mediaFor(composer, { onWait } = {}) {
    sync(composer);
    const book = bookOf(composer);
    const posts = dom.previewsByPost(composer).map((list) => list.map((p) => ({ preview: p, entry: book.entryFor(p.key) })));
    const entries = posts.flat().map((x) => x.entry);
    if (entries.some((e) => !e)) return { failed: { ok: false, error: { code: 'media_unreadable', message: UNTRACKED } } };
    if (onWait && entries.some((e) => e.state === 'checking')) onWait();
    await Promise.all(entries.map((e) => e.ready));
    const names = labels(entries);
    const perPost = [];
    const owners = [];
    const itemLabels = [];
    for (const list of posts) {
      const items = [];
      const own = [];
      const lab = [];
      for (const { preview, entry } of list) {
        if (entry.state !== 'done') return { failed: { ok: false, error: entry.error || { message: UNTRACKED } } };
        entry.items.forEach((item, index) => {
          items.push(mediaItem(item, entry, index === 0 ? preview.alt : ''));
          own.push({ entry, item });
          lab.push(names.get(entry));
        });
      }
      perPost.push(items);
      owners.push(own);
      itemLabels.push(lab);
    }
    return { perPost, owners, labels: itemLabels };
  }

  function mediaItem(item, entry, alt) {
    const result = { sha256: item.sha256, kind: item.kind };
    if (alt) result.alt = alt.slice(0, 1000);
    if (item.kind !== 'video') {
      const { pictured, nobody, confirmedNot } = entry.picks;
      if (pictured.length) result.pictured = pictured.map((p) => p.ref);
      if (nobody) result.nobody_identifiable = true;
      if (confirmedNot.length) result.confirmed_not = [...confirmedNot];
    }
    return result;
  }

  /** A check's replies: each photo's findings and report, for the photo panel. */
  function noteResults(composer, gathered, replies) {
    if (!gathered || !gathered.owners) return;
    gathered.owners.forEach((own, post) => {
      const reply = replies[post];
      if (!reply || !reply.ok) return;
      const touched = new Set(own.map((o) => o.entry));
      for (const entry of touched) entry.findings = [];
      (reply.findings || []).forEach((finding) => {
        if (!Number.isInteger(finding.media) || finding.field === 'alt' || !own[finding.media]) return;
        own[finding.media].entry.findings.push(finding);
      });
      (reply.photos || []).forEach((photo, index) => {
        if (photo && own[index]) own[index].item.photo = photo;
      });
    });
    render(composer);
  }

  /** Items the helper says it does not have, per post: after `media_unknown`
   * every photo of that post, else those with a `photos.unchecked` finding. */
  function unknownItems(gathered, replies) {
    const found = [];
    (gathered.owners || []).forEach((own, post) => {
      const reply = replies[post];
      let indexes = [];
      if (reply && !reply.ok && reply.error && reply.error.code === 'media_unknown') indexes = own.map((_, i) => i);
      else if (reply && reply.ok) {
        indexes = (reply.findings || []).filter((f) => f.rule === 'photos.unchecked' && Number.isInteger(f.media)).map((f) => f.media);
      }
      for (const i of new Set(indexes)) if (own[i] && own[i].item.blob) found.push(own[i].item);
    });
    return found;
  }

  /** Sends the photos the helper no longer has again, from this page (the service
   * worker does this itself, unless it restarted and forgot where they were).
   * Resolves to whether anything was sent. */
  async function resendUnknown(gathered, replies) {
    const items = unknownItems(gathered, replies);
    if (!items.length) return false;
    const sent = await Promise.all(items.map((item) => media.upload(item)));
    sent.forEach((result, i) => {
      if (result.photo) items[i].photo = result.photo;
    });
    return sent.every((result) => !result.error);
  }

  /** What the teacher said about the photos, for the check's snapshot. */
  function signature(composer) {
    return JSON.stringify(
      shown(composer).map((e) => [e.key, e.picks.pictured.map((p) => p.ref), e.picks.nobody, e.picks.confirmedNot]),
    );
  }

  /** The teacher changed who is pictured: check the post again. */
  function picksChanged(composer) {
    render(composer);
    live().edited(composer);
  }

  /** The next time `file` is attached, it takes these picks (a cleaned copy shows the same people). */
  function carryPicks(file, picks) {
    carried.set(file, picks);
  }

  window.addEventListener(
    'change',
    (event) => {
      if (!dom.isFileInput(event.target) || !event.target.files) return;
      attach(dom.composerFrom(event.target), event.target.files, 'input');
    },
    true,
  );
  window.addEventListener(
    'paste',
    (event) => {
      const files = event.clipboardData && event.clipboardData.files;
      if (files && files.length) attach(dom.composerFrom(event.target), files, 'paste');
    },
    true,
  );
  window.addEventListener(
    'drop',
    (event) => {
      const files = event.dataTransfer && event.dataTransfer.files;
      if (files && files.length) attach(dom.composerFrom(event.target), files, 'drop');
    },
    true,
  );

  // Previews come and go (X's remove button, a post sent), and descriptions are
  // edited: look once per frame after such a change.
  let pending = false;
  function scan() {
    pending = false;
    for (const composer of dom.composers()) {
      if (sync(composer)) live().edited(composer);
    }
    for (const composer of tracked) if (!composer.isConnected) tracked.delete(composer);
  }
  new MutationObserver((mutations) => {
    if (pending || !mutations.some(dom.touchesAttachments)) return;
    pending = true;
    requestAnimationFrame(scan);
  }).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['src', 'alt', 'aria-label'] });

  globalThis.TweetGuardAttachments = Object.freeze({
    mediaFor, noteResults, resendUnknown, signature, picksChanged, carryPicks, shown, sync,
  });
})();
