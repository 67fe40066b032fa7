// Each attached photo and video with its verdict (fine; who is pictured?; held,
// with the reason) and the remedies as buttons, in a shadow root under the
// composer. One card per attachment; a card lives as long as its attachment, so
// the people picker keeps its focus and typing while checks come and go.
(() => {
  'use strict';

  const picker = globalThis.TweetGuardPeoplePicker;
  const checker = globalThis.TweetGuardChecker;
  const faceMatches = globalThis.TweetGuardFaceMatches;
  const attachments = () => globalThis.TweetGuardAttachments;
  const remedies = () => globalThis.TweetGuardRemedies;

  const HOST_ATTR = 'data-tweetguard-photos';
  const VIDEO_NOTE =
    'Only this video\'s details and its first frame are checked: the rest of the video is not checked. Watch it all before posting.';
  const WHO =
    'Who is in this photo? Press “Who is in this photo?” and pick them, or tick that no one can be recognised.';
  const STYLE = `
    :host { all: initial; display: block; margin: 8px 0; font: 14px/1.4 system-ui, sans-serif; color: #0f1419; }
    .cards { display: grid; gap: 8px; }
    .card { display: flex; gap: 10px; border: 2px solid #8a8a8a; border-radius: 12px; padding: 8px 10px; background: #fff; }
    .card[data-verdict="block"], .card[data-verdict="error"] { border-color: #c0182b; background: #fff4f4; }
    .card[data-verdict="warn"] { border-color: #b35c00; background: #fff8ec; }
    .card[data-verdict="allow"] { border-color: #1a7f37; }
    .thumb { width: 72px; height: 72px; object-fit: cover; border-radius: 8px; background: #eff3f4; flex: none; }
    .videothumb { display: flex; align-items: center; justify-content: center; font-size: 12px; }
    .body { flex: 1; min-width: 0; }
    h3 { font-size: 14px; margin: 0 0 4px; }
    ul { margin: 0; padding: 0; list-style: none; }
    li { margin: 3px 0; }
    .sev { display: inline-block; min-width: 3.2em; font-weight: 700; text-transform: uppercase; font-size: 11px; }
    .sev.block { color: #c0182b; } .sev.warn { color: #9a4f00; } .sev.ok { color: #1a7f37; } .sev.info { color: #536471; }
    button { font: inherit; margin: 6px 6px 0 0; padding: 3px 10px; border-radius: 999px; border: 1px solid #0f1419; background: #fff; color: #0f1419; cursor: pointer; }
    button:disabled { opacity: .5; cursor: default; }
    button:focus-visible, input:focus-visible { outline: 3px solid #1d9bf0; outline-offset: 2px; }
    .picker { margin-top: 8px; }
    .picker label { display: block; font-weight: 600; }
    .picker label.inline { display: inline; font-weight: 400; margin-left: 4px; }
    .picker input[type="text"] { font: inherit; width: 100%; box-sizing: border-box; margin-top: 4px; padding: 4px 8px; border: 1px solid #536471; border-radius: 6px; }
    .options li { padding: 3px 8px; border-radius: 6px; cursor: pointer; }
    .options li[aria-selected="true"] { background: #e8f5fd; outline: 2px solid #1d9bf0; }
    .chosen li { display: inline-block; margin: 4px 6px 0 0; padding: 2px 4px 2px 10px; border-radius: 999px; background: #eff3f4; }
    .chosen button { margin: 0 0 0 4px; padding: 0 6px; }
    .nobody { margin-top: 6px; }
    .face { display: inline-block; vertical-align: middle; margin-right: 6px; border-radius: 4px; background-repeat: no-repeat; outline: 2px solid #c0182b; }
    li[data-rule="photos.not-them"] .face { outline-color: #536471; }
    li button { margin-top: 2px; }
  `;

  const hosts = new WeakMap(); // composer -> {host, list, cards: Map(entry -> card)}

  const { el } = globalThis.TweetGuardPanel; // one element builder for every view

  function ensure(composer, anchor) {
    let entry = hosts.get(composer);
    if (entry && entry.host.isConnected) return entry;
    const host = document.createElement('div');
    host.setAttribute(HOST_ATTR, '');
    const root = host.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = STYLE;
    const list = el('div', { class: 'cards', role: 'region', 'aria-label': 'tweetguard: photos and videos', 'aria-live': 'polite' });
    root.append(style, list);
    anchor.append(host);
    entry = { host, list, cards: new Map() };
    hosts.set(composer, entry);
    return entry;
  }

  const reports = (entry) => (entry.items || []).map((item) => item.photo).filter(Boolean);
  const picked = (entry) => entry.picks.pictured.length > 0 || entry.picks.nobody;

  // The item whose faces the teacher answers for: the photo, or a video's first frame.
  function faceItem(entry) {
    return (entry.items || []).find((item) => item.kind === 'image' || item.kind === 'video-frame') || null;
  }

  // The helper's progress matching faces (a class photo takes seconds).
  function progressText(entry) {
    const p = entry.progress;
    return p && p.total > 0 ? `Checking faces ${Math.min(p.done, p.total)} of ${p.total}…` : '';
  }

  /** One line per thing to say: [{severity, text, rule}], and the card's verdict. */
  function assess(entry) {
    const progress = progressText(entry);
    if (entry.busy) {
      return { verdict: 'checking', lines: [{ severity: 'info', text: progress ? `${entry.busy} ${progress}` : entry.busy, rule: 'busy' }] };
    }
    if (entry.state === 'checking') {
      const what = entry.kind === 'video' ? 'video' : 'photo';
      return { verdict: 'checking', lines: [{ severity: 'info', text: progress || `Checking this ${what}…`, rule: 'checking' }] };
    }
    if (entry.state === 'error') {
      return { verdict: 'error', lines: [{ severity: 'block', text: entry.error.message, rule: entry.error.code }] };
    }
    const seen = new Set();
    const findings = (entry.findings || reports(entry).flatMap((r) => r.findings || [])).filter((f) => {
      const key = `${f.rule}|${f.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    // Face matches are said per face, with their choices; the helper's lines about
    // them give way to those.
    const face = faceItem(entry);
    const matchRows = faceMatches.rows(face && face.photo, entry.picks);
    const canBlur = entry.kind !== 'video';
    const lines = [
      ...matchRows.map((row) => ({ ...faceMatches.line(row, { canBlur }), row, fix: row.dismissed ? null : 'blur' })),
      ...findings
        // The card says it for every video, in the same words (below).
        .filter((f) => f.rule !== 'photos.video-partly-checked' && !faceMatches.saysBetter(f, matchRows))
        .map((f) => ({ severity: f.severity, text: f.message, rule: f.rule, fix: f.fix })),
    ];
    const needs = reports(entry).some((r) => r.needs_pictured);
    if (needs && !picked(entry) && !findings.some((f) => f.rule === 'photos.who-pictured')) {
      lines.push({ severity: 'block', text: WHO, rule: 'photos.who-pictured', fix: 'pictured' });
    }
    if (entry.notice) lines.push({ severity: 'block', text: entry.notice, rule: 'remedy' });
    const worst = lines.some((l) => l.severity === 'block') ? 'block' : lines.some((l) => l.severity === 'warn') ? 'warn' : 'allow';
    if (worst === 'allow') {
      let fine = 'Fine to post.';
      if (entry.picks.nobody) fine += ' You said no one can be recognised.';
      else if (entry.picks.pictured.length) fine += ` Pictured: ${entry.picks.pictured.map((p) => p.name).join(', ')}.`;
      lines.unshift({ severity: 'ok', text: fine, rule: 'fine' });
    }
    if (entry.kind === 'video') lines.push({ severity: 'info', text: VIDEO_NOTE, rule: 'video.rest-unchecked' });
    return { verdict: worst, lines };
  }

  const BADGE = { block: 'held', warn: 'check', ok: 'fine', info: 'note' };

  function card(composer, entry) {
    const node = el('div', { class: 'card' });
    const thumb =
      entry.kind === 'video'
        ? el('div', { class: 'thumb videothumb', 'aria-hidden': 'true' }, '▶ video')
        : el('img', { class: 'thumb', alt: '', src: entry.thumb || '' });
    const body = el('div', { class: 'body' });
    const title = el('h3', {});
    const lines = el('ul', { class: 'lines' });
    const actions = el('div', { class: 'actions' });
    const slot = el('div', { class: 'picker-slot' });
    body.append(title, lines, actions, slot);
    node.append(thumb, body);
    return { node, thumb, title, lines, actions, slot, composer };
  }

  function button(text, run, { expanded, label } = {}) {
    const node = el('button', { type: 'button' }, text);
    if (label) node.setAttribute('aria-label', label);
    if (expanded !== undefined) node.setAttribute('aria-expanded', String(expanded));
    node.addEventListener('click', (event) => {
      event.stopPropagation();
      if (!node.disabled) run();
    });
    node.addEventListener('keydown', (event) => event.stopPropagation());
    return node;
  }

  async function searchPeople(query) {
    const reply = await checker.ask({ type: 'people', query, limit: 8 });
    return reply && reply.ok && Array.isArray(reply.people) ? reply.people : [];
  }

  // The matched face, cut out of the photo, so the teacher sees which one is meant.
  function faceCrop(entry, report, faceIndex) {
    const css = entry.kind !== 'video' && entry.thumb && faceMatches.crop(report, faceIndex);
    if (!css) return null;
    const node = el('span', { class: 'face', role: 'img', 'aria-label': `face ${faceIndex + 1}` });
    // CSSOM, not a style attribute: X's content security policy allows this.
    node.style.backgroundImage = `url("${entry.thumb}")`;
    Object.assign(node.style, css);
    return node;
  }

  // A face match's choices: blur those faces; for a possible match, "That is not
  // <name>" (sent as confirmed_not), or Undo once said.
  function matchActions(composer, entry, row, ready) {
    if (!ready) return [];
    const found = [];
    if (!row.dismissed && entry.kind !== 'video') {
      const which = row.faces.length > 1 ? 'these faces' : 'this face';
      found.push(button(`Blur ${which}`, () => remedies().apply(composer, entry, 'photo_blur', row.faces), {
        label: `Blur ${which}: ${faceMatches.faceWords(row.faces).toLowerCase()}, ${row.name}`,
      }));
    }
    if (!row.confident && !row.dismissed) {
      found.push(button(faceMatches.notThemLabel(row), () => {
        faceMatches.notThem(entry.picks, row.ref);
        if (entry.picker) entry.picker.refresh();
        attachments().picksChanged(composer);
      }));
    }
    if (row.dismissed) {
      found.push(button('Undo', () => {
        faceMatches.undoNotThem(entry.picks, row.ref);
        attachments().picksChanged(composer);
      }, { label: `Undo: it may be ${row.name} after all` }));
    }
    return found;
  }

  function update(composer, parts, entry, label) {
    const { verdict, lines } = assess(entry);
    parts.label = label;
    parts.node.dataset.verdict = verdict;
    parts.node.dataset.state = entry.state;
    parts.node.dataset.kind = entry.kind;
    parts.node.dataset.route = entry.route;
    parts.title.textContent = label;
    if (parts.thumb.tagName === 'IMG' && entry.thumb && parts.thumb.getAttribute('src') !== entry.thumb) parts.thumb.src = entry.thumb;
    const ready = entry.state === 'done' && !entry.busy;
    const face = faceItem(entry);
    const faceReport = face && face.photo;
    parts.lines.replaceChildren(
      ...lines.map((line) => {
        const li = el('li', { 'data-rule': line.rule || '', 'data-severity': line.severity });
        li.append(el('span', { class: `sev ${line.severity}` }, BADGE[line.severity] || line.severity), document.createTextNode(' '));
        if (line.row) {
          li.dataset.ref = line.row.ref;
          li.dataset.faces = line.row.faces.join(',');
          const crops = line.row.faces.slice(0, 6).map((i) => faceCrop(entry, faceReport, i)).filter(Boolean);
          li.append(...crops);
        }
        li.append(document.createTextNode(line.text));
        if (line.row) {
          const choices = matchActions(composer, entry, line.row, ready);
          if (choices.length) li.append(el('br'), ...choices);
        }
        return li;
      }),
    );
    const actions = [];
    const photo = entry.kind !== 'video' && reports(entry)[0];
    if (ready && photo) {
      const meta = photo.metadata || {};
      const hidden = meta.gps || (meta.fields && meta.fields.length) || lines.some((l) => l.fix === 'clean');
      if (hidden) actions.push(button('Remove hidden details', () => remedies().apply(composer, entry, 'photo_clean')));
      if (photo.faces > 0 || lines.some((l) => l.fix === 'blur')) {
        actions.push(button('Blur faces', () => remedies().apply(composer, entry, 'photo_blur')));
      }
    }
    const asks = faceReport && (faceReport.faces > 0 || faceReport.needs_pictured || lines.some((l) => l.fix === 'pictured'));
    if (ready && (asks || picked(entry))) {
      actions.push(
        button('Who is in this photo?', () => {
          entry.pickerOpen = !entry.pickerOpen;
          update(composer, parts, entry, label);
          if (entry.pickerOpen && entry.picker) entry.picker.focus();
        }, { expanded: Boolean(entry.pickerOpen) }),
      );
    }
    parts.actions.replaceChildren(...actions);
    if (entry.pickerOpen && ready) {
      if (!entry.picker) {
        entry.picker = picker.create({
          picks: entry.picks,
          search: searchPeople,
          onChange: () => attachments().picksChanged(composer),
        });
      }
      if (entry.picker.element.parentNode !== parts.slot) parts.slot.replaceChildren(entry.picker.element);
    } else if (parts.slot.firstChild) {
      parts.slot.replaceChildren();
    }
  }

  const api = {
    /** Shows `entries` (attachments.js's, in X's order) under the composer; none: no panel. */
    render(composer, anchor, entries, labels) {
      if (!entries.length) {
        api.clear(composer);
        return;
      }
      const { list, cards } = ensure(composer, anchor);
      for (const [entry, parts] of cards) {
        if (!entries.includes(entry)) {
          parts.node.remove();
          cards.delete(entry);
        }
      }
      entries.forEach((entry, index) => {
        let parts = cards.get(entry);
        if (!parts) {
          parts = card(composer, entry);
          cards.set(entry, parts);
        }
        update(composer, parts, entry, labels.get(entry) || `Photo ${index + 1}`);
        if (list.children[index] !== parts.node) list.insertBefore(parts.node, list.children[index] || null);
      });
    },

    /** Redraws one attachment's card (its check's progress), leaving the others be. */
    refresh(composer, entry) {
      const host = hosts.get(composer);
      const parts = host && host.host.isConnected && host.cards.get(entry);
      if (parts) update(composer, parts, entry, parts.label);
    },

    clear(composer) {
      const entry = hosts.get(composer);
      if (entry) entry.host.remove();
      hosts.delete(composer);
    },

    assess,
  };

  globalThis.TweetGuardPhotoPanel = Object.freeze(api);
})();
