// Signing the browser out of X: everything X keeps on the machine, for every
// host X answers on, so the next person at a shared computer meets a login page.

export const X_ORIGINS = Object.freeze([
  'https://x.com',
  'https://twitter.com',
  'https://mobile.x.com',
  'https://mobile.twitter.com',
  'https://pro.x.com',
  'https://tweetdeck.twitter.com',
]);

const DATA = Object.freeze({
  cookies: true,
  localStorage: true,
  indexedDB: true,
  cacheStorage: true,
  serviceWorkers: true,
  fileSystems: true,
});

function isFirefox(runtime) {
  return runtime.getURL('').startsWith('moz-extension:');
}

/** Clears X's cookies and storage; resolves when the browser says it is done. */
export async function clearXData(browsingData, runtime) {
  if (isFirefox(runtime)) {
    // Firefox filters by hostname, and clears a narrower set of data types that way.
    const hostnames = X_ORIGINS.map((o) => new URL(o).hostname);
    await browsingData.remove({ hostnames }, { cookies: true, localStorage: true, indexedDB: true, serviceWorkers: true });
    return;
  }
  await browsingData.remove({ origins: [...X_ORIGINS] }, { ...DATA });
}
