"""Registering the helper with browsers, so `chrome.runtime.connectNative` finds it.

browsers.py: where each browser reads host manifests, per OS and scope (data).
launcher.py: the per-manifest launcher script. record.py: what an install wrote.
windows.py: registry keys, views and .reg files. ids.py: extension id checks.
hosts.py: planning, writing and removing an install from those pieces.
"""
