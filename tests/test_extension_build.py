"""The extension package for each browser: complete, and Firefox-shaped for Firefox."""

from __future__ import annotations

import json
import re
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tweetguard import identity

sys.path.insert(0, str(ROOT / "extension"))
import build as extension_build

sys.path.pop(0)


def referenced_files(manifest: dict) -> list[str]:
    files = [s for cs in manifest["content_scripts"] for s in cs["js"]]
    background = manifest["background"]
    files += [*background.get("scripts", []), background.get("service_worker", "")]
    files.append(manifest["action"]["default_popup"])
    return [f for f in files if f]


@pytest.mark.parametrize("target", extension_build.TARGETS)
def test_every_file_the_manifest_names_is_shipped(tmp_path: Path, target: str) -> None:
    out = extension_build.build(tmp_path / target, target)
    manifest = json.loads((out / "manifest.json").read_text())
    for name in referenced_files(manifest):
        assert (out / name).is_file(), name
    # ES module imports inside the package resolve too.
    for script in (out / "src").rglob("*.js"):
        for target_name in re.findall(r"from '(\.[^']+)'", script.read_text()):
            assert (script.parent / target_name).resolve().is_file(), (script, target_name)
    assert not (out / "build.py").exists() and not (out / "test").exists()


def test_firefox_manifest(tmp_path: Path) -> None:
    out = extension_build.build(tmp_path / "ff", "firefox")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["browser_specific_settings"]["gecko"]["id"] == identity.FIREFOX_ADDON_ID
    assert manifest["background"] == {"scripts": ["src/background.js"], "type": "module"}
    assert "key" not in manifest and "storage" not in manifest
    assert extension_build.FIREFOX_ADDON_ID == identity.FIREFOX_ADDON_ID


def test_chromium_manifest_points_at_the_managed_schema(tmp_path: Path) -> None:
    out = extension_build.build(tmp_path / "cr", "chromium")
    manifest = json.loads((out / "manifest.json").read_text())
    schema = json.loads((out / manifest["storage"]["managed_schema"]).read_text())
    settings_js = (ROOT / "extension/src/settings.js").read_text()
    # Every managed setting the schema offers is one the extension reads.
    for key in schema["properties"]:
        assert re.search(rf"\b{key}\b", settings_js), key


def test_zip_holds_the_unpacked_tree(tmp_path: Path) -> None:
    out = extension_build.build(tmp_path / "cr")
    archive = extension_build.make_zip(out, tmp_path / "x.zip")
    names = set(zipfile.ZipFile(archive).namelist())
    assert "manifest.json" in names and "src/content/guard.js" in names
