"""Generates every enterprise policy template from native-messaging/policies/source.toml.

Usage: python packaging/policies.py [--source FILE] [--out DIR] [--extension-id ID]
                                    [--update-url URL] [--xpi-url URL] [--check]

The templates differ per browser and OS only in vocabulary and file format, so they
are made from one statement of what the school wants (source.toml) and the tables
below of what each browser calls it. Hand-kept copies drifted apart before (Edge's
own names, a .reg without the allowlist); generated ones cannot.

Writes, into --out (default: native-messaging/policies/, where they are committed):
  chrome-linux-managed.json   Chrome, Chromium, Brave on Linux (policies/managed/)
  edge-linux-managed.json     Edge on Linux (/etc/opt/edge/policies/managed/)
  windows-chrome-edge.reg     Chrome and Edge on Windows (HKLM\\SOFTWARE\\Policies)
  macos-tweetguard.mobileconfig  Chrome, Edge, Firefox and the extension's settings
  firefox-policies.json       Firefox anywhere (policies.json)

--check writes nothing and exits 1 naming every file that differs from what the
source gives (tests/test_policy_templates.py runs the same comparison).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import plistlib
import re
import sys
import tomllib
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "native-messaging" / "policies" / "source.toml"
OUT = ROOT / "native-messaging" / "policies"
SCHEMA = ROOT / "extension" / "managed_schema.json"

CHROME_LINUX = "chrome-linux-managed.json"
EDGE_LINUX = "edge-linux-managed.json"
WINDOWS_REG = "windows-chrome-edge.reg"
MACOS = "macos-tweetguard.mobileconfig"
FIREFOX = "firefox-policies.json"
FILES = (CHROME_LINUX, EDGE_LINUX, WINDOWS_REG, MACOS, FIREFOX)

CHROME_ID = re.compile(r"[a-p]{32}")
# A fixed namespace, so a profile's payload UUIDs stay the same from run to run
# (macOS replaces a profile by its identifier and UUID; random ones would churn).
UUID_NAMESPACE = uuid.UUID("5b0c36f8-39a4-4a58-9a6b-0d7c1f6f2b11")

# Each browser's own names for the same lock-down (README's table, as data).
NAMES: dict[str, dict[str, str]] = {
    "chrome": {
        "private_windows": "IncognitoModeAvailability",
        "guest_windows": "BrowserGuestModeEnabled",
        "extra_profiles": "BrowserAddPersonEnabled",
        "pin_field": "toolbar_pin",
        "pin_value": "force_pinned",
    },
    "edge": {
        "private_windows": "InPrivateModeAvailability",
        "guest_windows": "BrowserGuestModeEnabled",
        "extra_profiles": "BrowserAddProfileEnabled",
        "pin_field": "toolbar_state",
        "pin_value": "force_shown",
    },
}
DEVELOPER_TOOLS = {"on": 0, "not-on-extensions": 1, "off": 2}


def load(path: Path, name: str) -> ModuleType:
    """A module from a file outside any package (extension/build.py, identity.py without
    an install). The one loader of packaging/ and its tests: registered in sys.modules
    under `name`, as an import would be, so its dataclasses and pickling work."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def identity() -> ModuleType:
    """tweetguard.identity, read from the source tree (no install needed)."""
    return load(ROOT / "helper" / "tweetguard" / "identity.py", "tweetguard_identity_for_policies")


def extension_build() -> ModuleType:
    """extension/build.py, which knows the extension's id and packs it."""
    return load(ROOT / "extension" / "build.py", "tweetguard_extension_build")


def built_extension_id() -> str:
    """The id the built extension has: from extension/manifest.json's key, as build.py does."""
    return str(extension_build().manifest_extension_id(ROOT / "extension"))


