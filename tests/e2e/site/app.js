// A stand-in for X's web app, faithful where tweetguard touches it: the DOM
// (data-testids, DraftJS block structure, #layers), client-side routing, the
// post request to the server, and the page's own listeners on its root.
'use strict';

const root = document.getElementById('react-root');
const layers = document.getElementById('layers');

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === true) node.setAttribute(k, '');
    else if (v !== false && v != null) node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

// --- DraftJS-like editor: blocks of spans, re-rendered from the editor's state.
function blockNode(line) {
  const span = h('span', { 'data-text': 'true' });
  if (line) span.textContent = line;
  else span.append(h('br', { 'data-text': 'true' }));
  return h('div', { 'data-block': 'true', 'data-editor': 'e', 'data-offset-key': 'k-0-0' },
    h('div', { 'data-offset-key': 'k-0-0', class: 'public-DraftStyleDefault-block' }, span));
}

function editor(index) {
  const contents = h('div', { 'data-contents': 'true' }, blockNode(''));
  const box = h('div', {
    class: 'public-DraftEditor-content', contenteditable: 'true', role: 'textbox',
    'aria-label': 'Post text', 'aria-multiline': 'true', spellcheck: 'true',
    'data-testid': `tweetTextarea_${index}`,
  }, contents);
  box.addEventListener('input', () => normalize(box));
  return h('div', { 'data-testid': `tweetTextarea_${index}_label` },
    h('div', { class: 'DraftEditor-root' }, h('div', { class: 'DraftEditor-editorContainer' }, box)));
}

function editorText(box) {
  return [...box.querySelectorAll('[data-block="true"]')].map((b) => b.textContent).join('\n');
}

