// Everything tweetguard knows about X's web page, in one place.
//
// X changes its DOM without notice. Each lookup tries the data-testid X uses
// today, then role/aria fallbacks; the rest of the extension asks this module
// and never queries the page itself. When a lookup fails, callers hold the post.
(() => {
  'use strict';

  const TEXTAREA_ID = /^tweetTextarea_(\d+)$/;
  const BUTTON_SELECTORS = ['[data-testid="tweetButton"]', '[data-testid="tweetButtonInline"]'];
  const BUTTON_LABELS = /^(post|post all|reply|tweet|tweet all)$/i;
  const TEXTBOX_FALLBACK = '[role="textbox"][contenteditable="true"]';
  const ACCOUNT_SWITCHER = '[data-testid="SideNav_AccountSwitcher_Button"]';
  const PROFILE_LINK = 'a[data-testid="AppTabBar_Profile_Link"]';
  const HANDLE_ONLY = /^@[A-Za-z0-9_]{1,15}$/;

  function isTextBox(element) {
    if (!(element instanceof Element)) return false;
    const id = element.getAttribute('data-testid');
    if (id && TEXTAREA_ID.test(id)) return true;
    return element.matches(TEXTBOX_FALLBACK);
  }

  /** The composer text box an event target is in, or null. */
  function textBoxFrom(target) {
    let node = target instanceof Element ? target : target && target.parentElement;
    while (node) {
      if (isTextBox(node)) {
        // A fallback match may sit inside the data-testid element: prefer the outer one.
        const outer = node.parentElement && node.parentElement.closest('[data-testid^="tweetTextarea_"]');
        return outer && TEXTAREA_ID.test(outer.getAttribute('data-testid')) ? outer : node;
      }
      node = node.parentElement;
    }
    return null;
  }

  function isPostButton(element) {
    if (!(element instanceof Element)) return false;
    if (BUTTON_SELECTORS.some((s) => element.matches(s))) return true;
    // Fallback: a button labelled like X's post button, inside a composer.
    return (
      element.matches('button, [role="button"]') &&
      BUTTON_LABELS.test((element.textContent || '').trim()) &&
      textBoxesIn(composerAround(element)).length > 0
    );
  }

  /** The post button an event target is in, or null. */
  function postButtonFrom(target) {
    let node = target instanceof Element ? target : target && target.parentElement;
    while (node) {
      if (isPostButton(node)) return node;
      node = node.parentElement;
    }
    return null;
  }

  function textBoxesIn(root) {
    if (!root) return [];
    let boxes = [...root.querySelectorAll('[data-testid^="tweetTextarea_"]')].filter((el) =>
      TEXTAREA_ID.test(el.getAttribute('data-testid')),
    );
    if (boxes.length === 0) boxes = [...root.querySelectorAll(TEXTBOX_FALLBACK)];
    const order = (el) => Number((TEXTAREA_ID.exec(el.getAttribute('data-testid') || '') || [0, 0])[1]);
    return boxes.sort((a, b) => order(a) - order(b));
  }

  function postButtonsIn(root) {
    if (!root) return [];
    const found = [...root.querySelectorAll(BUTTON_SELECTORS.join(','))];
    if (found.length) return found;
    return [...root.querySelectorAll('button, [role="button"]')].filter((el) =>
      BUTTON_LABELS.test((el.textContent || '').trim()),
    );
  }

  // The smallest ancestor that holds both text boxes and a post button: the
  // inline composer, the modal dialog, a reply box.
  function composerAround(element) {
    for (let node = element; node && node !== document.documentElement; node = node.parentElement) {
      if (node.matches('[role="dialog"], [aria-modal="true"]')) return node;
      if (textBoxesIn(node).length && postButtonsIn(node).length) return node;
    }
    return null;
  }

  /** The text of one DraftJS box: its blocks, one line each. */
  function boxText(box) {
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
    for (const box of root.querySelectorAll('[data-testid^="tweetTextarea_"], ' + TEXTBOX_FALLBACK)) {
      const composer = composerAround(box);
      if (composer) found.add(composer);
    }
    return [...found];
  }

  /** X's "Your post was sent" toast, if one is showing. */
  function sentToast() {
    for (const toast of document.querySelectorAll('[data-testid="toast"], [role="alert"]')) {
      if (/\b(sent|posted)\b/i.test(toast.textContent || '')) return toast;
    }
    return null;
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
    timelineHas,
    loginUrl,
    boxText,
  });
})();
