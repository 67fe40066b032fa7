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

// ?composer=textarea is the mobile web's <textarea> (React keeps the text in its
// state and sets .value; textContent keeps the first text); ?composer=renamed is a
// later X: a plaintext-only box without role or known testid, and a Post button
// with a new testid and a German label. The page's own handlers find its boxes
// and buttons by class, like React's own references, never by testid.
const variant = new URLSearchParams(location.search).get('composer');

function editor(index) {
  if (variant === 'textarea') {
    const area = h('textarea', {
      class: 'fixture-box', 'aria-label': 'Post text', placeholder: "What's happening?",
      'data-testid': `tweetTextarea_${index}`, rows: '3',
    });
    const state = { text: '' };
    area.addEventListener('input', () => {
      state.text = area.value; // React: state from the event, then value from state
      area.value = state.text;
      updateButtons();
    });
    return h('div', { 'data-testid': `tweetTextarea_${index}_label` }, area);
  }
  if (variant === 'renamed') {
    const box = h('div', {
      class: 'fixture-box public-DraftEditor-content', contenteditable: 'plaintext-only',
      'aria-label': 'Beitragstext', 'data-testid': `composerInput_${index}`,
    });
    box.addEventListener('input', () => updateButtons());
    return h('div', {}, box);
  }
  const contents = h('div', { 'data-contents': 'true' }, blockNode(''));
  const box = h('div', {
    class: 'fixture-box public-DraftEditor-content', contenteditable: 'true', role: 'textbox',
    'aria-label': 'Post text', 'aria-multiline': 'true', spellcheck: 'true',
    'data-testid': `tweetTextarea_${index}`,
  }, contents);
  box.addEventListener('input', () => normalize(box));
  return h('div', { 'data-testid': `tweetTextarea_${index}_label` },
    h('div', { class: 'DraftEditor-root' }, h('div', { class: 'DraftEditor-editorContainer' }, box)));
}

function postButton(testid, label) {
  if (variant === 'renamed') [testid, label] = ['composerSubmit', 'Posten'];
  return h('button', { type: 'button', class: 'fixture-post', 'data-testid': testid, disabled: true }, label);
}

function editorText(box) {
  if (box instanceof HTMLTextAreaElement) return box.value;
  if (box.getAttribute('contenteditable') === 'plaintext-only') return box.innerText.replace(/\n$/, '');
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
  if (box instanceof HTMLTextAreaElement) {
    box.value = text;
    return;
  }
  if (box.getAttribute('contenteditable') === 'plaintext-only') {
    box.textContent = text;
    return;
  }
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
  for (const post of TIMELINE) timeline.append(tweet(post.text, post));
  // ?timeline=quotes: posts that quote a parent's post naming a pupil, one with
  // words of its own, one with only a photo.
  if (params.get('timeline') === 'quotes') {
    const parent = TIMELINE[1];
    timeline.prepend(
      tweet('Lovely to see this', { id: '1004', author: 'SomeCouncil', name: 'Some Council', quote: parent }),
      tweet('', { id: '1005', author: 'OtherSchool', name: 'Other School', quote: parent, photo: true }));
  }
}

// Posts of other accounts in the timeline, for reposting: one names a pupil.
const TIMELINE = [
  { id: '1000', author: 'OakfieldPrimary', name: 'Oakfield Primary', text: 'Welcome back everyone! Autumn term starts today.' },
  { id: '1001', author: 'ProudParent22', name: 'Proud Parent', text: 'So proud of Amelia Thornbury at the swimming gala today!' },
  { id: '1002', author: 'SomeCouncil', name: 'Some Council', text: 'Libraries are open late all this week for homework club.' },
  { id: '1003', author: 'OtherSchool', name: 'Other School', text: 'Our choir sang beautifully at the town hall tonight.' },
];
let nextId = 2000;

function userName(author, name, id) {
  return h('div', { 'data-testid': 'User-Name' },
    h('a', { href: `/${author}`, role: 'link' }, h('span', {}, name)),
    h('a', { href: `/${author}`, role: 'link', tabindex: '-1' }, h('span', {}, `@${author}`)),
    h('a', { href: `/${author}/status/${id}`, role: 'link' }, h('time', { datetime: '2026-11-27T10:00:00.000Z' }, '2h')));
}

