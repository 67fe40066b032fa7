// Opt-in face matching on a photo's card (docs/face-matching.md): who each face
// looks like, in the teacher's words, and the teacher's "that is not them". Pure
// logic over the helper's photo report and the teacher's picks (no DOM, no X):
// photo-panel.js draws it, node tests drive it directly.
//
// A confident match always holds the post until that face is blurred. A possible
// match holds it until the face is blurred or the teacher says it is not that
// pupil, which travels in the check as `confirmed_not` (attachments.js).
(() => {
  'use strict';

  const MATCH_RULES = new Set(['photos.face-match', 'photos.possible-match']);

  /** The report's matches ([{face, ref, name, confident}]), or [] when matching
   * is off or has not finished. */
  function matchesOf(report) {
    const matching = report && report.matching;
    if (!matching || matching.state !== 'done' || !Array.isArray(matching.matches)) return [];
    return matching.matches.filter(
      (m) => m && typeof m.ref === 'string' && m.ref && Number.isInteger(m.face) && m.face >= 0,
    );
  }

  /** One row per person and kind of match, in face order:
   * [{ref, name, faces: [index...], confident, dismissed}]. `dismissed`: the
   * teacher said a possible match is not them (a confident one cannot be dismissed). */
  function rows(report, picks) {
    const confirmedNot = (picks && picks.confirmedNot) || [];
    const byKey = new Map();
    for (const match of matchesOf(report)) {
      const confident = match.confident === true;
      const key = `${confident}|${match.ref}`;
      if (!byKey.has(key)) {
        byKey.set(key, {
          ref: match.ref,
          name: match.name || 'a pupil who must not appear',
          faces: [],
          confident,
          dismissed: !confident && confirmedNot.includes(match.ref),
        });
      }
      const row = byKey.get(key);
      if (!row.faces.includes(match.face)) row.faces.push(match.face);
    }
    const list = [...byKey.values()];
    for (const row of list) row.faces.sort((a, b) => a - b);
    // Confident matches first: they are what certainly holds the post.
    return list.sort((a, b) => Number(b.confident) - Number(a.confident) || a.faces[0] - b.faces[0]);
  }

  /** "Face 2", "Faces 2 and 5", "Faces 2, 5 and 7" (counted from 1, as people count). */
  function faceWords(faces) {
    const numbers = faces.map((f) => String(f + 1));
    if (numbers.length === 1) return `Face ${numbers[0]}`;
    return `Faces ${numbers.slice(0, -1).join(', ')} and ${numbers[numbers.length - 1]}`;
  }

  function notThemLabel(row) {
    return `That is not ${row.name}`;
  }

  /** What a row says, in one line: what is wrong and how to put it right.
   * `canBlur`: a photo (a video cannot be blurred here). */
  function line(row, { canBlur = true } = {}) {
    const who = faceWords(row.faces);
    const plural = row.faces.length > 1;
    if (row.confident) {
      const fix = canBlur ? `Blur ${plural ? 'those faces' : 'that face'}, or use another photo.` : 'Use another video.';
      return {
        severity: 'block',
        rule: 'photos.face-match',
        text: `${who} ${plural ? 'look' : 'looks'} like ${row.name}, who must not appear. ${fix}`,
      };
    }
    if (row.dismissed) {
      return {
        severity: 'info',
        rule: 'photos.not-them',
        text: `You said ${who.toLowerCase()} ${plural ? 'are' : 'is'} not ${row.name}. Press Undo if that was a mistake.`,
      };
    }
    const someoneElse = `${plural ? 'they are' : 'it is'} someone else, press “${notThemLabel(row)}”`;
    const fix = canBlur
      ? `Blur ${plural ? 'them' : 'it'}, or if ${someoneElse}.`
      : `If ${someoneElse}; if not, use another video.`;
    return {
      severity: 'block',
      rule: 'photos.possible-match',
      text: `${who} may be ${row.name}, who must not appear. ${fix}`,
    };
  }

  /** The teacher says a possible match is not this person: changes `picks` in place. */
  function notThem(picks, ref) {
    picks.confirmedNot = [...new Set([...(picks.confirmedNot || []), ref])];
    // Not them, so not pictured either.
    picks.pictured = (picks.pictured || []).filter((p) => p.ref !== ref);
    return picks;
  }

  /** Takes back "that is not them": changes `picks` in place. */
  function undoNotThem(picks, ref) {
    picks.confirmedNot = (picks.confirmedNot || []).filter((r) => r !== ref);
    return picks;
  }

  /** Whether a finding is one the rows say better (with the face and the choices). */
  function saysBetter(finding, matchRows) {
    return matchRows.length > 0 && MATCH_RULES.has(finding.rule);
  }

  /** A face cut out of the photo, `size` pixels on its long side, as CSS lengths
   * for a box with the photo as its background; null if the report has no box for it. */
  function crop(report, face, size = 40) {
    const box = report && Array.isArray(report.boxes) ? report.boxes[face] : null;
    if (!box || !(report.width > 0) || !(report.height > 0)) return null;
    const [x0, y0, x1, y1] = box;
    const w = x1 - x0;
    const h = y1 - y0;
    if (!(w > 0) || !(h > 0)) return null;
    const scale = size / Math.max(w, h);
    const px = (n) => `${Math.round(n * scale * 10) / 10}px`;
    return {
      width: px(w),
      height: px(h),
      backgroundSize: `${px(report.width)} ${px(report.height)}`,
      backgroundPosition: `${px(-x0)} ${px(-y0)}`,
    };
  }

  globalThis.TweetGuardFaceMatches = Object.freeze({
    MATCH_RULES, matchesOf, rows, faceWords, line, notThemLabel, notThem, undoNotThem, saysBetter, crop,
  });
})();
