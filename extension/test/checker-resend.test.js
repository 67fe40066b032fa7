// The composer check after the helper forgot a photo: only the posts it could not
// check are asked again. The others were answered, and recorded in the school's
// audit, already: asking again would put a second check of them in the audit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

const read = (path) => readFileSync(new URL(path, import.meta.url), 'utf8');
const DOM_JS = read('../src/content/x-dom.js');
const CHECKER_JS = read('../src/content/checker.js');

/** A two-post thread composer; the helper answers `media_unknown` to the posts
 * listed in `forgetFirstTime` the first time each is asked. */
function setUp(forgetFirstTime) {
  const html = read('./dom/modal-thread.html');
  const dom = new JSDOM(`<!doctype html><body>${html}</body>`, { url: 'https://x.com/home', runScripts: 'outside-only' });
  const { window } = dom;
  const asked = [];
  window.chrome = {
    runtime: {
      lastError: undefined,
      sendMessage(message, reply) {
        const { text } = message.request;
        asked.push(text);
        const first = asked.filter((t) => t === text).length === 1;
        if (first && forgetFirstTime.includes(text)) {
          reply({ ok: false, error: { code: 'media_unknown', message: 'sent again' } });
        } else {
          reply({ ok: true, verdict: 'allow', findings: [] });
        }
      },
    },
  };
  let resent = 0;
  window.TweetGuardAttachments = {
    mediaFor: async () => ({ perPost: [], labels: [] }),
    resendUnknown: async (_gathered, replies) => {
      const forgotten = replies.some((r) => r && r.error && r.error.code === 'media_unknown');
      if (forgotten) resent += 1;
      return forgotten;
    },
    noteResults() {},
    signature: () => '[]',
  };
  window.eval(DOM_JS);
  window.eval(CHECKER_JS);
  const [composer] = window.TweetGuardDom.composers();
  return { checker: window.TweetGuardChecker, composer, asked, resent: () => resent };
}

test('after a forgotten photo only the post the helper could not check is asked again', async () => {
  const { checker, composer, asked, resent } = setUp(['Second post']);
  const check = await checker.checkComposer(composer, { action: 'post' });
  assert.equal(resent(), 1);
  assert.deepEqual(asked, ['First post', 'Second post', 'Second post']);
  assert.equal(check.failed, null);
  assert.equal(check.verdict, 'allow');
  assert.equal(check.replies.length, 2);
});

test('a check the helper answered at once is asked once', async () => {
  // The trap: no forgotten photo, no second question.
  const { checker, composer, asked, resent } = setUp([]);
  const check = await checker.checkComposer(composer, { action: 'post' });
  assert.equal(resent(), 0);
  assert.deepEqual(asked, ['First post', 'Second post']);
  assert.equal(check.verdict, 'allow');
});
