// Reading an attached file for the helper: its SHA-256 (crypto.subtle), and for
// a video an excerpt (for its metadata) and its first frame (a <video> and a
// canvas). The bytes stay here; the service worker pulls them a chunk at a time
// (tweetguard:media-read) and keeps the helper's reports by SHA-256.
(() => {
  'use strict';

  const checker = globalThis.TweetGuardChecker;
  const { videoExcerptRanges } = globalThis.TweetGuardAttachmentBook;
  const UPLOAD_TIMEOUT_MS = 150_000; // the worker waits up to 120 s for the analysis
  const FRAME_TIMEOUT_MS = 15_000;
  const MAX_KEPT = 32; // as many as the helper keeps

  const blobs = new Map(); // sha256 -> Blob the worker may ask for
  const watchers = new Map(); // sha256 -> Set of callbacks hearing the helper's progress

  function keep(sha, blob) {
    blobs.delete(sha);
    blobs.set(sha, blob);
    while (blobs.size > MAX_KEPT) blobs.delete(blobs.keys().next().value);
  }

  async function sha256(blob) {
    const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  }

  function base64(blob) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(blob);
    });
  }

  /** Calls `onProgress({done, total})` with the helper's progress matching the faces
   * of `sha` (a file being checked, or one being cleaned or blurred); returns a
   * function that stops it. */
  function watch(sha, onProgress) {
    if (!watchers.has(sha)) watchers.set(sha, new Set());
    const set = watchers.get(sha);
    set.add(onProgress);
    return () => {
      set.delete(onProgress);
      if (!set.size && watchers.get(sha) === set) watchers.delete(sha);
    };
  }

  chrome.runtime.onMessage.addListener((message) => {
    if (!message || message.kind !== 'tweetguard:media-progress') return false;
    const { done, total } = message;
    if (!Number.isInteger(done) || !Number.isInteger(total) || total <= 0) return false;
    for (const onProgress of watchers.get(message.sha256) || []) onProgress({ done: Math.min(done, total), total });
    return false; // news only: nothing to answer
  });

  chrome.runtime.onMessage.addListener((message, _sender, sendResponse) => {
    if (!message || message.kind !== 'tweetguard:media-read') return false;
    const blob = blobs.get(message.sha256);
    if (!blob) {
      sendResponse({ error: 'this page no longer has the file' });
      return false;
    }
    base64(blob.slice(message.offset, message.offset + message.length)).then(
      (data) => sendResponse({ data }),
      (error) => sendResponse({ error: String(error) }),
    );
    return true;
  });

  /** The first frame of a video, as a PNG Blob (null if the browser cannot play it). */
  function firstFrame(file) {
    return new Promise((resolve) => {
      const url = URL.createObjectURL(file);
      const video = document.createElement('video');
      let settled = false;
      const done = (blob) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        video.removeAttribute('src');
        video.load();
        URL.revokeObjectURL(url);
        resolve(blob);
      };
      const timer = setTimeout(() => done(null), FRAME_TIMEOUT_MS);
      video.muted = true;
      video.playsInline = true;
      video.preload = 'auto';
      video.addEventListener('error', () => done(null));
      video.addEventListener('loadeddata', () => {
        try {
          const canvas = document.createElement('canvas');
          canvas.width = video.videoWidth;
          canvas.height = video.videoHeight;
          if (!canvas.width || !canvas.height) return done(null);
          canvas.getContext('2d').drawImage(video, 0, 0);
          canvas.toBlob((blob) => done(blob), 'image/png');
        } catch {
          done(null);
        }
      });
      video.src = url;
    });
  }

  /** What the helper checks for one attached file: [{kind, mime, name, blob}]
   * (a photo is one part; a video is its excerpt and its first frame). */
  async function parts(file) {
    const name = file.name || 'attachment';
    const mime = file.type || 'application/octet-stream';
    if (!/^video\//i.test(mime)) return [{ kind: 'image', mime, name, blob: file }];
    const excerpt = new Blob(videoExcerptRanges(file.size).map(([a, b]) => file.slice(a, b)), { type: mime });
    const frame = await firstFrame(file);
    return [
      { kind: 'video', mime, name, blob: excerpt },
      { kind: 'video-frame', mime: 'image/png', name: `${name.replace(/\.[^.]*$/, '')}-frame.png`, blob: frame },
    ];
  }

  /** Hashes one part and hands it to the worker, which sends it to the helper.
   * Resolves to {kind, sha256, mime, name, photo} or {kind, error}.
   * `onProgress({done, total})` hears the helper matching its faces. */
  async function upload(part, { onProgress = null } = {}) {
    if (!part.blob) {
      return {
        kind: part.kind,
        error: {
          code: 'media_unreadable',
          message: 'tweetguard could not read the first frame of this video, so the post is held. Try another video format (MP4).',
        },
      };
    }
    const sha = await sha256(part.blob);
    keep(sha, part.blob);
    const meta = { sha256: sha, mime: part.mime, name: part.name, kind: part.kind, size: part.blob.size };
    const unwatch = onProgress ? watch(sha, onProgress) : () => {};
    let reply;
    try {
      reply = await checker.send({ kind: 'tweetguard:mediaPut', meta }, UPLOAD_TIMEOUT_MS);
    } finally {
      unwatch();
    }
    const base = { kind: part.kind, sha256: sha, mime: part.mime, name: part.name, blob: part.blob };
    if (!reply || !reply.ok) return { ...base, error: (reply && reply.error) || checker.UNAVAILABLE.error };
    return { ...base, photo: reply.photo };
  }

  /** Reads a preview's own URL (blob:, data:) when the file itself was never seen. */
  async function fromPreview(src, kind) {
    const response = await fetch(src);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const blob = await response.blob();
    const type = blob.type || (kind === 'video' ? 'video/mp4' : 'image/png');
    return new File([blob], kind === 'video' ? 'preview-video' : 'preview-photo', { type });
  }

  /** A File from base64 chunks (media_get). */
  function fileFrom({ chunks, name, mime }) {
    const arrays = chunks.map((data) => Uint8Array.from(atob(data), (c) => c.charCodeAt(0)));
    return new File(arrays, name || 'photo.jpg', { type: mime || 'image/jpeg' });
  }

  globalThis.TweetGuardMedia = Object.freeze({ parts, upload, watch, fromPreview, fileFrom, sha256, firstFrame });
})();