// A post in the timeline, as X renders it: author (User-Name), text, a link to the
// post with its time, a quoted post or a photo, and X's reply and repost controls.
function tweet(text, { id = String(nextId++), author = account.handle || 'OakfieldPrimary', name = account.name, quote = null, photo = false } = {}) {
  const reply = h('button', { type: 'button', 'data-testid': 'reply', 'aria-label': 'Reply' }, '💬');
  const retweet = h('button', {
    type: 'button', 'data-testid': 'retweet', 'aria-label': 'Repost', 'aria-haspopup': 'menu', 'aria-expanded': 'false',
  }, '🔁');
  const article = h('article', { 'data-testid': 'tweet', role: 'article', tabindex: '0' },
    userName(author, name, id),
    text ? h('div', { 'data-testid': 'tweetText', lang: 'en' }, text) : '',
    photo ? h('div', { 'data-testid': 'tweetPhoto' }, h('img', { alt: 'Image', width: '60', height: '40' })) : '',
    quote ? h('div', { 'data-testid': 'quoteTweet', role: 'link', tabindex: '0' },
      userName(quote.author, quote.name, quote.id), h('div', { 'data-testid': 'tweetText', lang: 'en' }, quote.text)) : '',
    h('div', { role: 'group' }, reply, retweet));
  reply.addEventListener('click', () => modalComposer({ replyTo: text }));
  retweet.addEventListener('click', () => repostMenu(article, retweet, id));
  return article;
}

// X's Repost menu: in #layers, anchored over the button that opened it (clicked,
// or the `t` key on the focused post), which is marked aria-expanded meanwhile.
function repostMenu(article, retweet, id) {
  closeMenu();
  const repost = h('div', { role: 'menuitem', 'data-testid': 'retweetConfirm', tabindex: '0' }, h('span', {}, 'Repost'));
  const quote = h('div', { role: 'menuitem', 'data-testid': 'quote', tabindex: '0' }, 'Quote');
  repost.addEventListener('click', async () => {
    if (await sendRepost(id)) {
      closeMenu();
      retweet.setAttribute('data-testid', 'unretweet');
      retweet.setAttribute('aria-label', 'Undo repost');
    }
  });
  quote.addEventListener('click', () => {
    closeMenu();
    modalComposer({ quote: article });
  });
  const at = retweet.getBoundingClientRect();
  const menu = h('div', {
    role: 'menu', 'data-testid': 'Dropdown',
    style: `position:absolute;top:${at.top + scrollY}px;left:${at.left + scrollX}px;z-index:10;`,
  }, repost, quote);
  retweet.setAttribute('aria-expanded', 'true');
  menu.fixtureOpener = retweet;
  layers.replaceChildren(menu);
  repost.focus();
}

function closeMenu() {
  const menu = layers.querySelector('[role="menu"]');
  if (!menu) return;
  if (menu.fixtureOpener) menu.fixtureOpener.setAttribute('aria-expanded', 'false');
  menu.remove();
}

// X's keyboard shortcuts: `t` opens the Repost menu of the focused post; Escape closes it.
window.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') return closeMenu();
  if (event.key !== 't' || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target instanceof Element ? event.target : null;
  if (!target || target.closest('textarea, input, [contenteditable]')) return;
  const article = target.closest('article');
  const retweet = article && article.querySelector('[data-testid="retweet"]');
  if (!retweet) return;
  event.preventDefault();
  retweet.click();
});

// X's posting call for a repost: /i/api/graphql/<queryId>/CreateRetweet.
async function sendRepost(id) {
  const response = await fetch('/i/api/graphql/fixture/CreateRetweet', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf() },
    body: JSON.stringify({ variables: { tweet_id: id, dark_request: false }, queryId: 'fixture' }),
  });
  return response.ok;
}

function csrf() {
  return (document.cookie.split('; ').find((c) => c.startsWith('ct0=')) || '').slice(4);
}

