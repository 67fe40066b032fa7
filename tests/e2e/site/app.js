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

function inlineComposer() {
  const button = h('button', { type: 'button', 'data-testid': 'tweetButtonInline', disabled: true }, 'Post');
  const attachments = h('div', { 'data-testid': 'attachments' });
  const input = h('input', { type: 'file', 'data-testid': 'fileInput', accept: 'image/*', multiple: true, style: 'display:none' });
  // Like X: each chosen file becomes a blob: preview inside the attachments area.
  input.addEventListener('change', () => {
    for (const file of input.files) {
      attachments.append(h('div', { 'data-testid': 'attachmentPreview' },
        h('img', { src: URL.createObjectURL(file), alt: '', width: '120' })));
    }
  });
  return h('div', { class: 'composer', 'data-fixture': 'inline' },
    editor(0),
    attachments,
    h('div', { class: 'toolbar' }, input, button));
}

// The modal composer: a new post or thread, a reply, or a quote.
function modalComposer({ replyTo = null, quote = null } = {}) {
  const boxes = h('div', { class: 'thread' }, editor(0));
  const add = h('button', { type: 'button', 'data-testid': 'addButton', 'aria-label': 'Add post' }, '+');
  add.addEventListener('click', () => {
    boxes.append(editor(boxes.children.length));
    updateButtons();
  });
  const header = replyTo ? `Replying to @OakfieldPrimary` : 'New post';
  const dialog = h('div', { role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'modal-header' },
    h('div', { id: 'modal-header' }, header),
    replyTo ? h('blockquote', {}, replyTo) : '',
    boxes,
    quote ? h('div', { 'data-testid': 'quoteTweet' }, quote) : '',
    h('div', { class: 'toolbar' }, replyTo || quote ? '' : add,
      h('button', { type: 'button', 'data-testid': 'tweetButton', disabled: true }, replyTo ? 'Reply' : 'Post')));
  layers.replaceChildren(dialog);
}

function updateButtons() {
  for (const composer of document.querySelectorAll('.composer, [role="dialog"]')) {
    const button = composer.querySelector('[data-testid^="tweetButton"]');
    const texts = [...composer.querySelectorAll('[data-testid^="tweetTextarea_"][contenteditable]')].map(editorText);
    if (button) button.disabled = texts.some((t) => !t.trim());
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
    const response = await fetch('/i/api/graphql/fixture/CreateTweet', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': ct0 },
      body: JSON.stringify({ variables: { tweet_text: text }, queryId: 'fixture' }),
    });
    if (!response.ok) return;
    document.getElementById('timeline').prepend(tweet(text));
  }
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
