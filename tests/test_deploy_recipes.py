"""The IT recipes docs/deploy.md hands out, tried as far as this Linux machine allows.

- native-messaging/macos/install.sh runs for real with --root (a fake Mac under a
  temp folder) and an interpreter that already has tweetguard: every browser's
  system manifest lands where install/browsers.py says macOS browsers read it,
  each launcher names the Mac's paths, and --uninstall takes away everything it
  wrote outside the school's data folder, leaving a stranger's manifest alone.
- native-messaging/windows/install.ps1 cannot run here (no PowerShell; it is not a
  Debian package): it is parsed with tree-sitter's PowerShell grammar, its
  variables are checked to be defined, and what it asks tweetguard to do is read.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from tests.conftest import ROOT
from tweetguard.install import browsers

MAC_SCRIPT = ROOT / "native-messaging" / "macos" / "install.sh"
WINDOWS_SCRIPT = ROOT / "native-messaging" / "windows" / "install.ps1"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
MAC_DATA = "/Library/Application Support/tweetguard"
MAC_PREFIX = "/usr/local/tweetguard"
ALL = list(browsers.BROWSERS)


def mac(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(MAC_SCRIPT), "--root", str(root), "--use-python", sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"},
    )


def browser_args(names: list[str]) -> list[str]:
    return [arg for name in names for arg in ("--browser", name)]


def files_under(root: Path) -> set[str]:
    return {"/" + str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir()}


def mac_system_manifest(browser: str) -> PurePosixPath:
    """Where install/browsers.py says that browser reads a Mac's system-wide manifest."""
    found = [m for s, m in browsers.manifest_locations(browser, platform="macos") if s == "system"]
    return PurePosixPath(found[0])


def test_mac_install_writes_every_browser_where_macos_reads_it(tmp_path: Path) -> None:
    result = mac(tmp_path, *browser_args(ALL))
    assert result.returncode == 0, result.stderr
    for browser in ALL:
        manifest_path = mac_system_manifest(browser)
        assert str(manifest_path).startswith("/Library/"), manifest_path
        manifest = json.loads((tmp_path / manifest_path.relative_to("/")).read_text())
        launcher = PurePosixPath(manifest["path"])
        # The content names the Mac's own paths, never the fake root's.
        assert launcher.is_relative_to(MAC_DATA), launcher
        text = (tmp_path / launcher.relative_to("/")).read_text()
        assert f"{MAC_PREFIX}/bin/python" in text
        assert MAC_DATA in text
        assert str(tmp_path) not in text + json.dumps(manifest)
    # Brave reads Chrome's folder on macOS: one manifest serves both.
    assert mac_system_manifest("brave") == mac_system_manifest("chrome")
    wrapper = (tmp_path / "usr/local/bin/tweetguard").read_text()
    assert f"TWEETGUARD_HOME:-{MAC_DATA}" in wrapper
    assert f"exec '{MAC_PREFIX}/bin/tweetguard'" in wrapper
    assert "macos-tweetguard.mobileconfig" in result.stdout  # the next step, said


def test_mac_uninstall_leaves_only_the_schools_data_and_a_strangers_file(tmp_path: Path) -> None:
    # Trap: a manifest another product put in a folder tweetguard also writes to.
    stranger = tmp_path / "Library/Google/Chrome/NativeMessagingHosts/com.example.other.json"
    stranger.parent.mkdir(parents=True)
    stranger.write_text('{"name": "com.example.other"}\n')
    before = files_under(tmp_path)
    assert mac(tmp_path, *browser_args(ALL)).returncode == 0
    result = mac(tmp_path, "--uninstall", *browser_args(ALL))
    assert result.returncode == 0, result.stderr
    assert stranger.read_text() == '{"name": "com.example.other"}\n'
    left = {f for f in files_under(tmp_path) - before if not f.startswith(MAC_DATA + "/logs/")}
    assert left == set(), left
    assert "is kept" in result.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--browser", "chrome; rm -rf /"], "has characters no browser or id has"),
        (["--frobnicate"], "unknown option '--frobnicate'"),
        (["--data"], "--data needs a value"),
    ],
)
def test_mac_refuses_bad_options_in_one_line(tmp_path: Path, args: list[str], says: str) -> None:
    result = mac(tmp_path, *args)
    assert result.returncode == 64
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert files_under(tmp_path) == set()


