// Changing the text in X's DraftJS editor the way a person would: select the
// range, then insert text through the browser's editing command, which fires
// the beforeinput/input events DraftJS listens to. Writing innerHTML would
// desynchronise DraftJS's own state and X would post the old text.
(() => {
  'use strict';

  /** [node, offset] for a UTF-16 offset into the box's text (blocks joined by \n). */
  function locate(box, offset) {
    const blocks = [...box.querySelectorAll('[data-block="true"]')];
    const parts = blocks.length ? blocks : [box];
    let remaining = offset;
    for (let i = 0; i < parts.length; i++) {
      const walker = document.createTreeWalker(parts[i], NodeFilter.SHOW_TEXT);
      let last = null;
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        last = node;
        if (remaining <= node.data.length) return [node, remaining];
        remaining -= node.data.length;
      }
      if (remaining === 0 && last) return [last, last.data.length];
      remaining -= 1; // the newline between blocks
      if (remaining < 0) return last ? [last, last.data.length] : [parts[i], 0];
    }
    return null;
  }

  /** Replaces text[start:end] of the box with `replacement`, only if that span
   * still reads `expected` (the text may have changed since the check); false if not. */
  function replaceRange(box, start, end, replacement, expected) {
    if (globalThis.TweetGuardDom.boxText(box).slice(start, end) !== expected) return false;
    if (box instanceof HTMLTextAreaElement) {
      // The mobile web's <textarea>: the same editing command, on its own selection.
      box.focus();
      box.setSelectionRange(start, end);
      return document.execCommand('insertText', false, replacement);
    }
    const from = locate(box, start);
    const to = locate(box, end);
    if (!from || !to) return false;
    box.focus();
    const range = document.createRange();
    range.setStart(from[0], from[1]);
    range.setEnd(to[0], to[1]);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    return document.execCommand('insertText', false, replacement);
  }

  globalThis.TweetGuardEditor = Object.freeze({ replaceRange, locate });
})();