def check_managed(managed: dict[str, Any], schema: dict[str, Any]) -> None:
    """Refuses settings the extension would drop: Chrome validates managed storage
    against the schema and silently ignores a policy that does not fit it."""
    properties: dict[str, Any] = schema["properties"]
    kinds: dict[str, tuple[type, ...]] = {
        "string": (str,),
        "boolean": (bool,),
        "number": (int, float),
        "integer": (int,),
    }
    for key, value in managed.items():
        if key not in properties:
            raise ValueError(
                f"[managed] {key} is not in extension/managed_schema.json; "
                f"use one of {', '.join(properties)}"
            )
        kind = properties[key]["type"]
        if not isinstance(value, kinds[kind]) or (kind != "boolean" and isinstance(value, bool)):
            raise ValueError(
                f"[managed] {key} must be a {kind} (managed_schema.json); fix source.toml"
            )


def _native_messaging(source: dict[str, Any], host: str) -> dict[str, Any]:
    nm = source["native_messaging"]
    policy: dict[str, Any] = {}
    if nm["allow_only_tweetguard"]:
        policy["NativeMessagingAllowlist"] = [host, *nm["also_allow"]]
        policy["NativeMessagingBlocklist"] = ["*"]
    policy["NativeMessagingUserLevelHosts"] = bool(nm["user_level_hosts"])
    return policy


def chromium_family(
    browser: str, source: dict[str, Any], extension_id: str, host: str
) -> dict[str, Any]:
    """Chrome's (and Chromium's, Brave's) or Edge's policy, as a dict of policy names."""
    names = NAMES[browser]
    ext, lock = source["extension"], source["lockdown"]
    settings: dict[str, Any] = {
        "installation_mode": "force_installed" if ext["force_install"] else "normal_installed",
        "update_url": ext["update_url"],
    }
    if ext["pin"]:
        settings[names["pin_field"]] = names["pin_value"]
    policy: dict[str, Any] = {"ExtensionSettings": {extension_id: settings}}
    policy.update(_native_messaging(source, host))
    if not lock["private_windows"]:
        policy[names["private_windows"]] = 1
    if not lock["guest_windows"]:
        policy[names["guest_windows"]] = False
    if not lock["extra_profiles"]:
        policy[names["extra_profiles"]] = False
    policy["DeveloperToolsAvailability"] = DEVELOPER_TOOLS[lock["developer_tools"]]
    if not lock["developer_mode"]:
        # Chrome/Edge 128+: no developer mode on the extensions page, so no unpacked
        # copy can be loaded beside the forced one (level 1 above no longer governs it).
        policy["ExtensionDeveloperModeSettings"] = 1
    return policy


def third_party(extension_id: str, managed: dict[str, Any]) -> dict[str, Any]:
    """Chromium's managed storage for one extension, as its JSON policy files take it."""
    return {"3rdparty": {"extensions": {extension_id: dict(managed)}}}


def firefox(source: dict[str, Any], addon_id: str) -> dict[str, Any]:
    """Firefox's policies.json. Firefox has no native-messaging allowlist or
    user-level-host policy: its hosts are found only where install-host writes them."""
    ext, lock = source["extension"], source["lockdown"]
    settings: dict[str, Any] = {
        "installation_mode": "force_installed" if ext["force_install"] else "normal_installed",
        "install_url": ext["xpi_url"],
        "private_browsing": bool(ext["private_browsing"]),
    }
    if ext["pin"]:
        settings["default_area"] = "navbar"
    policies: dict[str, Any] = {"ExtensionSettings": {addon_id: settings}}
    if not lock["private_windows"]:
        # PrivateBrowsingModeAvailability is Firefox 130+/ESR 128.3+; older read the other.
        policies["DisablePrivateBrowsing"] = True
        policies["PrivateBrowsingModeAvailability"] = 1
    if not lock["extra_profiles"]:
        policies["BlockAboutProfiles"] = True
    if lock["developer_tools"] != "on" or not lock["developer_mode"]:
        # No "not on force-installed add-ons" level: tools (and about:debugging, from
        # where a temporary add-on is loaded) go altogether.
        policies["DisableDeveloperTools"] = True
    policies["3rdparty"] = {"Extensions": {addon_id: dict(source["managed"])}}
    return {"policies": policies}


