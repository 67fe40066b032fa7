// Face matches on a photo's card: who each face looks like, and the teacher's
// "That is not …" (sent as confirmed_not). The logic, then the card itself in jsdom.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

await import('../src/content/face-matches.js');
const fm = globalThis.TweetGuardFaceMatches;

const HOPE = 'pupil:b27c9272ce72';
const MAY = 'pupil:0a1b2c3d4e5f';
const plain = (value) => JSON.parse(JSON.stringify(value));

function report(matches, extra = {}) {
  return {
    sha256: 'e'.repeat(64), kind: 'image', width: 1000, height: 500, faces: 4,
    boxes: [[100, 50, 200, 150], [300, 50, 400, 170], [500, 60, 580, 140], [700, 40, 820, 160]],
    findings: [], verdict: 'block', needs_pictured: true,
    matching: { state: 'done', matches },
    ...extra,
  };
}

const picks = (confirmedNot = [], pictured = []) => ({ pictured, nobody: false, confirmedNot });

test('no matching, matching off, or not finished: no rows', () => {
  assert.deepEqual(fm.rows(null, picks()), []);
  assert.deepEqual(fm.rows(report([], { matching: null }), picks()), []);
  assert.deepEqual(fm.rows(report([{ face: 0, ref: HOPE, name: 'Hope', confident: true }], { matching: { state: 'running' } }), picks()), []);
  assert.deepEqual(fm.rows(report([]), picks()), []);
});

test('one row per person and kind of match, confident first, faces in order', () => {
  const rows = fm.rows(
    report([
      { face: 3, ref: HOPE, name: 'Hope Carrington (Year 2)', confident: false },
      { face: 2, ref: MAY, name: 'May Ellison (Year 2)', confident: false },
      { face: 1, ref: HOPE, name: 'Hope Carrington (Year 2)', confident: true },
      { face: 0, ref: HOPE, name: 'Hope Carrington (Year 2)', confident: false },
    ]),
    picks([MAY]),
  );
  assert.deepEqual(plain(rows), [
    { ref: HOPE, name: 'Hope Carrington (Year 2)', faces: [1], confident: true, dismissed: false },
    { ref: HOPE, name: 'Hope Carrington (Year 2)', faces: [0, 3], confident: false, dismissed: false },
    { ref: MAY, name: 'May Ellison (Year 2)', faces: [2], confident: false, dismissed: true },
  ]);
});

test('a confident match cannot be dismissed, even if the teacher said "not them" before', () => {
  const [row] = fm.rows(report([{ face: 0, ref: HOPE, name: 'Hope', confident: true }]), picks([HOPE]));
  assert.equal(row.dismissed, false);
  assert.equal(fm.line(row).severity, 'block');
});

test('each line says what is wrong and how to put it right, in one line', () => {
  const confident = { ref: HOPE, name: 'Hope Carrington (Year 2)', faces: [0], confident: true, dismissed: false };
  const possible = { ...confident, faces: [1, 4], confident: false };
  const dismissed = { ...possible, faces: [1], dismissed: true };
  assert.deepEqual(fm.line(confident), {
    severity: 'block', rule: 'photos.face-match',
    text: 'Face 1 looks like Hope Carrington (Year 2), who must not appear. Blur that face, or use another photo.',
  });
  assert.equal(
    fm.line(possible).text,
    'Faces 2 and 5 may be Hope Carrington (Year 2), who must not appear. Blur them, or if they are someone else, press “That is not Hope Carrington (Year 2)”.',
  );
  assert.equal(fm.line(possible).severity, 'block');
  assert.deepEqual(fm.line(dismissed), {
    severity: 'info', rule: 'photos.not-them',
    text: 'You said face 2 is not Hope Carrington (Year 2). Press Undo if that was a mistake.',
  });
  // A video cannot be blurred here.
  assert.match(fm.line(confident, { canBlur: false }).text, /Use another video\.$/);
  assert.match(fm.line({ ...possible, faces: [0] }, { canBlur: false }).text, /If it is someone else, press “That is not .*”; if not, use another video\.$/);
  for (const line of [fm.line(confident), fm.line(possible), fm.line(dismissed)]) assert.ok(!line.text.includes('\n'));
});

test('face numbers are counted from one', () => {
  assert.equal(fm.faceWords([0]), 'Face 1');
  assert.equal(fm.faceWords([0, 2]), 'Faces 1 and 3');
  assert.equal(fm.faceWords([0, 2, 9]), 'Faces 1, 3 and 10');
});

test('"That is not …" adds to confirmed_not once and takes them out of who is pictured; Undo takes it back', () => {
  const p = picks([], [{ ref: HOPE, name: 'Hope' }, { ref: 'pupil:amelia', name: 'Amelia' }]);
  const same = fm.notThem(p, HOPE);
  assert.equal(same, p, 'changed in place: the picker holds the same picks');
  fm.notThem(p, HOPE);
  assert.deepEqual(p.confirmedNot, [HOPE]);
  assert.deepEqual(p.pictured.map((x) => x.ref), ['pupil:amelia']);
  fm.undoNotThem(p, HOPE);
  assert.deepEqual(p.confirmedNot, []);
});

