// "Who is in this photo?": a type-ahead over the school's pupils and staff (the
// helper's `people` request), keyboard first (ARIA combobox: arrows, Enter,
// Escape), plus "No one can be recognised". It renders into the photo panel's
// shadow root and reports changes. Face matches are answered on the card itself
// (face-matches.js), beside the face they are about.
(() => {
  'use strict';

  const SEARCH_DELAY_MS = 80;
  const NOBODY = 'No one can be recognised (backs of heads, hands, work, far away)';
  let counter = 0;

  const { el } = globalThis.TweetGuardPanel; // one element builder for every view

  function describe(person) {
    const parts = [person.name];
    if (person.group) parts.push(person.group);
    if (person.role === 'staff') parts.push('staff');
    else parts.push(person.consent ? 'has social media consent' : 'no social media consent');
    return parts.join(' · ');
  }

  // Keys typed here are the picker's: X's shortcuts must not see them.
  function keepKeys(node) {
    for (const type of ['keydown', 'keyup', 'keypress']) node.addEventListener(type, (e) => e.stopPropagation());
  }

  /** A picker element. `picks` ({pictured, nobody, confirmedNot}) is changed in
   * place; `onChange()` is called after each change. `search(query)` resolves to
   * people ({ref, name, group, role, consent}). */
  function create({ picks, search, onChange }) {
    const id = `tg-people-${++counter}`;
    const root = el('div', { class: 'picker', role: 'group', 'aria-label': 'Who is in this photo?' });
    const label = el('label', { for: `${id}-input` }, 'Who is in this photo? Type a name, class or year:');
    const input = el('input', {
      id: `${id}-input`, type: 'text', role: 'combobox', autocomplete: 'off',
      'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': `${id}-list`,
    });
    const list = el('ul', { id: `${id}-list`, role: 'listbox', class: 'options', 'aria-label': 'People' });
    const chosen = el('ul', { class: 'chosen', 'aria-label': 'Pictured' });
    const nobodyId = `${id}-nobody`;
    const nobody = el('input', { id: nobodyId, type: 'checkbox' });
    nobody.checked = picks.nobody;
    const nobodyRow = el('div', { class: 'nobody' });
    nobodyRow.append(nobody, el('label', { for: nobodyId, class: 'inline' }, NOBODY));
    keepKeys(input);
    keepKeys(nobody);

    let options = [];
    let active = -1;
    let timer = null;
    let asked = 0;

    function changed() {
      renderChosen();
      onChange();
    }

    function renderChosen() {
      chosen.replaceChildren();
      for (const person of picks.pictured) {
        const item = el('li', { 'data-ref': person.ref });
        item.append(el('span', {}, describe(person)));
        const remove = el('button', { type: 'button', 'aria-label': `Remove ${person.name}` }, '×');
        remove.addEventListener('click', (e) => {
          e.stopPropagation();
          picks.pictured = picks.pictured.filter((p) => p.ref !== person.ref);
          changed();
          input.focus();
        });
        item.append(remove);
        chosen.append(item);
      }
      nobody.disabled = picks.pictured.length > 0;
      input.disabled = picks.nobody;
    }

    function renderOptions() {
      list.replaceChildren();
      options.forEach((person, i) => {
        const option = el('li', { id: `${id}-opt-${i}`, role: 'option', 'aria-selected': String(i === active), 'data-ref': person.ref }, describe(person));
        option.addEventListener('mousedown', (e) => e.preventDefault()); // keep focus in the input
        option.addEventListener('click', (e) => {
          e.stopPropagation();
          pick(person);
        });
        list.append(option);
      });
      input.setAttribute('aria-expanded', String(options.length > 0));
      if (active >= 0) input.setAttribute('aria-activedescendant', `${id}-opt-${active}`);
      else input.removeAttribute('aria-activedescendant');
    }

    function close() {
      options = [];
      active = -1;
      renderOptions();
    }

    function pick(person) {
      if (!picks.pictured.some((p) => p.ref === person.ref)) picks.pictured = [...picks.pictured, person];
      picks.confirmedNot = picks.confirmedNot.filter((ref) => ref !== person.ref);
      picks.nobody = false;
      nobody.checked = false;
      input.value = '';
      close();
      changed();
      input.focus();
    }

    async function lookUp() {
      const query = input.value.trim();
      const number = ++asked;
      if (!query) return close();
      const found = await search(query);
      if (number !== asked) return; // a newer query is on its way
      options = found.filter((p) => !picks.pictured.some((q) => q.ref === p.ref));
      active = options.length ? 0 : -1;
      renderOptions();
    }

    input.addEventListener('input', (e) => {
      e.stopPropagation();
      clearTimeout(timer);
      timer = setTimeout(lookUp, SEARCH_DELAY_MS);
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown' && options.length) {
        active = (active + 1) % options.length;
        renderOptions();
        e.preventDefault();
      } else if (e.key === 'ArrowUp' && options.length) {
        active = (active - 1 + options.length) % options.length;
        renderOptions();
        e.preventDefault();
      } else if (e.key === 'Enter') {
        e.preventDefault();
        if (active >= 0 && options[active]) pick(options[active]);
      } else if (e.key === 'Escape') {
        if (options.length) e.preventDefault();
        close();
      }
    });
    nobody.addEventListener('change', (e) => {
      e.stopPropagation();
      picks.nobody = nobody.checked;
      changed();
    });
    nobody.addEventListener('click', (e) => e.stopPropagation());

    root.append(label, input, list, chosen, nobodyRow);
    renderChosen();
    return {
      element: root,
      focus: () => input.focus(),
      /** `picks` changed elsewhere (a face match's "That is not …"): show them again. */
      refresh() {
        nobody.checked = picks.nobody;
        renderChosen();
      },
    };
  }

  globalThis.TweetGuardPeoplePicker = Object.freeze({ create, describe, NOBODY });
})();
