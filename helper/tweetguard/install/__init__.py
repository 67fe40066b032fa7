"""Registering the helper with browsers, so `chrome.runtime.connectNative` finds it."""