// DraftJS keeps its own state and re-renders blocks; text typed outside a block
// is pulled back into block structure, caret at the end.
function normalize(box) {
  const contents = box.querySelector('[data-contents]');
  const stray = !contents || [...box.childNodes].some((n) => n !== contents) ||
    [...contents.childNodes].some((n) => !(n instanceof Element && n.dataset.block === 'true'));
  if (stray) {
    const lines = box.innerText.replace(/\n$/, '').split('\n');
    const fresh = h('div', { 'data-contents': 'true' }, ...lines.map(blockNode));
    box.replaceChildren(fresh);
    const range = document.createRange();
    range.selectNodeContents(fresh.lastChild);
    range.collapse(false);
    const selection = getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  updateButtons();
}

function setEditorText(box, text) {
  box.replaceChildren(h('div', { 'data-contents': 'true' }, ...text.split('\n').map(blockNode)));
}

// --- Shell
// ?as=HANDLE&uid=ID signs the page in as another account, as X's account
// switcher would; ?as=none leaves no trace of the account in the page.
const params = new URLSearchParams(location.search);
const account = { name: 'Oakfield Primary', handle: 'OakfieldPrimary' };
if (params.get('as') === 'none') {
  account.handle = null;
  document.cookie = 'twid=; Path=/; Max-Age=0; Secure';
} else if (params.get('as')) {
  account.name = params.get('as');
  account.handle = params.get('as');
  document.cookie = `twid=u%3D${params.get('uid') || '1'}; Path=/; Secure`;
}

function shell() {
  const nav = h('nav', { role: 'navigation' },
    h('a', { href: '/home', 'data-testid': 'AppTabBar_Home_Link' }, 'Home'),
    account.handle ? h('a', { href: `/${account.handle}`, 'data-testid': 'AppTabBar_Profile_Link' }, 'Profile') : '',
    h('a', { href: '/compose/post', 'data-testid': 'SideNav_NewTweet_Button', role: 'link' }, 'Post'),
    account.handle
      ? h('div', { 'data-testid': 'SideNav_AccountSwitcher_Button', role: 'button' },
        h('span', {}, account.name), h('span', {}, `@${account.handle}`))
      : '');
  const timeline = h('section', { 'aria-label': 'Timeline', id: 'timeline' });
  const main = h('main', { role: 'main' }, inlineComposer(), timeline);
  root.replaceChildren(h('div', {}, nav, main));
  timeline.append(tweet('Welcome back everyone! Autumn term starts today.'));
}

// A post in the timeline, with X's reply and retweet (-> Quote) controls.
function tweet(text) {
  const reply = h('button', { type: 'button', 'data-testid': 'reply', 'aria-label': 'Reply' }, '💬');
  const retweet = h('button', { type: 'button', 'data-testid': 'retweet', 'aria-label': 'Repost' }, '🔁');
  const article = h('article', { 'data-testid': 'tweet' },
    h('div', { 'data-testid': 'tweetText' }, text), h('div', { role: 'group' }, reply, retweet));
  reply.addEventListener('click', () => modalComposer({ replyTo: text }));
  retweet.addEventListener('click', () => {
    const quote = h('div', { role: 'menuitem', 'data-testid': 'quote', tabindex: '0' }, 'Quote');
    quote.addEventListener('click', () => modalComposer({ quote: text }));
    layers.replaceChildren(h('div', { role: 'menu', 'data-testid': 'Dropdown' }, quote));
  });
  return article;
}

// --- Media, as X does it: a hidden file input (also fed by paste and drag and
// drop), blob: previews in an attachments area per post, X's remove button and
// an image description editor. The files are uploaded when the post is sent,
// and the server records them (what X would publish).
const previewFiles = new WeakMap(); // preview element -> File

function attachmentsArea() {
  return h('div', { 'data-testid': 'attachments' });
}

function addFiles(area, files) {
  for (const file of files) {
    if (!/^(image|video)\//.test(file.type)) continue;
    const url = URL.createObjectURL(file);
    const media = file.type.startsWith('video/')
      ? h('video', { src: url, muted: true, width: '120' })
      : h('img', { src: url, alt: '', width: '120' });
    const remove = h('button', { type: 'button', 'aria-label': 'Remove media' }, '✕');
    const describe = h('button', { type: 'button', 'aria-label': 'Add description', 'data-testid': 'altTextEdit' }, '+ALT');
    const preview = h('div', { 'data-testid': 'attachmentPreview' }, media, remove, describe);
    remove.addEventListener('click', () => {
      preview.remove();
      URL.revokeObjectURL(url);
      updateButtons();
    });
    describe.addEventListener('click', () => altEditor(media));
    previewFiles.set(preview, file);
    area.append(preview);
  }
  updateButtons();
}

// X's description editor: a dialog over the page; saving puts the text on the preview.
function altEditor(media) {
  const input = h('textarea', { 'data-testid': 'altTextInput', 'aria-label': 'Description', maxlength: '1000' });
  input.value = media.getAttribute('alt') || '';
  const save = h('button', { type: 'button', 'data-testid': 'altTextSave' }, 'Save');
  const dialog = h('div', { role: 'dialog', 'aria-modal': 'true', 'aria-label': 'Edit image description', 'data-testid': 'altTextDialog' },
    input, save);
  save.addEventListener('click', () => {
    media.setAttribute('alt', input.value);
    dialog.remove();
  });
  layers.append(dialog);
  input.focus();
}

// Paste into a post's text box and drop onto the composer attach files, like X.
function acceptFiles(cell, area) {
  cell.addEventListener('paste', (event) => {
    const files = event.clipboardData && event.clipboardData.files;
    if (files && files.length) {
      event.preventDefault();
      addFiles(area, files);
    }
  });
  cell.addEventListener('dragover', (event) => event.preventDefault());
  cell.addEventListener('drop', (event) => {
    event.preventDefault();
    addFiles(area, event.dataTransfer.files);
  });
}

function fileInput(areaFor) {
  const input = h('input', {
    type: 'file', 'data-testid': 'fileInput', accept: 'image/*,video/*', multiple: true, style: 'display:none',
  });
  input.addEventListener('change', () => {
    addFiles(areaFor(), input.files);
    input.value = ''; // X clears it, so the same file can be chosen again
  });
  return input;
}

function inlineComposer() {
  const button = h('button', { type: 'button', 'data-testid': 'tweetButtonInline', disabled: true }, 'Post');
  const attachments = attachmentsArea();
  const input = fileInput(() => attachments);
  const composer = h('div', { class: 'composer', 'data-fixture': 'inline' },
    editor(0),
    attachments,
    h('div', { class: 'toolbar' }, input, button));
  acceptFiles(composer, attachments);
  return composer;
}

// The modal composer: a new post or thread, a reply, or a quote.
function modalComposer({ replyTo = null, quote = null } = {}) {
  // Each post of a thread has its own attachments; the toolbar's file input adds
  // to the post being edited.
  let active = null;
  const cell = (index) => {
    const area = attachmentsArea();
    const node = h('div', { class: 'cell', 'data-testid': 'cellInnerDiv' }, editor(index), area);
    node.addEventListener('focusin', () => { active = area; });
    acceptFiles(node, area);
    active = area;
    return node;
  };
  const boxes = h('div', { class: 'thread' }, cell(0));
  const add = h('button', { type: 'button', 'data-testid': 'addButton', 'aria-label': 'Add post' }, '+');
  add.addEventListener('click', () => {
    boxes.append(cell(boxes.children.length));
    updateButtons();
  });
  const input = fileInput(() => active);
  const header = replyTo ? `Replying to @OakfieldPrimary` : 'New post';
  const dialog = h('div', { role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'modal-header' },
    h('div', { id: 'modal-header' }, header),
    replyTo ? h('blockquote', {}, replyTo) : '',
    boxes,
    quote ? h('div', { 'data-testid': 'quoteTweet' }, quote) : '',
    h('div', { class: 'toolbar' }, input, replyTo || quote ? '' : add,
      h('button', { type: 'button', 'data-testid': 'tweetButton', disabled: true }, replyTo ? 'Reply' : 'Post')));
  layers.replaceChildren(dialog);
}

function updateButtons() {
  for (const composer of document.querySelectorAll('.composer, [role="dialog"]')) {
    const button = composer.querySelector('[data-testid^="tweetButton"]');
    const boxes = [...composer.querySelectorAll('[data-testid^="tweetTextarea_"][contenteditable]')];
    if (button) button.disabled = boxes.some((box) => !editorText(box).trim() && postFiles(composer, box).length === 0);
  }
}

// --- Routing (history.pushState, like X's single-page app)
function loginPage() {
  root.replaceChildren(h('main', { 'data-testid': 'loginPage' },
    h('h1', {}, 'Sign in to X'),
    h('input', { name: 'text', autocomplete: 'username', 'aria-label': 'Phone, email, or username' })));
  layers.replaceChildren();
}

function route() {
  if (location.pathname.startsWith('/i/flow/login')) return loginPage();
  if (!root.querySelector('nav')) shell();
  if (location.pathname === '/compose/post') modalComposer();
  else layers.querySelector('[role="dialog"]')?.remove();
}

function navigate(path) {
  history.pushState({}, '', path);
  route();
}

// --- Posting: the page's own handlers, on its root like React's.
async function post(composer) {
  const button = composer.querySelector('[data-testid^="tweetButton"]');
  if (!button || button.disabled) return; // X refuses when its own button is disabled
  const boxes = [...composer.querySelectorAll('[data-testid^="tweetTextarea_"][contenteditable]')];
  const ct0 = (document.cookie.split('; ').find((c) => c.startsWith('ct0=')) || '').slice(4);
  for (const box of boxes) {
    const text = editorText(box);
    const mediaIds = [];
    for (const file of postFiles(composer, box)) {
      const upload = await fetch(`/i/media/upload.json?name=${encodeURIComponent(file.name)}`, {
        method: 'POST', headers: { 'content-type': file.type || 'application/octet-stream', 'x-csrf-token': ct0 }, body: file,
      });
      if (!upload.ok) return;
      mediaIds.push((await upload.json()).media_id_string);
    }
    const response = await fetch('/i/api/graphql/fixture/CreateTweet', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': ct0 },
      body: JSON.stringify({
        variables: { tweet_text: text, media: { media_entities: mediaIds.map((id) => ({ media_id: id })) } },
        queryId: 'fixture',
      }),
    });
    if (!response.ok) return;
    document.getElementById('timeline').prepend(tweet(text));
  }
  for (const area of composer.querySelectorAll('[data-testid="attachments"]')) area.replaceChildren();
  if (composer.getAttribute('role') === 'dialog') {
    if (location.pathname === '/compose/post') navigate('/home');
    else composer.remove();
  } else {
    for (const box of boxes) setEditorText(box, '');
    updateButtons();
  }
  const toast = h('div', { 'data-testid': 'toast', role: 'alert' }, 'Your post was sent. ', h('a', { href: '/home' }, 'View'));
  layers.append(toast);
}

// The files of one post: the attachments area in its cell (a thread), else the composer's.
function postFiles(composer, box) {
  const cell = box.closest('.cell') || composer;
  const area = cell.querySelector('[data-testid="attachments"]');
  return area ? [...area.children].map((p) => previewFiles.get(p)).filter(Boolean) : [];
}

function composerOf(node) {
  return node.closest('[role="dialog"]') || node.closest('.composer');
}

function onRootClick(event) {
  const link = event.target.closest('a[href^="/"]');
  if (link) {
    event.preventDefault();
    navigate(link.getAttribute('href'));
    return;
  }
  const button = event.target.closest('[data-testid="tweetButton"], [data-testid="tweetButtonInline"]');
  if (button) post(composerOf(button));
}

function onRootKeyDown(event) {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    const box = event.target.closest('[data-testid^="tweetTextarea_"]');
    if (box) {
      event.preventDefault();
      post(composerOf(box));
    }
  }
}

for (const container of [root, layers]) {
  container.addEventListener('click', onRootClick);
  container.addEventListener('keydown', onRootKeyDown);
}
window.addEventListener('popstate', route);
route();
