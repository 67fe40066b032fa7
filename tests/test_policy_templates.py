"""The enterprise policy templates IT copies (native-messaging/policies/) are exactly what
packaging/policies.py makes from source.toml, name the extension the build makes and the
helper's host, carry the extension's managed settings as its schema describes them, and
lock the browser down enough that tweetguard cannot be stepped around."""

from __future__ import annotations

import importlib
import json
import plistlib
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tweetguard import identity

POLICIES = ROOT / "native-messaging" / "policies"
UPDATE_URL = "https://REPLACE-WITH-YOUR-UPDATE-SERVER/tweetguard/updates.xml"
XPI_URL = "https://REPLACE-WITH-YOUR-UPDATE-SERVER/tweetguard/tweetguard.xpi"
SCHEMA = json.loads((ROOT / "extension" / "managed_schema.json").read_text())


# packaging/'s scripts import each other as siblings, so the folder goes on the path.
if str(ROOT / "packaging") not in sys.path:
    sys.path.insert(0, str(ROOT / "packaging"))
policies = importlib.import_module("policies")
extension_build = policies.extension_build()


@pytest.fixture(scope="module")
def built_id(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The id of the extension extension/build.py makes (from the built manifest's key)."""
    out = extension_build.build(tmp_path_factory.mktemp("policy-ext") / "extension")
    built = extension_build.manifest_extension_id(out)
    assert built == identity.CHROME_EXTENSION_ID
    return str(built)


def read_reg(path: Path) -> dict[str, dict[str, str | int]]:
    """A .reg file as {key: {value name: str or dword}}; anything else fails."""
    raw = path.read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b""), "CRLF line ends"
    lines = raw.decode("ascii").split("\r\n")
    assert lines[0] == "Windows Registry Editor Version 5.00"
    keys: dict[str, dict[str, str | int]] = {}
    current: dict[str, str | int] | None = None
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip() or line.startswith(";"):
            continue
        if section := re.fullmatch(r"\[(HKEY_LOCAL_MACHINE\\[^\]]+)\]", line):
            assert section[1] not in keys, f"line {number}: {section[1]} twice"
            current = keys[section[1]] = {}
            continue
        value = re.fullmatch(r'"([^"]+)"=(?:"((?:[^"\\]|\\["\\])*)"|dword:([0-9a-f]{8}))', line)
        assert value and current is not None, f"line {number} is not a value: {line!r}"
        assert value[1] not in current, f"line {number}: {value[1]} twice"
        if value[2] is not None:
            current[value[1]] = re.sub(r"\\([\"\\])", r"\1", value[2])
        else:
            current[value[1]] = int(value[3], 16)
    return keys


def json_template(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((POLICIES / name).read_text())
    return result


def profile() -> dict[str, Any]:
    result: dict[str, Any] = plistlib.loads((POLICIES / policies.MACOS).read_bytes())
    return result


def payload(kind: str) -> dict[str, Any]:
    found = [p for p in profile()["PayloadContent"] if p["PayloadType"] == kind]
    assert len(found) == 1, kind
    return {k: v for k, v in found[0].items() if not k.startswith("Payload")}


def assert_matches_schema(managed: dict[str, Any], where: str) -> None:
    """Exactly the schema's keys, each of its type (Chrome drops a value that is not)."""
    properties = SCHEMA["properties"]
    assert sorted(managed) == sorted(properties), where
    for key, value in managed.items():
        kind = properties[key]["type"]
        expected = {"string": str, "boolean": bool, "number": int}[kind]
        assert isinstance(value, expected), (where, key, value)
        assert kind == "boolean" or not isinstance(value, bool), (where, key)


def test_every_template_is_checked_here() -> None:
    assert sorted(p.name for p in POLICIES.iterdir()) == sorted([*policies.FILES, "source.toml"])


def test_committed_templates_are_what_the_source_gives(built_id: str) -> None:
    generated = policies.generate(policies.read_source(), extension_id=built_id)
    stale = policies.differences(generated, POLICIES)
    assert stale == [], f"regenerate with: python packaging/policies.py ({stale})"


def test_a_changed_source_is_noticed(built_id: str, tmp_path: Path) -> None:
    source = policies.read_source()
    source["lockdown"]["guest_windows"] = True
    generated = policies.generate(source, extension_id=built_id)
    # Guest windows appear in every Chromium template; Firefox has none.
    assert sorted(policies.differences(generated, POLICIES)) == sorted(
        [policies.CHROME_LINUX, policies.EDGE_LINUX, policies.WINDOWS_REG, policies.MACOS]
    )


def test_check_command_says_which_file_is_stale(tmp_path: Path) -> None:
    out = tmp_path / "policies"
    script = [sys.executable, str(ROOT / "packaging" / "policies.py"), "--out", str(out)]
    assert subprocess.run(script, capture_output=True, check=False).returncode == 0
    fresh = subprocess.run([*script, "--check"], capture_output=True, text=True, check=False)
    assert (fresh.returncode, fresh.stdout) == (0, "")  # the trap: nothing stale, nothing said
    (out / policies.FIREFOX).write_text("{}")
    stale = subprocess.run([*script, "--check"], capture_output=True, text=True, check=False)
    assert stale.returncode == 1
    assert stale.stdout.splitlines() == [
        f"{out / policies.FIREFOX} is stale; regenerate: python packaging/policies.py"
    ]


def test_every_template_names_the_built_extension_and_the_host(
    built_id: str, tmp_path: Path
) -> None:
    firefox_build = extension_build.build(tmp_path / "firefox", "firefox")
    manifest = json.loads((firefox_build / "manifest.json").read_text())
    addon_id = manifest["browser_specific_settings"]["gecko"]["id"]
    for name in policies.FILES:
        text = (POLICIES / name).read_text(encoding="ascii" if name.endswith(".reg") else "utf-8")
        assert identity.HOST_NAME in text or name == policies.FIREFOX, name
        assert built_id in text or name == policies.FIREFOX, name
        assert addon_id in text or name not in (policies.FIREFOX, policies.MACOS), name


def test_schools_own_id_and_urls_go_everywhere(tmp_path: Path) -> None:
    school_id = "abcdefghijklmnopabcdefghijklmnop"
    generated = policies.generate(
        policies.read_source(),
        extension_id=school_id,
        update_url="https://updates.oakfield.example/tg/updates.xml",
        xpi_url="https://updates.oakfield.example/tg/tweetguard.xpi",
    )
    for name, data in generated.items():
        text = data.decode("ascii" if name.endswith(".reg") else "utf-8")
        assert identity.CHROME_EXTENSION_ID not in text, name
        assert "REPLACE-WITH-YOUR-UPDATE-SERVER" not in text, name
        assert (school_id in text) != (name == policies.FIREFOX), name


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"extension_id": "NOTANID"}, "'NOTANID' is not a Chromium extension id"),
        ({"update_url": "http://updates.example/u.xml"}, "must be https://"),
    ],
)
def test_bad_inputs_refused_in_one_line(change: dict[str, str], message: str) -> None:
    arguments = {"extension_id": identity.CHROME_EXTENSION_ID, **change}
    with pytest.raises(ValueError, match=re.escape(message)):
        policies.generate(policies.read_source(), **arguments)


