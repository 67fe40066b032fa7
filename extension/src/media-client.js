// Photos and videos on their way to the helper (docs/protocol.md, media_put and
// media_get), and what the helper said about each, by SHA-256.
//
// The service worker owns this, beside the one native port (helper-client.js).
// The bytes stay in the tab that attached them: `put` pulls them a chunk at a
// time through a `read(offset, length)` function, so a file the helper has
// forgotten (it restarted, or evicted it) can be sent again at check time.

export const CHUNK_BYTES = 1024 * 1024; // at most 1 MiB before base64, per the protocol
export const PUT_TIMEOUT_MS = 5000; // a chunk that is not the last is answered at once
export const ANALYSE_TIMEOUT_MS = 120_000; // the last chunk is answered after the analysis
export const REMEDY_TIMEOUT_MS = 120_000; // photo_clean, photo_blur
export const CHECK_TIMEOUT_MS = 60_000; // a check with photos may match faces
const KEEP = 64; // reports and sources remembered (the helper keeps 32 files)

const UNREADABLE =
  'tweetguard could not read this photo from the page, so the post is held. Remove it and attach it again.';
const NO_REPORT =
  'The safety helper did not say what it found in this photo, so the post is held. Remove it and attach it again.';

function failure(code, message, detail = '') {
  return { ok: false, error: { code, message, detail: String(detail) } };
}

/** [{offset, length}] covering `size` bytes in chunks of at most `chunk`;
 * an empty file is one empty chunk. */
export function chunkPlan(size, chunk = CHUNK_BYTES) {
  if (!(size > 0)) return [{ offset: 0, length: 0 }];
  const plan = [];
  for (let offset = 0; offset < size; offset += chunk) plan.push({ offset, length: Math.min(chunk, size - offset) });
  return plan;
}

/** A Map that forgets its oldest entries past `limit`. */
class Recent extends Map {
  constructor(limit) {
    super();
    this.limit = limit;
  }

  set(key, value) {
    this.delete(key);
    super.set(key, value);
    while (this.size > this.limit) this.delete(this.keys().next().value);
    return this;
  }
}

/** Media items (check or override) whose photo the helper must send again:
 * every one after `media_unknown`, else those with a `photos.unchecked` finding. */
export function needsResend(request, reply) {
  const media = Array.isArray(request.media) ? request.media : [];
  const known = (i) => media[i] && typeof media[i].sha256 === 'string';
  if (reply && !reply.ok && reply.error && reply.error.code === 'media_unknown') {
    return media.map((_, i) => i).filter(known);
  }
  if (!reply || !reply.ok || !Array.isArray(reply.findings)) return [];
  const indexes = reply.findings
    .filter((f) => f.rule === 'photos.unchecked' && Number.isInteger(f.media))
    .map((f) => f.media);
  return [...new Set(indexes)].filter(known);
}

export class MediaClient {
  /** `helper` is a HelperClient (or anything with its `request`). */
  constructor(helper) {
    this.helper = helper;
    this.reports = new Recent(KEEP); // sha256 -> photo report
    this.sources = new Recent(KEEP); // sha256 -> {meta, read}
    this.uploads = new Map(); // sha256 -> Promise of the last media_put reply
    this.watchers = new Map(); // sha256 -> Set of onProgress callbacks of the puts waiting on it
  }

  /** Calls `onProgress` with the helper's progress on `sha` until `until` settles. */
  watch(sha, onProgress, until) {
    if (!onProgress) return until;
    if (!this.watchers.has(sha)) this.watchers.set(sha, new Set());
    const set = this.watchers.get(sha);
    set.add(onProgress);
    return until.finally(() => {
      set.delete(onProgress);
      if (!set.size && this.watchers.get(sha) === set) this.watchers.delete(sha);
    });
  }

  /** Tells everyone waiting on `sha` how far the helper is. */
  progress(sha, state) {
    for (const onProgress of this.watchers.get(sha) || []) {
      try {
        onProgress(state);
      } catch {
        // one tab gone must not stop the others hearing
      }
    }
  }

  /** Sends a file unless the helper's report is already here. `meta` is
   * {sha256, mime, name, kind, size}; `read(offset, length)` resolves to base64.
   * Resolves to the final media_put reply ({ok, photo}) or an error reply.
   * `onProgress({done, total})` hears how far the helper's face matching is, also
   * when another tab's upload of the same file is the one under way. */
  put(meta, read, { force = false, onProgress = null } = {}) {
    const sha = meta.sha256;
    if (read) this.sources.set(sha, { meta, read });
    if (!force && this.reports.has(sha)) return Promise.resolve({ ok: true, photo: this.reports.get(sha) });
    if (this.uploads.has(sha)) return this.watch(sha, onProgress, this.uploads.get(sha));
    const source = this.sources.get(sha);
    if (!source) return Promise.resolve(failure('media_unknown', UNREADABLE, 'no source for this photo'));
    const upload = this.upload(source.meta, source.read).finally(() => this.uploads.delete(sha));
    this.uploads.set(sha, upload);
    return this.watch(sha, onProgress, upload);
  }

