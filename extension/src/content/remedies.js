// The photo remedies: 'Remove hidden details' (photo_clean) and 'Blur faces'
// (photo_blur). The helper writes the new file; it comes back in chunks
// (media_get) and goes in place of the original through X's own controls: X's
// remove button on the original, then X's file input with the new file and a
// 'change' event, as a person choosing the file would. attachments.js sees that
// change like any other attach, so the new file is checked again.
(() => {
  'use strict';

  const dom = globalThis.TweetGuardDom;
  const checker = globalThis.TweetGuardChecker;
  const media = globalThis.TweetGuardMedia;
  const attachments = () => globalThis.TweetGuardAttachments;
  const photos = () => globalThis.TweetGuardPhotoPanel;
  const REMEDY_TIMEOUT_MS = 150_000;
  const GONE_TIMEOUT_MS = 5000;

  const CANNOT_SWAP =
    'tweetguard made the new copy but could not put it in place of this photo. Remove the photo and attach it again, then try once more.';
  const BUSY = { photo_clean: 'Removing hidden details…', photo_blur: 'Blurring faces…' };

  function refresh(composer) {
    attachments().sync(composer);
  }

  function previewOf(composer, key) {
    return dom.previewsByPost(composer).flat().find((p) => p.key === key) || null;
  }

  // Resolves true once X has taken the preview away, false after the timeout.
  function gone(composer, key) {
    return new Promise((resolve) => {
      if (!previewOf(composer, key)) return resolve(true);
      const observer = new MutationObserver(() => {
        if (!previewOf(composer, key)) finish(true);
      });
      const timer = setTimeout(() => finish(false), GONE_TIMEOUT_MS);
      function finish(result) {
        observer.disconnect();
        clearTimeout(timer);
        resolve(result);
      }
      observer.observe(composer, { childList: true, subtree: true, attributes: true, attributeFilter: ['src'] });
    });
  }

  function fail(composer, entry, message) {
    entry.busy = null;
    entry.progress = null;
    entry.notice = message;
    refresh(composer);
  }

  /** `faces`: for photo_blur, 'all' or the indexes of the faces to blur (a face match's). */
  async function apply(composer, entry, type, faces = 'all') {
    const item = (entry.items || []).find((i) => i.kind === 'image');
    if (!item || entry.busy) return;
    entry.busy = BUSY[type];
    entry.notice = null;
    refresh(composer);
    // The new copy's faces are matched again: its progress shows on this card.
    const unwatch = media.watch(item.sha256, (progress) => {
      entry.progress = progress;
      photos().refresh(composer, entry);
    });
    let reply;
    try {
      reply = await checker.send({ kind: 'tweetguard:remedy', type, sha256: item.sha256, faces }, REMEDY_TIMEOUT_MS);
    } finally {
      unwatch();
      entry.progress = null;
    }
    if (!reply || !reply.ok) return fail(composer, entry, (reply && reply.error && reply.error.message) || checker.UNAVAILABLE.error.message);
    const file = media.fileFrom(reply.file);
    const preview = previewOf(composer, entry.key);
    const remove = dom.removeButton(preview);
    const input = dom.fileInput(composer);
    if (!preview || !remove || !input) return fail(composer, entry, CANNOT_SWAP);
    // The same people are in a cleaned copy; a blurred one is asked about afresh.
    if (type === 'photo_clean') attachments().carryPicks(file, entry.picks);
    remove.click();
    if (!(await gone(composer, entry.key))) return fail(composer, entry, CANNOT_SWAP);
    // X attaches to the post being edited: the one the photo was in.
    const box = dom.textBoxesIn(composer)[entry.post || 0];
    if (box) box.focus();
    const transfer = new DataTransfer();
    transfer.items.add(file);
    input.files = transfer.files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
  }

  globalThis.TweetGuardRemedies = Object.freeze({ apply });
})();