// x.com/intent/retweet?tweet_id=ID: the post behind a "Repost?" sheet.
function intentPage() {
  const id = new URLSearchParams(location.search).get('tweet_id');
  const post = TIMELINE.find((p) => p.id === id);
  const timeline = document.getElementById('timeline');
  if (post) timeline.replaceChildren(tweet(post.text, post));
  const confirm = h('button', { type: 'button', 'data-testid': 'confirmationSheetConfirm' }, 'Repost');
  const cancel = h('button', { type: 'button', 'data-testid': 'confirmationSheetCancel' }, 'Cancel');
  const sheet = h('div', { role: 'alertdialog', 'aria-modal': 'true', 'data-testid': 'sheetDialog' },
    h('h1', {}, 'Repost this post?'), confirm, cancel);
  confirm.addEventListener('click', async () => {
    if (!(await sendRepost(id))) return;
    const undo = timeline.querySelector('[data-testid="retweet"]');
    if (undo) undo.setAttribute('data-testid', 'unretweet');
    sheet.remove();
    layers.append(h('div', { 'data-testid': 'toast', role: 'alert' }, 'Reposted'));
  });
  cancel.addEventListener('click', () => sheet.remove());
  layers.replaceChildren(sheet);
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
  const button = postButton('tweetButtonInline', 'Post');
  const attachments = attachmentsArea();
  const input = fileInput(() => attachments);
  const poll = h('div', { class: 'poll-slot' });
  const pollButton = h('button', { type: 'button', 'data-testid': 'createPollButton', 'aria-label': 'Add poll' }, '📊');
  const schedule = h('button', { type: 'button', 'data-testid': 'scheduleOption', 'aria-label': 'Schedule post' }, '📅');
  const composer = h('div', { class: 'composer', 'data-fixture': 'inline' },
    editor(0),
    poll,
    attachments,
    h('div', { class: 'toolbar', 'data-testid': 'toolBar' },
      h('div', { role: 'tablist' }, input, pollButton, schedule), button));
  pollButton.addEventListener('click', () => pollEditor(poll));
  schedule.addEventListener('click', () => scheduleDialog(composer));
  acceptFiles(composer, attachments);
  return composer;
}

// X's poll editor: two choices to start, up to four.
function pollEditor(slot) {
  if (slot.firstChild) return;
  const choices = h('div', { role: 'group', 'aria-label': 'Poll' });
  const add = h('button', { type: 'button', 'data-testid': 'addPollOption', 'aria-label': 'Add a choice' }, '+');
  const remove = h('button', { type: 'button', 'data-testid': 'removePoll' }, 'Remove poll');
  const choice = () => {
    const n = choices.children.length;
    const field = h('input', { type: 'text', name: `Choice${n + 1}`, maxlength: '25', 'data-testid': `pollOption_${n}`, 'aria-label': `Choice ${n + 1}` });
    field.addEventListener('input', updateButtons);
    choices.append(field);
  };
  choice();
  choice();
  add.addEventListener('click', () => { if (choices.children.length < 4) choice(); });
  remove.addEventListener('click', () => slot.replaceChildren());
  slot.replaceChildren(h('div', { 'data-testid': 'pollEditor' }, choices, add, remove));
}

// X's schedule dialog: pick a time, confirm; the composer then schedules instead of posting.
function scheduleDialog(composer) {
  const when = h('select', { 'aria-label': 'Day' },
    h('option', { value: '2026-12-01T09:00' }, '1 December 2026, 09:00'),
    h('option', { value: '2026-12-02T09:00' }, '2 December 2026, 09:00'));
  const confirm = h('button', { type: 'button', 'data-testid': 'scheduledConfirmationPrimaryAction' }, 'Confirm');
  const clear = h('button', { type: 'button', 'data-testid': 'scheduledConfirmationSecondaryAction' }, 'Clear');
  const dialog = h('div', { role: 'dialog', 'aria-modal': 'true', 'aria-label': 'Schedule', 'data-testid': 'scheduleDialog' },
    h('h2', {}, 'Schedule'), when, confirm, clear);
  const button = composer.querySelector('.fixture-post');
  confirm.addEventListener('click', () => {
    composer.dataset.scheduledFor = when.value;
    button.textContent = 'Schedule';
    dialog.remove();
  });
  clear.addEventListener('click', () => {
    delete composer.dataset.scheduledFor;
    button.textContent = 'Post';
    dialog.remove();
  });
  layers.append(dialog);
}

// The modal composer: a new post or thread, a reply, or a quote (of an article).
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
  // X embeds the quoted post as a small article: author, text, link.
  const quoted = quote ? quote.cloneNode(true) : null;
  if (quoted) quoted.querySelector('[role="group"]')?.remove();
  const dialog = h('div', { role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'modal-header' },
    h('div', { id: 'modal-header' }, header),
    replyTo ? h('blockquote', {}, replyTo) : '',
    boxes,
    quoted ? h('div', { 'data-testid': 'quoteTweet', role: 'link' }, quoted) : '',
    h('div', { class: 'toolbar' }, input, replyTo || quote ? '' : add,
      postButton('tweetButton', replyTo ? 'Reply' : 'Post')));
  layers.replaceChildren(dialog);
}

function pollChoices(composer) {
  return [...composer.querySelectorAll('[data-testid^="pollOption_"]')].map((i) => i.value.trim());
}

function updateButtons() {
  for (const composer of document.querySelectorAll('.composer, [role="dialog"]')) {
    const button = composer.querySelector('.fixture-post');
    const boxes = [...composer.querySelectorAll('.fixture-box')];
    const pollIncomplete = pollChoices(composer).some((c) => !c);
    if (button) {
      button.disabled = pollIncomplete ||
        boxes.some((box) => !editorText(box).trim() && postFiles(composer, box).length === 0);
    }
  }
}