  async upload(meta, read) {
    const { sha256, mime, name, kind, size } = meta;
    const plan = chunkPlan(size);
    for (const { offset, length } of plan) {
      let data;
      try {
        data = length === 0 ? '' : await read(offset, length);
        if (typeof data !== 'string') throw new Error('no data');
      } catch (error) {
        return failure('media_unreadable', UNREADABLE, error && error.message);
      }
      const last = offset + length >= size;
      // The last chunk (or a first one the helper may answer from a file it has) is
      // answered after the analysis, which reports its progress matching faces.
      const reply = await this.helper.request(
        { type: 'media_put', sha256, mime, name, kind, size, offset, data },
        { timeoutMs: last ? ANALYSE_TIMEOUT_MS : PUT_TIMEOUT_MS, onProgress: (state) => this.progress(sha256, state) },
      );
      if (!reply || !reply.ok) return reply;
      if (reply.photo) {
        // The helper had it already (answered at the first chunk), or has analysed it.
        this.reports.set(sha256, reply.photo);
        return reply;
      }
      if (last) break;
    }
    return failure('media_no_report', NO_REPORT, 'the last chunk was answered without a report');
  }

  report(sha) {
    return this.reports.get(sha) || null;
  }

  /** A check or override naming photos by SHA-256: waits for their uploads, and
   * sends them again once if the helper no longer has them. */
  async request(request) {
    const media = Array.isArray(request.media) ? request.media : [];
    const shas = media.map((m) => m && m.sha256).filter((sha) => typeof sha === 'string');
    const waits = await Promise.all(shas.map((sha) => (this.sources.has(sha) || this.uploads.has(sha) ? this.put({ sha256: sha }) : null)));
    const broken = waits.find((r) => r && !r.ok && r.error.code !== 'media_unknown');
    if (broken) return broken;
    let reply = await this.helper.request(request, { timeoutMs: CHECK_TIMEOUT_MS });
    const resend = needsResend(request, reply);
    const sendable = resend.filter((i) => this.sources.has(media[i].sha256));
    if (sendable.length) {
      for (const i of sendable) this.reports.delete(media[i].sha256);
      const again = await Promise.all(sendable.map((i) => this.put({ sha256: media[i].sha256 }, null, { force: true })));
      const failed = again.find((r) => !r.ok);
      if (failed) return failed;
      reply = await this.helper.request(request, { timeoutMs: CHECK_TIMEOUT_MS });
    }
    if (reply && reply.ok && Array.isArray(reply.photos)) {
      for (const photo of reply.photos) if (photo && photo.sha256) this.reports.set(photo.sha256, photo);
    }
    return reply;
  }

  /** The helper's copy of a file: {ok, sha256, mime, name, size, chunks: [base64...]}. */
  async fetch(sha256) {
    const chunks = [];
    let offset = 0;
    for (;;) {
      const reply = await this.helper.request({ type: 'media_get', sha256, offset });
      if (!reply || !reply.ok) return reply;
      const data = typeof reply.data === 'string' ? reply.data : '';
      chunks.push(data);
      const got = base64Length(data);
      offset += got;
      if (reply.done || offset >= reply.size) {
        return { ok: true, sha256, mime: reply.mime, name: reply.name, size: reply.size, chunks };
      }
      if (got === 0) return failure('media_mismatch', NO_REPORT, 'media_get sent an empty chunk before the end');
    }
  }

  /** photo_clean or photo_blur, then the new file: {ok, photo, file}.
   * `onProgress({done, total})` hears the helper matching the faces of the new copy. */
  async remedy(type, sha256, faces = 'all', { onProgress = null } = {}) {
    const request = type === 'photo_blur' ? { type, sha256, faces } : { type: 'photo_clean', sha256 };
    const options = { timeoutMs: REMEDY_TIMEOUT_MS, onProgress };
    let reply = await this.helper.request(request, options);
    if (reply && !reply.ok && reply.error && reply.error.code === 'media_unknown' && this.sources.has(sha256)) {
      const again = await this.put({ sha256 }, null, { force: true, onProgress });
      if (!again.ok) return again;
      reply = await this.helper.request(request, options);
    }
    if (!reply || !reply.ok) return reply;
    if (!reply.photo || !reply.photo.sha256) return failure('media_no_report', NO_REPORT, `${type} without a report`);
    this.reports.set(reply.photo.sha256, reply.photo);
    const file = await this.fetch(reply.photo.sha256);
    if (!file.ok) return file;
    return { ok: true, photo: reply.photo, file };
  }
}

/** Bytes encoded by a base64 string. */
export function base64Length(data) {
  if (!data) return 0;
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  return (data.length / 4) * 3 - padding;
}