def test_mac_root_without_an_interpreter_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        ["sh", str(MAC_SCRIPT), "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 64
    assert "--root needs --use-python" in result.stderr


# --- Windows -------------------------------------------------------------------------

AUTOMATIC = {"true", "false", "null", "LASTEXITCODE", "PSScriptRoot", "_", "ErrorActionPreference"}


def parse_powershell(source: bytes) -> object:
    try:
        import tree_sitter
        import tree_sitter_powershell as grammar
    except ImportError as exc:  # pyproject's [dev] extra brings both
        if os.environ.get("CI"):
            raise
        pytest.skip(f"{exc.name} is not installed (pip install -e '.[dev]')")
    parser = tree_sitter.Parser(tree_sitter.Language(grammar.language()))
    return parser.parse(source)


def problems(source: bytes) -> list[str]:
    """Syntax errors, and the mistakes PowerShell only finds when it runs: a variable
    used but never set (a typo) and "$name:" in a string (PowerShell reads a drive
    or scope there and stops)."""
    tree = parse_powershell(source)
    found: list[str] = []
    assigned: set[str] = set(AUTOMATIC)
    used: list[tuple[str, int]] = []

    def walk(node: object) -> None:
        kind = node.type  # type: ignore[attr-defined]
        line = node.start_point[0] + 1  # type: ignore[attr-defined]
        if kind == "ERROR" or node.is_missing:  # type: ignore[attr-defined]
            found.append(f"line {line}: syntax error")
        if kind == "variable":
            text = node.text.decode()  # type: ignore[attr-defined]
            name = text.lstrip("$@").strip("{}")
            if ":" not in name:
                used.append((name.lower(), line))
        for child in node.children:  # type: ignore[attr-defined]
            walk(child)

    walk(tree.root_node)  # type: ignore[attr-defined]
    text = source.decode("utf-8")
    for match in re.finditer(r"\$\{?(\w+)\}?\s*=(?!=)", text):
        assigned.add(match.group(1).lower())
    for match in re.finditer(r"\[(?:string|switch|string\[\])\]\$(\w+)", text):
        assigned.add(match.group(1).lower())
    for match in re.finditer(r"foreach\s*\(\s*\$(\w+)\s+in", text):
        assigned.add(match.group(1).lower())
    for name, line in used:
        if name not in {a.lower() for a in assigned}:
            found.append(f"line {line}: ${name} is never set")
    for number, line_text in enumerate(text.splitlines(), 1):
        for string in re.findall(r'"(?:[^"`]|`.)*"', line_text):
            if re.search(r"\$(?!env:)\w+:(?!\w)", string):
                found.append(f"line {number}: a variable followed by ':' in {string}")
    return found


def test_windows_recipe_parses_and_every_variable_is_set() -> None:
    assert problems(WINDOWS_SCRIPT.read_bytes()) == []


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (lambda s: s.replace("if ($Uninstall) {", "if ($Uninstall) ", 1), "syntax error"),
        (
            lambda s: s.replace(
                "Remove-Item -LiteralPath $Prefix", "Remove-Item -LiteralPath $Prefx", 1
            ),
            "$prefx is never set",
        ),
        (lambda s: s.replace("${Wheels}:", "$Wheels:", 1), "followed by ':'"),
        (
            lambda s: s.replace("& reg.exe import $Policies", "& reg.exe import $Policy", 1),
            "$policy is never set",
        ),
    ],
)
def test_trap_the_windows_checks_find_what_they_look_for(break_it, expected: str) -> None:
    broken = break_it(WINDOWS_SCRIPT.read_text(encoding="utf-8"))
    assert broken != WINDOWS_SCRIPT.read_text(encoding="utf-8")
    assert any(expected in p for p in problems(broken.encode())), problems(broken.encode())