// --- Routing (history.pushState, like X's single-page app)
function loginPage() {
  root.replaceChildren(h('main', { 'data-testid': 'loginPage' },
    h('h1', {}, 'Sign in to X'),
    h('input', { name: 'text', autocomplete: 'username', 'aria-label': 'Phone, email, or username' })));
  layers.replaceChildren();
}

// x.com/messages: a direct message conversation. DMs are not posts: tweetguard
// neither holds them nor signs out after them. Sending puts the message in the
// conversation and empties the box (like a post's box after sending).
function messagesPage() {
  const box = h('textarea', { 'data-testid': 'dm-composer-textarea', placeholder: 'Start a new message', rows: '2' });
  const send = h('button', { type: 'button', 'data-testid': 'dm-composer-send-button', 'aria-label': 'Send' }, 'Send');
  const media = h('input', { type: 'file', accept: 'image/*,video/*', 'data-testid': 'dmFileInput', style: 'display:none' });
  const conversation = h('div', { 'data-testid': 'DmActivityViewport', id: 'conversation' });
  send.addEventListener('click', () => {
    if (!box.value.trim()) return;
    conversation.append(h('div', { 'data-testid': 'messageEntry' }, box.value));
    box.value = '';
  });
  const main = root.querySelector('main');
  main.replaceChildren(h('section', { 'aria-label': 'Conversation' }, conversation, h('div', {}, media, box, send)));
}

function route() {
  if (location.pathname.startsWith('/i/flow/login')) return loginPage();
  if (!root.querySelector('nav')) shell();
  if (location.pathname.startsWith('/messages')) return messagesPage();
  if (location.pathname.startsWith('/intent/retweet')) return intentPage();
  if (location.pathname === '/compose/post') modalComposer();
  else layers.querySelector('[role="dialog"]')?.remove();
}

function navigate(path) {
  history.pushState({}, '', path);
  route();
}

// --- Posting: the page's own handlers, on its root like React's.
async function post(composer) {
  const button = composer.querySelector('.fixture-post');
  if (!button || button.disabled) return; // X refuses when its own button is disabled
  const boxes = [...composer.querySelectorAll('.fixture-box')];
  const scheduled = composer.dataset.scheduledFor;
  const choices = pollChoices(composer);
  for (const box of boxes) {
    const text = editorText(box);
    const mediaIds = [];
    for (const file of postFiles(composer, box)) {
      const upload = await fetch(`/i/media/upload.json?name=${encodeURIComponent(file.name)}`, {
        method: 'POST', headers: { 'content-type': file.type || 'application/octet-stream', 'x-csrf-token': csrf() }, body: file,
      });
      if (!upload.ok) return;
      mediaIds.push((await upload.json()).media_id_string);
    }
    const media = { media_entities: mediaIds.map((id) => ({ media_id: id })) };
    const poll = box === boxes[0] && choices.length ? { choices } : undefined;
    // A scheduled post goes to CreateScheduledTweet, its text in post_tweet_request.status.
    const [operation, variables] = scheduled
      ? ['CreateScheduledTweet', { post_tweet_request: { status: text, media, poll }, execute_at: Date.parse(scheduled) / 1000 }]
      : ['CreateTweet', { tweet_text: text, media, poll }];
    const response = await fetch(`/i/api/graphql/fixture/${operation}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf() },
      body: JSON.stringify({ variables, queryId: 'fixture' }),
    });
    if (!response.ok) return;
    if (!scheduled) document.getElementById('timeline').prepend(tweet(text));
  }
  for (const area of composer.querySelectorAll('[data-testid="attachments"]')) area.replaceChildren();
  composer.querySelector('[data-testid="pollEditor"]')?.remove();
  delete composer.dataset.scheduledFor;
  button.textContent = variant === 'renamed' ? 'Posten' : 'Post';
  if (composer.getAttribute('role') === 'dialog') {
    if (location.pathname === '/compose/post') navigate('/home');
    else composer.remove();
  } else {
    for (const box of boxes) setEditorText(box, '');
    updateButtons();
  }
  const message = scheduled
    ? `Your post will be sent on ${new Date(scheduled).toLocaleString('en-GB')}. `
    : 'Your post was sent. ';
  const toast = h('div', { 'data-testid': 'toast', role: 'alert' }, message, h('a', { href: '/home' }, 'View'));
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
  const button = event.target.closest('.fixture-post');
  if (button) post(composerOf(button));
}

function onRootKeyDown(event) {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    const box = event.target.closest('.fixture-box');
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