test('the helper\'s own match lines give way to the rows, other findings stay', () => {
  const rows = [{ ref: HOPE }];
  assert.equal(fm.saysBetter({ rule: 'photos.face-match' }, rows), true);
  assert.equal(fm.saysBetter({ rule: 'photos.possible-match' }, rows), true);
  assert.equal(fm.saysBetter({ rule: 'photos.who-pictured' }, rows), false);
  // Without rows (a report without matches) the helper's lines are all there is.
  assert.equal(fm.saysBetter({ rule: 'photos.face-match' }, []), false);
});

test('a face is cut out of the photo by its box, 40 px on its long side', () => {
  const r = report([]);
  assert.deepEqual(fm.crop(r, 1), {
    width: '33.3px', height: '40px', backgroundSize: '333.3px 166.7px', backgroundPosition: '-100px -16.7px',
  });
  assert.equal(fm.crop(r, 9), null);
  assert.equal(fm.crop({ ...r, width: 0 }, 0), null);
  assert.equal(fm.crop(null, 0), null);
});

// The card itself: photo-panel.js with the real picker and face-matches.js in jsdom.
function card({ matches, findings = [], confirmedNot = [] }) {
  const dom = new JSDOM('<!doctype html><body><div id="composer"></div></body>', { url: 'https://x.com/home', runScripts: 'outside-only' });
  const { window } = dom;
  const calls = { changed: 0, remedies: [] };
  window.TweetGuardChecker = { ask: async () => ({ ok: true, people: [] }) };
  window.TweetGuardAttachments = { picksChanged: () => calls.changed++ };
  window.TweetGuardRemedies = { apply: (_c, _e, type, faces) => calls.remedies.push([type, faces]) };
  for (const file of ['panel.js', 'people-picker.js', 'face-matches.js', 'photo-panel.js']) {
    window.eval(readFileSync(new URL(`../src/content/${file}`, import.meta.url), 'utf8'));
  }
  const composer = window.document.getElementById('composer');
  const photo = report(matches);
  photo.findings = findings;
  const entry = {
    key: 'blob:1', kind: 'image', route: 'input', state: 'done', thumb: 'blob:1',
    picks: picks(confirmedNot), findings,
    items: [{ kind: 'image', sha256: photo.sha256, photo }],
  };
  const draw = () => window.TweetGuardPhotoPanel.render(composer, composer, [entry], new Map([[entry, 'Photo 1']]));
  draw();
  const root = () => composer.querySelector('[data-tweetguard-photos]').shadowRoot;
  const buttons = (li) => [...li.querySelectorAll('button')].map((b) => b.textContent);
  return { window, entry, calls, draw, root, buttons };
}

test('the card names who a face looks like, shows that face, and offers to blur it', () => {
  const { root, buttons, calls } = card({
    matches: [{ face: 1, ref: HOPE, name: 'Hope Carrington (Year 2)', confident: true }],
    findings: [{ rule: 'photos.face-match', severity: 'block', message: 'This photo looks like Hope Carrington (Year 2), who must not appear.', fix: 'blur' }],
  });
  const li = root().querySelector('li[data-rule="photos.face-match"]');
  assert.match(li.textContent, /Face 2 looks like Hope Carrington \(Year 2\)/);
  assert.equal(root().querySelectorAll('li[data-rule="photos.face-match"]').length, 1, 'said once, not twice');
  assert.equal(li.querySelectorAll('.face').length, 1);
  assert.deepEqual(buttons(li), ['Blur this face'], 'a confident match has no "That is not …"');
  assert.equal(root().querySelector('.card').dataset.verdict, 'block');
  li.querySelector('button').click();
  assert.deepEqual(plain(calls.remedies), [['photo_blur', [1]]]);
});

test('"That is not …" on a possible match goes into confirmed_not and the check runs again', () => {
  const { root, buttons, calls, entry, draw } = card({
    matches: [{ face: 0, ref: HOPE, name: 'Hope Carrington (Year 2)', confident: false }],
  });
  const li = root().querySelector('li[data-rule="photos.possible-match"]');
  assert.deepEqual(buttons(li), ['Blur this face', 'That is not Hope Carrington (Year 2)']);
  li.querySelectorAll('button')[1].click();
  assert.deepEqual(plain(entry.picks.confirmedNot), [HOPE]);
  assert.equal(calls.changed, 1);
  draw(); // as attachments.js does on picksChanged
  assert.equal(root().querySelector('li[data-rule="photos.possible-match"]'), null);
  const said = root().querySelector('li[data-rule="photos.not-them"]');
  assert.match(said.textContent, /You said face 1 is not Hope Carrington/);
  // Nothing else holds this photo (no faces to answer for in this report's findings).
  said.querySelector('button').click(); // Undo
  assert.deepEqual(plain(entry.picks.confirmedNot), []);
  draw();
  assert.ok(root().querySelector('li[data-rule="photos.possible-match"]'));
});

test('the card counts the faces checked while the helper matches them', () => {
  const { root, entry, draw, window } = card({ matches: [] });
  entry.state = 'checking';
  entry.progress = { done: 3, total: 30 };
  draw();
  assert.equal(root().querySelector('.card').dataset.state, 'checking');
  assert.match(root().querySelector('.lines').textContent, /Checking faces 3 of 30…/);
  entry.progress = { done: 4, total: 30 };
  window.TweetGuardPhotoPanel.refresh(window.document.getElementById('composer'), entry);
  assert.match(root().querySelector('.lines').textContent, /Checking faces 4 of 30…/);
});
