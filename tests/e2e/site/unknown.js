// An X page whose composer matches none of x-dom.js's selectors, as after a
// redesign X could ship any day: a `plaintext-only` text box with no
// role=textbox and a new testid in the main column, and its Post button, with a
// new testid and a German label, in a top bar outside it (before the box, as in
// X's mobile layout). It posts like X, through fetch to the GraphQL CreateTweet
// call, so only the network guard stands in its way.
'use strict';

const root = document.getElementById('react-root');
const layers = document.getElementById('layers');

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v != null) node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
}

const box = h('div', {
  contenteditable: 'plaintext-only', 'data-testid': 'composerBody', 'aria-label': 'Beitragstext',
  style: 'min-height:3em;border:1px solid #ccc;padding:4px',
});
const button = h('button', { type: 'button', 'data-testid': 'composerSubmit' }, 'Posten');
const status = h('div', { id: 'status' });

root.append(
  h('header', { role: 'banner', class: 'top-bar' }, button),
  h('nav', { role: 'navigation' },
    h('a', { href: '/OakfieldPrimary', 'data-testid': 'AppTabBar_Profile_Link' }, 'Profil'),
    h('div', { 'data-testid': 'SideNav_AccountSwitcher_Button', role: 'button' },
      h('span', {}, 'Oakfield Primary'), h('span', {}, '@OakfieldPrimary'))),
  h('main', { role: 'main' }, h('div', { class: 'next-composer' }, box), status),
);

async function post() {
  const ct0 = (document.cookie.split('; ').find((c) => c.startsWith('ct0=')) || '').slice(4);
  const text = box.innerText.replace(/\n$/, '');
  let response;
  try {
    response = await fetch('/i/api/graphql/n3w-Qu3ry/CreateTweet', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': ct0 },
      body: JSON.stringify({ variables: { tweet_text: text, media: { media_entities: [] } }, queryId: 'n3w-Qu3ry' }),
    });
  } catch {
    status.dataset.result = 'failed';
    status.textContent = 'Etwas ist schiefgelaufen.';
    return;
  }
  status.dataset.result = response.ok ? 'sent' : `error ${response.status}`;
  if (response.ok) {
    box.textContent = '';
    layers.append(h('div', { 'data-testid': 'toast', role: 'alert' }, 'Dein Post wurde gesendet.'));
  }
}

button.addEventListener('click', post);
box.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    post();
  }
});