@pytest.mark.parametrize(
    ("managed", "message"),
    [
        ({"supportContact": 7}, "[managed] supportContact must be a string"),
        ({"logoutOnLock": "yes"}, "[managed] logoutOnLock must be a boolean"),
        ({"idleLogoutMinutes": True}, "[managed] idleLogoutMinutes must be a number"),
        ({"helperNmae": "x"}, "[managed] helperNmae is not in extension/managed_schema.json"),
    ],
)
def test_managed_settings_the_extension_would_drop_are_refused(
    managed: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        policies.check_managed(managed, SCHEMA)
    # The trap: the source's own settings, and a float for a number, pass.
    policies.check_managed(policies.read_source()["managed"], SCHEMA)
    policies.check_managed({"idleLogoutMinutes": 7.5}, SCHEMA)


def test_managed_settings_match_the_schema_in_every_template(built_id: str) -> None:
    chrome = json_template(policies.CHROME_LINUX)["3rdparty"]["extensions"][built_id]
    edge = json_template(policies.EDGE_LINUX)["3rdparty"]["extensions"][built_id]
    firefox = json_template(policies.FIREFOX)["policies"]["3rdparty"]["Extensions"][
        identity.FIREFOX_ADDON_ID
    ]
    assert chrome == edge == firefox == policies.read_source()["managed"]
    for name, managed in (("chrome", chrome), ("edge", edge), ("firefox", firefox)):
        assert_matches_schema(managed, name)
    for kind in (
        f"com.google.Chrome.extensions.{built_id}",
        f"com.microsoft.Edge.extensions.{built_id}",
    ):
        assert payload(kind) == chrome
    keys = read_reg(POLICIES / policies.WINDOWS_REG)
    for vendor in ("Google\\Chrome", "Microsoft\\Edge"):
        values = keys[
            f"HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\{vendor}\\3rdparty\\extensions\\{built_id}\\policy"
        ]
        # Booleans and numbers are DWORDs in the registry; strings stay strings.
        as_json = {
            k: bool(v) if SCHEMA["properties"][k]["type"] == "boolean" else v
            for k, v in values.items()
        }
        assert as_json == chrome, vendor


def chromium_expected(built_id: str, edge: bool) -> dict[str, Any]:
    pin = ("toolbar_state", "force_shown") if edge else ("toolbar_pin", "force_pinned")
    return {
        "ExtensionSettings": {
            built_id: {
                "installation_mode": "force_installed",
                "update_url": UPDATE_URL,
                pin[0]: pin[1],
            }
        },
        "NativeMessagingAllowlist": [identity.HOST_NAME],
        "NativeMessagingBlocklist": ["*"],
        "NativeMessagingUserLevelHosts": False,
        # Edge names two of them its own way.
        "InPrivateModeAvailability" if edge else "IncognitoModeAvailability": 1,
        "BrowserGuestModeEnabled": False,
        "BrowserAddProfileEnabled" if edge else "BrowserAddPersonEnabled": False,
        # 1: developer tools stay, but never on force-installed extensions (README says why).
        "DeveloperToolsAvailability": 1,
        # No developer mode on the extensions page: no unpacked copy beside the forced one.
        "ExtensionDeveloperModeSettings": 1,
    }


@pytest.mark.parametrize("edge", [False, True], ids=["chrome", "edge"])
def test_linux_templates(built_id: str, edge: bool) -> None:
    policy = json_template(policies.EDGE_LINUX if edge else policies.CHROME_LINUX)
    assert {k: v for k, v in policy.items() if k != "3rdparty"} == chromium_expected(built_id, edge)


@pytest.mark.parametrize(("vendor", "edge"), [("Google\\Chrome", False), ("Microsoft\\Edge", True)])
def test_windows_template(built_id: str, vendor: str, edge: bool) -> None:
    keys = read_reg(POLICIES / policies.WINDOWS_REG)
    root = f"HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\{vendor}"
    expected = chromium_expected(built_id, edge)
    assert keys[f"{root}\\NativeMessagingAllowlist"] == {"1": identity.HOST_NAME}
    assert keys[f"{root}\\NativeMessagingBlocklist"] == {"1": "*"}
    values = dict(keys[root])
    # A dictionary policy is one string of JSON on Windows.
    assert json.loads(str(values.pop("ExtensionSettings"))) == expected.pop("ExtensionSettings")
    del expected["NativeMessagingAllowlist"], expected["NativeMessagingBlocklist"]
    assert values == {k: int(v) for k, v in expected.items()}


def test_windows_template_sets_nothing_else(built_id: str) -> None:
    keys = read_reg(POLICIES / policies.WINDOWS_REG)
    assert all(k.startswith("HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\") for k in keys)
    assert len(keys) == 8  # per vendor: policy, allowlist, blocklist, 3rdparty settings


def test_macos_profile(built_id: str) -> None:
    whole = profile()
    assert whole["PayloadType"] == "Configuration"
    assert whole["PayloadScope"] == "System"
    kinds = [p["PayloadType"] for p in whole["PayloadContent"]]
    assert kinds == [
        "com.google.Chrome",
        f"com.google.Chrome.extensions.{built_id}",
        "com.microsoft.Edge",
        f"com.microsoft.Edge.extensions.{built_id}",
        "org.mozilla.firefox",
    ]
    uuids = [whole["PayloadUUID"], *(p["PayloadUUID"] for p in whole["PayloadContent"])]
    assert len(set(uuids)) == len(uuids)
    assert all(re.fullmatch(r"[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}", u) for u in uuids)
    assert payload("com.google.Chrome") == chromium_expected(built_id, edge=False)
    assert payload("com.microsoft.Edge") == chromium_expected(built_id, edge=True)
    firefox = payload("org.mozilla.firefox")
    assert firefox.pop("EnterprisePoliciesEnabled") is True
    assert firefox == json_template(policies.FIREFOX)["policies"]


def test_firefox_template() -> None:
    policies_json = json_template(policies.FIREFOX)["policies"]
    assert policies_json["ExtensionSettings"] == {
        identity.FIREFOX_ADDON_ID: {
            "installation_mode": "force_installed",
            "install_url": XPI_URL,
            # Should private windows ever be allowed, tweetguard runs there too.
            "private_browsing": True,
            "default_area": "navbar",  # pinned to the toolbar
        }
    }
    # PrivateBrowsingModeAvailability is Firefox 130+/ESR 128.3+; older ones read the other.
    assert policies_json["PrivateBrowsingModeAvailability"] == 1
    assert policies_json["DisablePrivateBrowsing"] is True
    assert policies_json["BlockAboutProfiles"] is True  # no extra profiles
    # Firefox has no "not on force-installed add-ons" level: tools go altogether.
    assert policies_json["DisableDeveloperTools"] is True


def test_firefox_addon_id_matches_the_firefox_build(tmp_path: Path) -> None:
    out = extension_build.build(tmp_path / "firefox", "firefox")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["browser_specific_settings"]["gecko"]["id"] == identity.FIREFOX_ADDON_ID
