// Everything tweetguard knows about X's web page, in one place.
//
// X changes its DOM without notice. Each lookup tries the data-testid X uses
// today, then role/aria fallbacks; the rest of the extension asks this module
// and never queries the page itself. When a lookup fails, callers hold the post.
(() => {
  'use strict';

  const TEXTAREA_ID = /^tweetTextarea_(\d+)$/;
  const BUTTON_SELECTORS = ['[data-testid="tweetButton"]', '[data-testid="tweetButtonInline"]'];
  // Text boxes and buttons are recognised by structure when X renames its
  // data-testids: any editable element (contenteditable "true" or
  // "plaintext-only", a <textarea>) with a button after it in the same
  // container is a composer, and its last such button posts. No label list:
  // "Post", "Posten", "Publicar" and "Schedule" are all the same button.
  const EDITABLE = '[contenteditable="true"], [contenteditable="plaintext-only"], [contenteditable=""], textarea';
  const BUTTONS = 'button, [role="button"]';
  // Editable elements and buttons of X's that are not a post's text or its Post button.
  const NOT_A_TEXT_BOX = /^(altTextInput|dm|grok|SearchBox|mutedWord|list|pollOption|articleTitle)/i;
  const NOT_A_POST_BUTTON = new Set([
    'addButton', 'fileInput', 'removeMedia', 'altTextEdit', 'altTextButton', 'gifSearchButton', 'gifyButton',
    'grokImgGen', 'createPollButton', 'pollButton', 'addPollOption', 'addPollOptionButton', 'removePoll',
    'scheduleOption', 'scheduledButton', 'geoButton', 'emojiButton', 'contentDisclosureButton', 'app-bar-close',
    'unsentButton', 'tweetTextarea_0_label',
  ]);
  // A structural composer is small: this many levels up from its text box at most,
  // and never the page's main column, its navigation or a post in the timeline.
  const MAX_COMPOSER_DEPTH = 12;
  const COMPOSER_LIMIT = 'main, [role="main"], nav, [role="navigation"], article, body, #layers, [data-testid="primaryColumn"]';
  // Direct messages are not posts (README): nothing on /messages, nor in the DM
  // drawer X opens over other pages, is ever a composer.
  const DM_PATH = /^\/(messages|i\/chat)(\/|$)/;
  const DM_TESTID = /^dm/i;
  // What only a post composer has, besides its text box: X's toolbar (media,
  // GIF, poll, emoji, schedule, location), or the DraftJS editor X writes posts in.
  // A box and a button without either (a bio, a note, a search, a form) is not one.
  const COMPOSER_MARK = [
    '[data-testid="toolBar"]', '[data-testid="fileInput"]', '[data-testid="gifSearchButton"]',
    '[data-testid="createPollButton"]', '[data-testid="emojiButton"]', '[data-testid="scheduleOption"]',
    '[data-testid="geoButton"]', '[data-testid="grokImgGen"]',
    'input[type="file"][accept*="image"]', 'input[type="file"][accept*="video"]',
  ].join(', ');
  const DRAFT_EDITOR = '.DraftEditor-root, .public-DraftEditor-content';
  // Form fields that a composer does not have before its text (a poll's choices
  // come after it): the edit-profile dialog's name, a birth date, a settings form.
  const FORM_FIELD = 'input:not([type="file"]):not([type="hidden"]):not([type="checkbox"]):not([type="radio"]), select';
  const ACCOUNT_SWITCHER = '[data-testid="SideNav_AccountSwitcher_Button"]';
  const PROFILE_LINK = 'a[data-testid="AppTabBar_Profile_Link"]';
  const HANDLE_ONLY = /^@[A-Za-z0-9_]{1,15}$/;

  const testid = (element) => element.getAttribute('data-testid') || '';

  function isEditable(element) {
    if (!(element instanceof Element) || !element.matches(EDITABLE)) return false;
    if (NOT_A_TEXT_BOX.test(testid(element))) return false;
    // A contenteditable inside another (DraftJS's inner nodes) is part of the outer box.
    const outer = element.parentElement && element.parentElement.closest('[contenteditable]');
    return !(outer && outer.getAttribute('contenteditable') !== 'false');
  }

  function isTextBox(element) {
    if (!(element instanceof Element)) return false;
    if (TEXTAREA_ID.test(testid(element))) return true;
    return isEditable(element) && composerAround(element) !== null;
  }

  /** Whether an element is in a direct message: on /messages, or in X's DM drawer. */
  function inDirectMessages(element) {
    if (DM_PATH.test(location.pathname)) return true;
    for (let node = element; node instanceof Element; node = node.parentElement) {
      if (DM_TESTID.test(testid(node))) return true;
    }
    return false;
  }

  /** The composer text box an event target is in, or null. */
  function textBoxFrom(target) {
    let node = target instanceof Element ? target : target && target.parentElement;
    if (!node || inDirectMessages(node)) return null;
    while (node) {
      if (TEXTAREA_ID.test(testid(node))) return node;
      if (isEditable(node)) {
        // A fallback match may sit inside the data-testid element: prefer the outer one.
        const outer = node.parentElement && node.parentElement.closest('[data-testid^="tweetTextarea_"]');
        if (outer && TEXTAREA_ID.test(testid(outer))) return outer;
        return composerAround(node) ? node : null;
      }
      node = node.parentElement;
    }
    return null;
  }

  function isPostButton(element) {
    if (!(element instanceof Element)) return false;
    if (BUTTON_SELECTORS.some((s) => element.matches(s))) return true;
    if (!element.matches(BUTTONS)) return false;
    const composer = composerAround(element);
    return Boolean(composer) && postButtonsIn(composer).includes(element);
  }

  /** The post button an event target is in, or null. */
  function postButtonFrom(target) {
    let node = target instanceof Element ? target : target && target.parentElement;
    while (node) {
      if (node.matches(BUTTONS) || BUTTON_SELECTORS.some((s) => node.matches(s))) {
        return isPostButton(node) ? node : null;
      }
      node = node.parentElement;
    }
    return null;
  }

  const follows = (a, b) => Boolean(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);

  function textBoxesIn(root) {
    if (!root) return [];
    let boxes = [...root.querySelectorAll('[data-testid^="tweetTextarea_"]')].filter((el) => TEXTAREA_ID.test(testid(el)));
    if (boxes.length === 0) boxes = [...root.querySelectorAll(EDITABLE)].filter(isEditable);
    const order = (el) => Number((TEXTAREA_ID.exec(testid(el)) || [0, 0])[1]);
    return boxes.sort((a, b) => order(a) - order(b));
  }

  // A post button says what it does in words, in any language ("Post", "Posten",
  // "Publicar", "发帖"); the toolbar's buttons are icons ("+", 🖼, ✕) with a label
  // for screen readers only.
  const hasWords = (el) => /\p{L}/u.test(el.textContent || '');

  // By structure: the last worded button after the last text box (a mobile
  // layout puts Post in the top bar: then the last one before the first box),
  // not one of X's known other controls, not a menu opener, not inside an
  // attachment, a post in the timeline or our panel.
  function structuralPostButton(root, boxes) {
    const first = boxes[0];
    const last = boxes[boxes.length - 1];
    if (!last) return null;
    const candidates = [...root.querySelectorAll(BUTTONS)].filter(
      (el) =>
        !boxes.some((box) => box.contains(el)) &&
        !NOT_A_POST_BUTTON.has(testid(el)) &&
        !el.hasAttribute('aria-haspopup') &&
        !el.closest('[data-testid="attachments"], [data-tweetguard-panel], article') &&
        !(el.parentElement && el.parentElement.closest(BUTTONS)) &&
        hasWords(el),
    );
    const after = candidates.filter((el) => follows(last, el));
    if (after.length) return after[after.length - 1];
    const before = candidates.filter((el) => follows(el, first));
    return before[before.length - 1] || null;
  }

  function postButtonsIn(root) {
    if (!root) return [];
    const found = [...root.querySelectorAll(BUTTON_SELECTORS.join(','))];
    if (found.length) return found;
    const button = structuralPostButton(root, textBoxesIn(root));
    return button ? [button] : [];
  }

  // A form around the text: a field before it (the edit-profile dialog's name
  // above its bio, a settings form). A composer's only fields are a poll's
  // choices, under the text.
  function isForm(root, boxes) {
    return [...root.querySelectorAll(FORM_FIELD)].some((field) => follows(field, boxes[0]) && !boxes.some((b) => b.contains(field)));
  }

  // X's image description editor: the image above a single text field, without
  // the composer's toolbar (whatever X calls its parts).
  function isMediaEditor(root, boxes) {
    return boxes.length === 1 && !root.querySelector(COMPOSER_MARK) &&
      [...root.querySelectorAll('img, video, canvas')].some((media) => follows(media, boxes[0]));
  }

  /** Whether a container holding these text boxes is a post composer: X's own
   * text box ids, or its toolbar, or its DraftJS editor; never a form or the
   * image description editor. */
  function looksLikeComposer(root, boxes) {
    if (boxes.length === 0) return false;
    if (boxes.some((box) => TEXTAREA_ID.test(testid(box)))) return true;
    if (isForm(root, boxes) || isMediaEditor(root, boxes)) return false;
    if (root.querySelector(COMPOSER_MARK)) return true;
    return boxes.some((box) => {
      const draft = box.closest(DRAFT_EDITOR);
      return Boolean(draft) && root.contains(draft);
    });
  }

  // The smallest ancestor that holds both text boxes and a post button: the
  // inline composer, the modal dialog, a reply box. Never in a direct message.
  function composerAround(element) {
    if (!(element instanceof Element) || inDirectMessages(element)) return null;
    let depth = 0;
    for (let node = element; node && node !== document.documentElement; node = node.parentElement) {
      if (node.matches('[role="dialog"], [aria-modal="true"]')) return looksLikeComposer(node, textBoxesIn(node)) ? node : null;
      if (node.querySelector('[data-testid^="tweetTextarea_"]') && node.querySelector(BUTTON_SELECTORS.join(','))) return node;
      if (node !== element && node.matches(COMPOSER_LIMIT)) return null;
      if (++depth > MAX_COMPOSER_DEPTH) return null;
      const boxes = textBoxesIn(node);
      if (boxes.length && postButtonsIn(node).length && looksLikeComposer(node, boxes)) return node;
    }
    return null;
  }

  /** The text of one box: DraftJS's blocks, one line each; a <textarea>'s value
   * (React sets .value, and textContent keeps the first text it had). */
  function boxText(box) {
    if (box instanceof HTMLTextAreaElement || box instanceof HTMLInputElement) return box.value;
    const blocks = box.querySelectorAll('[data-block="true"]');
    if (blocks.length) return [...blocks].map((b) => b.textContent).join('\n');
    return (box.innerText || box.textContent || '').replace(/\n$/, '');
  }

  /** Texts of every box in the composer, in thread order. */
  function composerTexts(composer) {
    return textBoxesIn(composer).map(boxText);
  }

  /** Every composer on the page now: the inline one, a modal, reply boxes. */
  function composers(root = document) {
    const found = new Set();
    for (const box of root.querySelectorAll('[data-testid^="tweetTextarea_"], ' + EDITABLE)) {
      if (!TEXTAREA_ID.test(testid(box)) && !isEditable(box)) continue;
      const composer = composerAround(box);
      if (composer) found.add(composer);
    }
    return [...found];
  }

  // --- What else goes out with a post: poll choices, and what kind of post it is.
  const POLL_CHOICE = /^poll(Option|OptionTextInput)_(\d+)$/;

  /** Poll choices per post of the composer: [[choice, ...]] (one list per text box;
   * empty when the post has no poll). Choices left empty are not sent. */
  function pollsByPost(composer) {
    const boxes = textBoxesIn(composer);
    const polls = boxes.map(() => []);
    if (!composer || polls.length === 0) return polls;
    const inputs = [...composer.querySelectorAll('input, textarea, [contenteditable]')].filter((el) => POLL_CHOICE.test(testid(el)));
    for (const input of inputs) {
      const value = (input.value !== undefined ? input.value : input.textContent || '').trim();
      if (value) polls[postIndexOf(input, boxes)].push(value);
    }
    return polls;
  }

  const SCHEDULE_OPTION = '[data-testid="scheduleOption"], [data-testid="scheduledButton"]';
  const SCHEDULE_CONFIRM = '[data-testid="scheduledConfirmationPrimaryAction"], [data-testid="scheduleConfirm"]';
  const SCHEDULE_CLEAR = '[data-testid="scheduledConfirmationSecondaryAction"]';
  const SHEET_CONFIRM = '[data-testid="confirmationSheetConfirm"]';
  const EDIT_POST = '[data-testid="editTweet"]';

  /** What a click on this element means for posting, besides the Post button:
   * 'schedule-open' | 'schedule-set' | 'schedule-clear' | 'edit-open' | 'sheet-confirm' | null. */
  function controlKind(target) {
    const element = target instanceof Element ? target : target && target.parentElement;
    if (!element) return null;
    if (element.closest(SCHEDULE_CONFIRM)) return 'schedule-set';
    if (element.closest(SCHEDULE_CLEAR)) return 'schedule-clear';
    if (element.closest(SCHEDULE_OPTION)) return 'schedule-open';
    if (element.closest(EDIT_POST)) return 'edit-open';
    if (element.closest(SHEET_CONFIRM)) return 'sheet-confirm';
    return null;
  }

  /** The sheet's confirm button an event target is in (X's "Save post?" when a
   * composer is closed, the /intent/retweet prompt), or null. */
  function sheetConfirmFrom(target) {
    const element = target instanceof Element ? target : target && target.parentElement;
    return element ? element.closest(SHEET_CONFIRM) : null;
  }

  // --- Posts in the timeline, and reposting them.
  const ARTICLE = 'article[data-testid="tweet"], article';
  const REPOST_MENU_BUTTON = '[data-testid="retweet"]';
  const REPOST_CONFIRM = '[data-testid="retweetConfirm"]';

  /** The timeline post an element is in, or null. */
  function articleFrom(target) {
    const element = target instanceof Element ? target : target && target.parentElement;
    return element ? element.closest(ARTICLE) : null;
  }

  const QUOTE = '[data-testid="quoteTweet"]';

  // The elements matching `selector` that are the post's own, not its quoted post's.
  function own(element, selector) {
    return [...element.querySelectorAll(selector)].filter((el) => {
      const quote = el.parentElement && el.parentElement.closest(QUOTE);
      return !quote || quote === element || !element.contains(quote);
    });
  }

  const textOf = (node) => (node ? node.innerText || node.textContent || '' : '');

  /** {author, text, url} of a post in the timeline (or embedded in a quote): its
   * author's @handle from User-Name, its text, and the link to it. A post that
   * quotes another carries the quoted post's text too, after a blank line (it
   * goes out with the repost and is checked); the author and link stay the post's own. */
  function postSource(element) {
    if (!element) return null;
    let text = textOf(own(element, '[data-testid="tweetText"]')[0]);
    const quote = own(element, QUOTE).find((q) => q !== element);
    if (quote) {
      const quoted = textOf(quote.querySelector('[data-testid="tweetText"]'));
      if (quoted.trim()) text = `${text}\n\n${quoted}`;
    }
    let author = '';
    const name = own(element, '[data-testid="User-Name"]')[0];
    if (name) {
      const handle = [...name.querySelectorAll('span, div, a')]
        .map((el) => (el.textContent || '').trim())
        .find((t) => HANDLE_ONLY.test(t));
      if (handle) author = handle.slice(1);
      else {
        const link = name.querySelector('a[href^="/"]');
        const path = link && (link.getAttribute('href') || '').slice(1);
        if (path && /^[A-Za-z0-9_]{1,15}$/.test(path)) author = path;
      }
    }
    const links = own(element, 'a[href*="/status/"]');
    const status = links.find((a) => a.querySelector('time')) || links[0];
    const url = status ? new URL(status.getAttribute('href'), location.origin).href : '';
    return { author, text: text.slice(0, 50000), url };
  }

  /** The timeline post with this status id, or null. */
  function articleByStatus(id) {
    if (!id) return null;
    for (const link of document.querySelectorAll('a[href*="/status/"]')) {
      const m = /\/status\/(\d+)/.exec(link.getAttribute('href') || '');
      if (m && m[1] === id) return articleFrom(link);
    }
    return null;
  }

  function isRepostMenuButton(target) {
    const element = target instanceof Element ? target : target && target.parentElement;
    return element ? element.closest(REPOST_MENU_BUTTON) : null;
  }

  const REPOST_OPENERS = '[data-testid="retweet"], [data-testid="unretweet"]';
  const NEAR_PX = 48; // a menu anchored to a button touches it or sits this close

  /** The timeline post a Repost menu item is for, or null when that cannot be
   * told for sure. X anchors the menu to the button that opened it (clicked, or
   * the `t` key on the focused post) and marks that button aria-expanded; where
   * X does not mark it, the one Repost button the menu touches. */
  function repostMenuArticle(item) {
    const element = item instanceof Element ? item : item && item.parentElement;
    if (!element) return null;
    const menu = element.closest('[role="menu"], [data-testid="Dropdown"]') || element;
    const openers = [...document.querySelectorAll(REPOST_OPENERS)].filter((o) => articleFrom(o) && !menu.contains(o));
    const expanded = openers.filter((o) => o.getAttribute('aria-expanded') === 'true');
    if (expanded.length === 1) return articleFrom(expanded[0]);
    if (expanded.length > 1 || openers.some((o) => o.hasAttribute('aria-expanded'))) return null;
    const m = menu.getBoundingClientRect();
    if (!m.width || !m.height) return null;
    const gap = (r) =>
      Math.hypot(Math.max(0, m.left - r.right, r.left - m.right), Math.max(0, m.top - r.bottom, r.top - m.bottom));
    const near = openers.map((o) => [o, o.getBoundingClientRect()]).filter(([, r]) => r.width && r.height && gap(r) <= NEAR_PX);
    return near.length === 1 ? articleFrom(near[0][0]) : null;
  }

  function repostConfirmFrom(target) {
    const element = target instanceof Element ? target : target && target.parentElement;
    return element ? element.closest(REPOST_CONFIRM) : null;
  }

  /** On X's /intent/retweet prompt: the id of the post to repost, else null. */
  function intentRepostId() {
    if (!/^\/intent\/(retweet|repost)\b/.test(location.pathname)) return null;
    return new URLSearchParams(location.search).get('tweet_id');
  }

  /** Whether the post is now reposted (X swaps its Repost button for Undo repost). */
  function isReposted(article) {
    return Boolean(article && article.querySelector('[data-testid="unretweet"]'));
  }

  /** The post quoted in a quote composer, or null. */
  function quotedSource(composer) {
    const quote = composer && composer.querySelector('[data-testid="quoteTweet"]');
    if (!quote) return null;
    return postSource(quote.querySelector('article') || quote);
  }

  /** X's toasts showing now ("Your post was sent.", "Your post will be sent on …",
   * "Your post has been edited.", in any language): by data-testid and role,
   * never by their words. */
  function toasts() {
    return [...document.querySelectorAll('[data-testid="toast"], #layers [role="alert"], #layers [role="status"]')].filter(
      (el) => !el.closest('[data-tweetguard-panel]'),
    );
  }

  /** X's toast, if one is showing. */
  function sentToast() {
    return toasts()[0] || null;
  }

  /** Whether a post with this text is now in the timeline. */
  function timelineHas(text) {
    const needle = text.trim().slice(0, 80);
    if (!needle) return false;
    return [...document.querySelectorAll('[data-testid="tweet"], article')].some((a) =>
      (a.textContent || '').includes(needle),
    );
  }

  /** Where X sends someone who is signed out. */
  function loginUrl() {
    return `${location.origin}/i/flow/login`;
  }

  // --- Media: the file input, the attachment previews, their remove buttons and alt text.
  const FILE_INPUT = 'input[type="file"][data-testid="fileInput"]';
  const FILE_INPUT_FALLBACK = 'input[type="file"]';
  const ATTACHMENTS = '[data-testid="attachments"]';
  const REMOVE_MEDIA = [
    '[data-testid="removeMedia"]',
    '[aria-label="Remove media" i]',
    'button[aria-label^="Remove" i]',
    '[role="button"][aria-label^="Remove" i]',
  ];
  const GENERIC_ALT = /^(image|media|photo|video|gif|)$/i;

  function isFileInput(element) {
    return element instanceof HTMLInputElement && element.type === 'file';
  }

  /** X's hidden file input for this composer: data-testid first, then any file input in it. */
  function fileInput(composer) {
    if (!composer) return null;
    return composer.querySelector(FILE_INPUT) || composer.querySelector(FILE_INPUT_FALLBACK);
  }

  /** The composer a pasted or dropped file is for. */
  function composerFrom(target) {
    const element = target instanceof Element ? target : target && target.parentElement;
    return element ? composerAround(element) : null;
  }

  // Which post of a thread an element belongs to: the text box before it in the page.
  function postIndexOf(element, boxes) {
    let index = 0;
    boxes.forEach((box, i) => {
      if (box === element || box.compareDocumentPosition(element) & Node.DOCUMENT_POSITION_FOLLOWING) index = i;
    });
    return index;
  }

  function previewOf(media, area) {
    let node = media;
    while (node.parentElement && node.parentElement !== area) node = node.parentElement;
    return node.parentElement === area ? node : media;
  }

  function altOf(preview, media) {
    const alt = (media.getAttribute('alt') || media.getAttribute('aria-label') || '').trim();
    if (!GENERIC_ALT.test(alt)) return alt;
    const label = preview.querySelector('[data-testid="altTextLabel"]');
    return label ? (label.textContent || '').trim() : '';
  }

  /** Attachment previews per post of the composer, in the order X shows them:
   * [[{key, kind, src, alt, element}]] (one list per text box). `key` is the
   * preview's media URL, which stays the same when X re-renders the preview. */
  function previewsByPost(composer) {
    const boxes = textBoxesIn(composer);
    const posts = boxes.map(() => []);
    if (!composer || posts.length === 0) return posts;
    const seen = new Set();
    for (const area of composer.querySelectorAll(ATTACHMENTS)) {
      const post = postIndexOf(area, boxes);
      for (const media of area.querySelectorAll('img, video')) {
        const src = media.currentSrc || media.getAttribute('src') || '';
        const element = previewOf(media, area);
        if (!src || seen.has(element)) continue;
        seen.add(element);
        posts[post].push({ key: src, kind: media.tagName === 'VIDEO' ? 'video' : 'image', src, alt: altOf(element, media), element });
      }
    }
    return posts;
  }

  /** Photos and videos attached to the composer, flat: [{mime, name, key, alt}]. */
  function attachedMedia(composer) {
    return previewsByPost(composer)
      .flat()
      .map((p) => ({ mime: p.kind === 'video' ? 'video/*' : 'image/*', name: p.src.slice(0, 200), key: p.key, alt: p.alt }));
  }

  /** X's remove button on one attachment preview, or null. */
  function removeButton(preview) {
    const element = preview && (preview.element || preview);
    if (!element || !element.querySelector) return null;
    for (const selector of REMOVE_MEDIA) {
      const found = element.querySelector(selector);
      if (found) return found;
    }
    return null;
  }

  /** Whether a mutation may have changed the attachments (a preview added,
   * removed, re-pointed, or its description edited). */
  function touchesAttachments(mutation) {
    const target = mutation.target instanceof Element ? mutation.target : mutation.target.parentElement;
    if (!target) return false;
    if (target.closest(ATTACHMENTS)) return true;
    return [...mutation.addedNodes, ...mutation.removedNodes].some(
      (n) => n instanceof Element && (n.matches(ATTACHMENTS) || n.querySelector(ATTACHMENTS) || n.matches('img, video')),
    );
  }

  /** The element the findings panel is appended to: the composer itself, so the
   * panel sits below the Post button and never moves it under the teacher's cursor. */
  function panelAnchor(composer) {
    return composer;
  }

  /** {handle, user_id} of the account X is signed in as; null parts when unknown. */
  function activeAccount() {
    let handle = null;
    const switcher = document.querySelector(ACCOUNT_SWITCHER);
    if (switcher) {
      // The handle is the element whose whole text is "@handle": a display name
      // may contain "@Something" too, and must not pass as the account.
      const exact = [...switcher.querySelectorAll('span, div')]
        .map((el) => (el.textContent || '').trim())
        .find((text) => HANDLE_ONLY.test(text));
      if (exact) handle = exact.slice(1);
    }
    if (!handle) {
      const link = document.querySelector(PROFILE_LINK);
      const path = link && (link.getAttribute('href') || '').replace(/^\//, '');
      if (path && /^[A-Za-z0-9_]{1,15}$/.test(path)) handle = path;
    }
    let userId = null;
    const twid = document.cookie.split('; ').find((c) => c.startsWith('twid='));
    if (twid) {
      const m = /u(?:%3D|=)(\d+)/.exec(twid.slice(5));
      if (m) userId = m[1];
    }
    return { handle, user_id: userId };
  }

  // --- used by network-held.js ---
  // Any text box or button the teacher used, known or not: when the network guard
  // holds a post, network-held.js reports the ones the functions above do not know,
  // so this module can learn them from real reports.
  const ANY_BOX = 'textarea, input[type="text"], input:not([type]), [contenteditable]:not([contenteditable="false"])';
  const ANY_BUTTON = 'button, [role="button"], input[type="submit"], input[type="button"], a[role="link"]';

  /** The text box (of any kind) around `target`, or null. */
  function anyTextBoxFrom(target) {
    const node = target instanceof Element ? target : target && target.parentElement;
    return node ? node.closest(ANY_BOX) : null;
  }

  /** The button (of any kind) around `target`, or null. */
  function anyButtonFrom(target) {
    const node = target instanceof Element ? target : target && target.parentElement;
    return node ? node.closest(ANY_BUTTON) : null;
  }

  globalThis.TweetGuardDom = Object.freeze({
    textBoxFrom,
    postButtonFrom,
    composerAround,
    composerTexts,
    textBoxesIn,
    postButtonsIn,
    panelAnchor,
    activeAccount,
    attachedMedia,
    previewsByPost,
    fileInput,
    isFileInput,
    composerFrom,
    removeButton,
    touchesAttachments,
    composers,
    sentToast,
    toasts,
    timelineHas,
    pollsByPost,
    controlKind,
    sheetConfirmFrom,
    articleFrom,
    postSource,
    articleByStatus,
    isRepostMenuButton,
    repostMenuArticle,
    repostConfirmFrom,
    intentRepostId,
    isReposted,
    quotedSource,
    loginUrl,
    boxText,
    anyTextBoxFrom,
    anyButtonFrom,
  });
})();
