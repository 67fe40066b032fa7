// The findings panel beside a composer, in a shadow root so X's styles cannot
// reach it. It only renders; guard.js and live.js decide what to show and pass
// callbacks for the buttons.
(() => {
  'use strict';

  const HOST_ATTR = 'data-tweetguard-panel';
  const STYLE = `
    :host { all: initial; display: block; margin: 8px 0; font: 14px/1.4 system-ui, sans-serif; }
    .panel { border-radius: 12px; padding: 10px 12px; border: 2px solid #8a8a8a; background: #fff; color: #0f1419; }
    .panel.block { border-color: #c0182b; background: #fff4f4; }
    .panel.warn { border-color: #b35c00; background: #fff8ec; }
    .panel.info, .panel.checking, .panel.confirm { border-color: #536471; background: #f7f9f9; }
    h2 { font-size: 14px; margin: 0 0 6px; }
    ul { margin: 0; padding: 0; list-style: none; }
    li { margin: 6px 0; }
    .sev { display: inline-block; min-width: 3.5em; font-weight: 700; text-transform: uppercase; font-size: 11px; }
    .sev.block { color: #c0182b; } .sev.warn { color: #9a4f00; } .sev.info { color: #536471; }
    q { font-weight: 600; }
    button { font: inherit; margin: 6px 6px 0 0; padding: 4px 12px; border-radius: 999px; border: 1px solid #0f1419; background: #fff; color: #0f1419; cursor: pointer; }
    button.primary { background: #0f1419; color: #fff; }
    button:disabled { opacity: .5; cursor: default; }
    button:focus-visible, input:focus-visible { outline: 3px solid #1d9bf0; outline-offset: 2px; }
    label { display: block; margin-top: 8px; font-weight: 600; }
    input { font: inherit; width: 100%; box-sizing: border-box; margin-top: 4px; padding: 4px 8px; border: 1px solid #536471; border-radius: 6px; }
  `;

  const panels = new WeakMap(); // composer -> {host, body}

  function ensure(composer, anchor) {
    let entry = panels.get(composer);
    if (entry && entry.host.isConnected) return entry;
    const host = document.createElement('div');
    host.setAttribute(HOST_ATTR, '');
    const root = host.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = STYLE;
    const body = document.createElement('div');
    root.append(style, body);
    anchor.append(host);
    entry = { host, body };
    panels.set(composer, entry);
    return entry;
  }

  function el(tag, attrs = {}, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // `once`: the button acts a single time (a double click must not post twice).
  function button(label, run, { primary = false, ariaLabel, once = false } = {}) {
    const node = el('button', { type: 'button', class: primary ? 'primary' : '' }, label);
    if (ariaLabel) node.setAttribute('aria-label', ariaLabel);
    // Keep X's own listeners (and our guard) out of the panel's buttons.
    node.addEventListener('click', (event) => {
      event.stopPropagation();
      if (node.disabled) return;
      if (once) node.disabled = true;
      run(event);
    });
    return node;
  }

  function render(composer, anchor, { kind, title, live = false, children = [] }) {
    const { host, body } = ensure(composer, anchor);
    host.dataset.kind = kind;
    body.replaceChildren();
    const section = el('section', {
      class: `panel ${kind}`,
      role: kind === 'block' && !live ? 'alert' : 'status',
      'aria-live': 'polite',
      'aria-label': 'tweetguard',
    });
    section.append(el('h2', {}, title));
    section.append(...children);
    body.append(section);
    return section;
  }

  function findingItem(finding, text, prefix, onFix) {
    const li = el('li', {});
    li.dataset.rule = finding.rule;
    li.dataset.severity = finding.severity;
    if (finding.field) li.dataset.field = finding.field;
    // Offsets are UTF-16 code units, which is how JavaScript strings index.
    const quoted = text.slice(finding.start, finding.end);
    li.dataset.span = quoted;
    li.append(el('span', { class: `sev ${finding.severity}` }, finding.severity));
    li.append(document.createTextNode(' ' + prefix));
    if (quoted && quoted.length <= 80 && !finding.message.includes(quoted)) {
      li.append(el('q', {}, quoted), document.createTextNode(' — '));
    }
    li.append(document.createTextNode(finding.message));
    if (finding.fix && onFix) {
      li.append(el('br'));
      li.append(
        button(`Use “${finding.fix}”`, () => onFix(finding, quoted), {
          ariaLabel: `Replace “${quoted}” with “${finding.fix}”`,
          once: true,
        }),
      );
    }
    return li;
  }

  // Findings about a photo itself are shown beside the photo (photo-panel.js), with
  // its remedies; findings in a photo's description are shown here, like the text's.
  const aboutPhoto = (f) => Number.isInteger(f.media) && f.field !== 'alt';

  const SOURCE_PREFIX = { repost: 'The post being reposted: ', quote: 'The quoted post: ' };

  function findingList(results, onFix) {
    const list = el('ul', {});
    results.forEach(({ text, reply, media = [], labels = [], extra = {} }, box) => {
      const post = results.length > 1 ? `Post ${box + 1}: ` : '';
      for (const finding of reply.findings) {
        if (aboutPhoto(finding)) continue;
        if (finding.field === 'alt' || finding.field === 'title') {
          const label = labels[finding.media] || `Photo ${finding.media + 1}`;
          const item = media[finding.media] || {};
          const what = finding.field === 'alt' ? 'description' : 'title';
          list.append(findingItem({ ...finding, fix: null }, item[finding.field] || '', `${post}${label} ${what}: `, null));
          continue;
        }
        if (finding.field === 'source') {
          const source = extra.source || {};
          const prefix = SOURCE_PREFIX[extra.action] || SOURCE_PREFIX.quote;
          const by = source.author ? `(@${source.author}) ` : '';
          list.append(findingItem({ ...finding, fix: null }, source.text || '', `${post}${prefix}${by}`, null));
          continue;
        }
        if (finding.field === 'poll') {
          const choices = extra.poll || [];
          const index = Number.isInteger(finding.index) ? finding.index : 0;
          list.append(findingItem({ ...finding, fix: null }, choices[index] || '', `${post}Poll choice ${index + 1}: `, null));
          continue;
        }
        if (finding.field) {
          // A part of the post this panel does not know how to quote: say what, never fix the text.
          list.append(findingItem({ ...finding, fix: null }, '', post, null));
          continue;
        }
        list.append(findingItem(finding, text, post, onFix ? (f, quoted) => onFix(box, f, quoted) : null));
      }
    });
    return list;
  }

  function photoOnly(list, verdict) {
    if (list.children.length === 0 && verdict !== 'allow') {
      list.append(el('li', {}, 'A photo or video in this post needs attention: see what is wrong and how to fix it under the photo.'));
    }
    return list;
  }

  // After Post was pressed, and while typing (nothing has been held yet).
  const TITLES = {
    block: 'tweetguard held this post. Fix the problems below, then post again.',
    warn: 'tweetguard found something to check before posting.',
    info: 'tweetguard: worth a second look.',
  };
  const LIVE_TITLES = {
    block: 'tweetguard: this cannot be posted as it is. Fix the problems below.',
    warn: 'tweetguard: check this before posting.',
    info: 'tweetguard: worth a second look.',
  };

  const api = {
    /** An element with attributes and text: the one way every tweetguard view builds nodes. */
    el,

    checking(composer, anchor, title = 'tweetguard is checking this post…') {
      render(composer, anchor, { kind: 'checking', title });
    },

    /** Findings as the teacher types; hidden when there are none. */
    live(composer, anchor, results, verdict, onFix) {
      const count = results.reduce((n, r) => n + r.reply.findings.filter((f) => !aboutPhoto(f)).length, 0);
      if (count === 0) {
        api.clear(composer);
        return;
      }
      const kind = verdict === 'allow' ? 'info' : verdict;
      render(composer, anchor, { kind, title: LIVE_TITLES[kind], live: true, children: [findingList(results, onFix)] });
    },

    /** The answer to pressing Post: findings, and a way past them where the policy allows. */
    held(composer, anchor, results, verdict, { onFix, override } = {}) {
      const children = [photoOnly(findingList(results, onFix), verdict)];
      if (override) {
        const id = `tg-reason-${Math.random().toString(36).slice(2)}`;
        const input = el('input', { id, type: 'text', maxlength: '1000', autocomplete: 'off' });
        let sent = false;
        const send = () => {
          if (sent) return;
          sent = true;
          go.disabled = true;
          input.disabled = true;
          override(input.value.trim());
        };
        const go = button('Post anyway', send, { primary: true });
        go.disabled = true;
        input.addEventListener('input', () => {
          go.disabled = input.value.trim().length < 3;
        });
        input.addEventListener('keydown', (event) => {
          event.stopPropagation(); // X's shortcuts must not see the reason being typed
          if (event.key === 'Enter' && !go.disabled) send();
        });
        children.push(el('label', { for: id }, 'Why should this go out anyway? (recorded for the safeguarding lead)'), input, go);
      }
      render(composer, anchor, { kind: verdict, title: TITLES[verdict] || TITLES.block, children });
    },

    /** `who` is "@handle", or the account's id when X does not show the handle. */
    confirmAccount(composer, anchor, { who, visibility, onConfirm }) {
      const yes = button(`Yes, post as ${who}`, onConfirm, { primary: true, once: true });
      render(composer, anchor, {
        kind: 'confirm',
        title: `Posting as ${who} (${visibility}). Is that the right account?`,
        children: [yes, el('p', {}, 'If not, switch account in X first.')],
      });
      yes.focus();
    },

    error(composer, anchor, message) {
      render(composer, anchor, { kind: 'block', title: message });
    },

    /** The panel's host element, where live.js notes the typed-to-shown time. */
    host(composer) {
      const entry = panels.get(composer);
      return entry && entry.host.isConnected ? entry.host : null;
    },

    clear(composer) {
      const entry = panels.get(composer);
      if (entry) entry.host.remove();
      panels.delete(composer);
    },
  };

  globalThis.TweetGuardPanel = Object.freeze(api);
})();
