// The helper's progress while it matches faces, passed from the service worker to
// the page that asked (docs/protocol.md: progress frames). A class photo takes
// seconds; its card says "Checking faces 3 of 30…" meanwhile. Progress is only
// news: a tab that has gone, or never listens, costs nothing.

export const PROGRESS_KIND = 'tweetguard:media-progress';

/** A function that tells the tab (and frame) behind `sender` how far the helper
 * is with `sha256`: `{kind, sha256, done, total}`. Null without a tab to tell. */
export function progressToTab(tabs, sender, sha256) {
  const tabId = sender && sender.tab && sender.tab.id;
  if (tabId === undefined || tabId === null) return null;
  const options = typeof sender.frameId === 'number' ? { frameId: sender.frameId } : {};
  return ({ done, total }) => {
    let sent;
    try {
      sent = tabs.sendMessage(tabId, { kind: PROGRESS_KIND, sha256, done, total }, options);
    } catch {
      return; // the tab is gone
    }
    if (sent && typeof sent.catch === 'function') sent.catch(() => {});
  };
}
