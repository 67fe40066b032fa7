// The findings panel beside a composer, in a shadow root so X's styles cannot
// reach it. It only renders: guard.js decides what to show.
(() => {
  'use strict';

  const HOST_ATTR = 'data-tweetguard-panel';
  const STYLE = `
    :host { all: initial; display: block; margin: 8px 0; font: 14px/1.4 system-ui, sans-serif; }
    .panel { border-radius: 12px; padding: 10px 12px; border: 2px solid #8a8a8a; background: #fff; color: #0f1419; }
    .panel.block { border-color: #c0182b; background: #fff4f4; }
    .panel.warn { border-color: #b35c00; background: #fff8ec; }
    .panel.checking { border-color: #536471; }
    h2 { font-size: 14px; margin: 0 0 6px; }
    ul { margin: 0; padding: 0; list-style: none; }
    li { margin: 6px 0; }
    .sev { display: inline-block; min-width: 3.5em; font-weight: 700; text-transform: uppercase; font-size: 11px; }
    .sev.block { color: #c0182b; } .sev.warn { color: #b35c00; } .sev.info { color: #536471; }
    q { font-weight: 600; }
    .fix { color: #536471; }
    button { font: inherit; margin-top: 8px; padding: 4px 12px; border-radius: 999px; border: 1px solid #0f1419; background: #fff; cursor: pointer; }
    button:focus-visible { outline: 3px solid #1d9bf0; outline-offset: 2px; }
  `;

  const panels = new WeakMap(); // composer -> {host, root}

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
    anchor.insertAdjacentElement('afterend', host);
    entry = { host, root, body };
    panels.set(composer, entry);
    return entry;
  }

  function render(composer, anchor, { kind, title, items = [], action = null }) {
    const { body } = ensure(composer, anchor);
    body.replaceChildren();
    const panel = el('section', { class: `panel ${kind}`, role: kind === 'checking' ? 'status' : 'alert', 'aria-live': 'polite', 'aria-label': 'tweetguard' });
    panel.append(el('h2', {}, title));
    if (items.length) {
      const list = el('ul', {});
      for (const item of items) list.append(item);
      panel.append(list);
    }
    if (action) {
      const button = el('button', { type: 'button' }, action.label);
      button.addEventListener('click', (event) => {
        event.stopPropagation();
        action.run();
      });
      panel.append(button);
    }
    body.append(panel);
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function findingItem(finding, text, prefix) {
    const li = el('li', {});
    li.append(el('span', { class: `sev ${finding.severity}`, 'aria-label': `${finding.severity}:` }, finding.severity));
    li.append(document.createTextNode(' ' + prefix));
    // Offsets are UTF-16 code units, which is how JavaScript strings index.
    const quoted = text.slice(finding.start, finding.end);
    li.dataset.span = quoted;
    if (quoted && quoted.length <= 80 && !finding.message.includes(quoted)) {
      li.append(el('q', {}, quoted));
      li.append(document.createTextNode(' — '));
    }
    li.append(document.createTextNode(finding.message));
    if (finding.fix) li.append(el('div', { class: 'fix' }, `Suggested: ${finding.fix}`));
    li.dataset.rule = finding.rule;
    return li;
  }

  const api = {
    checking(composer, anchor) {
      render(composer, anchor, { kind: 'checking', title: 'tweetguard is checking this post…' });
    },
    /** results: [{text, reply}] for each box of the composer */
    findings(composer, anchor, results, verdict, action) {
      const items = [];
      results.forEach(({ text, reply }, index) => {
        const prefix = results.length > 1 ? `Post ${index + 1}: ` : '';
        for (const finding of reply.findings) items.push(findingItem(finding, text, prefix));
      });
      const title =
        verdict === 'block'
          ? 'tweetguard held this post. Fix the problems below, then post again.'
          : 'tweetguard found something to check before posting.';
      render(composer, anchor, { kind: verdict, title, items, action });
    },
    error(composer, anchor, message) {
      render(composer, anchor, { kind: 'block', title: message });
    },
    clear(composer) {
      const entry = panels.get(composer);
      if (entry) entry.host.remove();
      panels.delete(composer);
    },
  };

  globalThis.TweetGuardPanel = Object.freeze(api);
})();