def test_windows_recipe_asks_tweetguard_for_the_system_install_and_its_removal() -> None:
    text = WINDOWS_SCRIPT.read_text(encoding="utf-8")
    assert '@("install-host", "--system")' in text
    assert '@("uninstall-host", "--system")' in text
    assert '"--export-reg", $ExportReg' in text
    assert "IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)" in text
    assert "--no-index" in text  # offline, from the wheels IT brings
    assert "windows-chrome-edge.reg" in text
    # Only well-known SIDs: a group's name differs with the language of Windows.
    assert not re.search(r"icacls[^\n]*\b(Users|Administrators|SYSTEM):", text)


def test_windows_recipe_imports_only_the_schools_built_policies() -> None:
    """-Policies FILE is the .reg ./build.sh package made for the school's id and update
    server; the committed template (built-in id, placeholder server) is never reached
    for, and a file still saying REPLACE-WITH is refused before anything is installed."""
    text = WINDOWS_SCRIPT.read_text(encoding="utf-8")
    assert '[string]$Policies = ""' in text
    assert "ImportPolicies" not in text
    assert "PSScriptRoot" not in text  # nothing taken from beside the script
    assert "& reg.exe import $Policies" in text
    refusal = text.index('Select-String -LiteralPath $Policies -SimpleMatch "REPLACE-WITH" -Quiet')
    assert refusal < text.index("& $Python -m venv $Prefix") < text.index("& reg.exe import")
    assert "dist/packages/policies/" in text[refusal : text.index("\n}", refusal)]


def test_trap_the_refusal_tells_the_template_from_a_schools_build(tmp_path: Path) -> None:
    """The committed template has the marker the recipe refuses; a school's build has not."""
    template = ROOT / "native-messaging" / "policies" / "windows-chrome-edge.reg"
    assert b"REPLACE-WITH" in template.read_bytes()
    out = tmp_path / "policies"
    made = subprocess.run(
        [
            sys.executable,
            ROOT / "packaging" / "policies.py",
            "--update-url",
            "https://deploy.larkspur-academy.example/tg/updates.xml",
            "--xpi-url",
            "https://deploy.larkspur-academy.example/tg/tweetguard.xpi",
            "--out",
            out,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    built = (out / "windows-chrome-edge.reg").read_bytes()
    assert b"REPLACE-WITH" not in built
    assert b"deploy.larkspur-academy.example" in built


def test_deploy_doc_names_what_the_recipes_really_use() -> None:
    doc = DEPLOY_DOC.read_text(encoding="utf-8")
    for needle in (
        "native-messaging/windows/install.ps1",
        "native-messaging/macos/install.sh",
        "macos-tweetguard.mobileconfig",
        "windows-chrome-edge.reg",
        MAC_DATA,
        MAC_PREFIX,
        r"C:\ProgramData\tweetguard",
        "docs/doctor.md",
        "native-messaging/README.md",
        "docs/server.md",
        "-Policies FILE",
        "/usr/share/doc/tweetguard/doctor.md",
    ):
        assert needle in doc, needle
    assert "ImportPolicies" not in doc  # the switch that imported the placeholder template
    linux = doc[doc.index("## Linux") :]
    assert linux.splitlines()[2] == (
        "Build the .deb on the same release as the school machines; its Depends names the "
        "Python it was built for."
    )


def test_deploy_doc_explains_every_line_the_popup_can_show() -> None:
    """The popup's broken-link lines (extension/src/popup/status.js) are the ones the
    doc's "When something is wrong" table explains, word for word."""
    status = (ROOT / "extension" / "src" / "popup" / "status.js").read_text(encoding="utf-8")
    block = status[status.index("const HELPER_PROBLEMS = {") :]
    block = block[: block.index("};")]
    lines = re.findall(r"^\s+(\w+): `([^`$]+?)\. \$\{ASK_IT\}`", block, re.MULTILINE)
    lines += re.findall(r"^\s+(\w+): `([^`$]+?)\. Try again", block, re.MULTILINE)
    kinds = {kind for kind, _ in lines}
    assert {"not_installed", "refused", "crashed", "no_answer"} <= kinds, lines
    doc = DEPLOY_DOC.read_text(encoding="utf-8")
    for kind, text in lines:
        if kind != "unknown":
            assert f"| {text} |" in doc, (kind, text)
