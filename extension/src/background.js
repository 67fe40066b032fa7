// The extension's service worker: the only place that talks to the helper.
import { HelperClient } from './helper-client.js';

const helper = new HelperClient(chrome.runtime);

// Content scripts ask with {kind: 'tweetguard:ask', request: {type, ...}}.
chrome.runtime.onMessage.addListener((message, _sender, sendResponse) => {
  if (!message || message.kind !== 'tweetguard:ask' || !message.request) return false;
  helper.request(message.request).then(sendResponse);
  return true; // answer asynchronously
});