def _json(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


def _reg_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _reg_value(value: Any) -> str:
    if isinstance(value, bool):
        return f"dword:{int(value):08x}"
    if isinstance(value, int):
        return f"dword:{value:08x}"
    if isinstance(value, str):
        return _reg_string(value)
    # Dictionary policies (ExtensionSettings) are one REG_SZ of JSON on Windows.
    return _reg_string(json.dumps(value, separators=(",", ":")))


def windows_reg(
    policies: dict[str, dict[str, Any]], extension_id: str, managed: dict[str, Any]
) -> bytes:
    """A .reg file regedit and `reg import` read: ASCII (every value here is ASCII,
    which regedit reads like its own UTF-16 output), CRLF line ends, HKLM only."""
    lines = [
        "Windows Registry Editor Version 5.00",
        "",
        "; Generated by packaging/policies.py from native-messaging/policies/source.toml:",
        "; edit that file, not this one. Force-installs and pins tweetguard in Chrome and",
        "; Edge, allows only its native host, pushes its managed settings and closes the",
        "; ways around it (see native-messaging/README.md). Replace the update URL first,",
        "; then, as administrator: reg import windows-chrome-edge.reg",
        "; List policies use value names 1, 2, ...: if the school already sets",
        "; NativeMessagingAllowlist, merge by hand rather than overwrite its entry 1.",
        "; Register the host itself with: tweetguard install-host --system",
    ]
    for root, policy in policies.items():
        base = f"HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\{root}"
        scalars = {k: v for k, v in policy.items() if not isinstance(v, list)}
        lines += ["", f"[{base}]"]
        lines += [f'"{name}"={_reg_value(value)}' for name, value in scalars.items()]
        for name, value in policy.items():
            if isinstance(value, list):
                lines += ["", f"[{base}\\{name}]"]
                lines += [f'"{i}"={_reg_string(item)}' for i, item in enumerate(value, start=1)]
        lines += ["", f"[{base}\\3rdparty\\extensions\\{extension_id}\\policy]"]
        lines += [f'"{name}"={_reg_value(value)}' for name, value in managed.items()]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def _payload(kind: str, name: str, content: dict[str, Any], extension_id: str) -> dict[str, Any]:
    identifier = f"org.tweetguard.policies.{kind}"
    return {
        "PayloadDisplayName": name,
        "PayloadIdentifier": identifier,
        "PayloadType": kind,
        "PayloadUUID": str(uuid.uuid5(UUID_NAMESPACE, f"{identifier}/{extension_id}")).upper(),
        "PayloadVersion": 1,
        "PayloadEnabled": True,
        **content,
    }


def mobileconfig(
    chrome: dict[str, Any],
    edge: dict[str, Any],
    firefox_policies: dict[str, Any],
    extension_id: str,
    managed: dict[str, Any],
) -> bytes:
    """A macOS configuration profile: one payload per preference domain. Chrome and
    Edge read an extension's managed storage from <bundle id>.extensions.<id>;
    Firefox reads its policies from org.mozilla.firefox once EnterprisePoliciesEnabled."""
    payloads = [
        _payload("com.google.Chrome", "Google Chrome: tweetguard", chrome, extension_id),
        _payload(
            f"com.google.Chrome.extensions.{extension_id}",
            "Google Chrome: tweetguard settings",
            managed,
            extension_id,
        ),
        _payload("com.microsoft.Edge", "Microsoft Edge: tweetguard", edge, extension_id),
        _payload(
            f"com.microsoft.Edge.extensions.{extension_id}",
            "Microsoft Edge: tweetguard settings",
            managed,
            extension_id,
        ),
        _payload(
            "org.mozilla.firefox",
            "Firefox: tweetguard",
            {"EnterprisePoliciesEnabled": True, **firefox_policies["policies"]},
            extension_id,
        ),
    ]
    profile = {
        "PayloadContent": payloads,
        "PayloadDescription": (
            "Generated by packaging/policies.py from native-messaging/policies/source.toml. "
            "Force-installs tweetguard, allows only its native host and closes the ways "
            "around it. Install with your MDM, or: sudo profiles install -path FILE "
            "(older macOS) / double-click, then System Settings > Profiles."
        ),
        "PayloadDisplayName": "tweetguard browser policies",
        "PayloadIdentifier": "org.tweetguard.policies",
        "PayloadOrganization": "tweetguard",
        "PayloadRemovalDisallowed": True,
        "PayloadScope": "System",
        "PayloadType": "Configuration",
        "PayloadUUID": str(
            uuid.uuid5(UUID_NAMESPACE, f"org.tweetguard.policies/{extension_id}")
        ).upper(),
        "PayloadVersion": 1,
    }
    return plistlib.dumps(profile, sort_keys=True)


def generate(
    source: dict[str, Any],
    *,
    extension_id: str,
    update_url: str | None = None,
    xpi_url: str | None = None,
) -> dict[str, bytes]:
    """Every template's bytes, by file name."""
    if not CHROME_ID.fullmatch(extension_id):
        raise ValueError(f"{extension_id!r} is not a Chromium extension id (32 letters a-p)")
    source = {section: dict(values) for section, values in source.items()}
    if update_url:
        source["extension"]["update_url"] = update_url
    if xpi_url:
        source["extension"]["xpi_url"] = xpi_url
    for url in (source["extension"]["update_url"], source["extension"]["xpi_url"]):
        if not url.startswith("https://"):
            raise ValueError(
                f"{url} must be https://: every machine installs the extension from it, "
                "and plain http can be altered on the way"
            )
    ids = identity()
    managed: dict[str, Any] = source["managed"]
    check_managed(managed, json.loads(SCHEMA.read_text(encoding="utf-8")))
    chrome = chromium_family("chrome", source, extension_id, ids.HOST_NAME)
    edge = chromium_family("edge", source, extension_id, ids.HOST_NAME)
    ff = firefox(source, ids.FIREFOX_ADDON_ID)
    return {
        CHROME_LINUX: _json({**chrome, **third_party(extension_id, managed)}),
        EDGE_LINUX: _json({**edge, **third_party(extension_id, managed)}),
        WINDOWS_REG: windows_reg(
            {"Google\\Chrome": chrome, "Microsoft\\Edge": edge}, extension_id, managed
        ),
        MACOS: mobileconfig(chrome, edge, ff, extension_id, managed),
        FIREFOX: _json(ff),
    }


def read_source(path: Path = SOURCE) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def differences(generated: dict[str, bytes], folder: Path) -> list[str]:
    """Names of the files in `folder` that are missing or differ from `generated`."""
    return [
        name
        for name, data in generated.items()
        if not (folder / name).is_file() or (folder / name).read_bytes() != data
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--extension-id", help="default: the built extension's id")
    parser.add_argument("--update-url", help="the update manifest (updates.xml) URL")
    parser.add_argument("--xpi-url", help="where Firefox fetches the .xpi")
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args(argv)
    try:
        generated = generate(
            read_source(args.source),
            extension_id=args.extension_id or built_extension_id(),
            update_url=args.update_url,
            xpi_url=args.xpi_url,
        )
    except (ValueError, KeyError, OSError, tomllib.TOMLDecodeError) as error:
        print(f"policies.py: {error}", file=sys.stderr)
        return 2
    if args.check:
        stale = differences(generated, args.out)
        for name in stale:
            print(f"{args.out / name} is stale; regenerate: python packaging/policies.py")
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in generated.items():
        (args.out / name).write_bytes(data)
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
