"""Each browser's host manifest, the launcher it names, the Python that launcher
runs, the ids it lets in, and the host answering `hello` as the browser starts it.

The manifests looked at are every one present where the browser reads them
(install/browsers.py's `manifest_locations`: per user, system-wide, Snap...) and
every one an install recorded (a `--user-data-dir` profile's too). The chain is
checked link by link, and a link is reported once, where it breaks: the hello of
a launcher that is missing is not tried, since `launcher.*` already said why.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tweetguard import identity
from tweetguard.doctor.launch import Answer, ask_hello, browser_argv
from tweetguard.doctor.model import Check, Context, Result, fail, ok, warn
from tweetguard.install.access import closed_to_others

if TYPE_CHECKING:
    from tweetguard.install.record import InstallRecord


@dataclass
class Manifest:
    """One manifest file and what the checks learnt about it, link by link."""

    browser: str
    scope: str
    path: Path
    recorded: bool  # an install-host record names it
    elsewhere: list[Path] | None = None  # recorded where the browser does not read: where it does
    data: dict[str, Any] | None = None
    launcher: Path | None = None
    launcher_ok: bool = False
    python_ok: bool = False
    allows_us: bool = False
    launcher_allows: list[str] = field(default_factory=list)
    # The ids install-host was asked to allow here (--extension-id YOUR_ID), which
    # doctor expects unless told others: [] when no install recorded any.
    installed_for: list[str] = field(default_factory=list)


def checks(ctx: Context) -> list[Check]:
    from tweetguard.install.browsers import (
        BROWSERS,
        installed_browsers,
        manifest_locations,
        packagings,
        platform_name,
    )
    from tweetguard.install.record import read_records

    found: list[Check] = []
    here = platform_name()  # a --platform install into a root is not this machine's
    try:
        records = [r for r in read_records(ctx.home) if r.platform == here]
    except (OSError, ValueError) as exc:
        records = []
        broken = _bad_record(exc)
        found.append(Check("install.record", "Install record", lambda c: broken))
    # What `sudo tweetguard install-host --system` recorded in the machine's own data
    # folder says which ids its manifests allow, also when doctor runs as a teacher
    # with a data folder of their own.
    asked = records + _system_records(ctx.home, here)
    located = {b: manifest_locations(b) for b in BROWSERS}
    if ctx.browsers is not None:
        wanted = list(ctx.browsers)
    else:
        present = {b for b, places in located.items() if any(p.exists() for _, p in places)}
        named = set(installed_browsers()) | {r.browser for r in records} | present
        wanted = [b for b in BROWSERS if b in named]
    if not wanted:
        found.append(Check("browser.none", "Browsers", _no_browser))
        return found
    used: set[str] = set()
    for browser in wanted:
        kinds = packagings(browser)
        for kind in ("snap", "flatpak"):
            if kind in kinds:
                found.append(_packaged(browser, kind, only=kinds == [kind]))
        if kinds == ["flatpak"]:
            continue  # nothing else can work: the line above says what to do
        manifests: dict[Path, Manifest] = {}
        for scope, path in located.get(browser, []):
            if scope != "flatpak" and path.exists():
                manifests[path] = Manifest(browser, scope, path, recorded=False)
                manifests[path].installed_for = _installed_for(asked, browser, path)
        for record in records:
            if record.browser != browser:
                continue
            known = manifests.get(record.manifest)
            if known is not None:
                known.recorded = True
            else:
                manifests[record.manifest] = Manifest(
                    browser,
                    record.scope,
                    record.manifest,
                    recorded=True,
                    installed_for=_installed_for(asked, browser, record.manifest),
                )
                if record.scope != "user-data-dir":  # a profile's own folder is read as is
                    manifests[record.manifest].elsewhere = [p for _, p in located[browser]]
        if not manifests:
            found.append(
                Check(f"manifest.{browser}", f"{_name(browser)} manifest", _missing(browser))
            )
            continue
        for manifest in manifests.values():
            found.extend(_chain(manifest, used))
    return found


def _packaged(browser: str, kind: str, *, only: bool) -> Check:
    """A Snap or Flatpak copy of the browser: what works there, and what to do."""
    from tweetguard.install.browsers import FLATPAK_NOTE, locations

    name = _name(browser)
    if kind == "flatpak":
        note = FLATPAK_NOTE.format(name=name)
        fix = f"install {name} from the distribution's packages or the vendor's .deb/.rpm"
        result = fail(note, fix) if only else warn(note, fix)
    elif browser == "firefox":
        result = warn(
            "Firefox is a Snap: it starts the helper through the desktop's WebExtensions "
            "portal (Ubuntu 22.04+, xdg-desktop-portal), from the ordinary ~/.mozilla and "
            "/usr/lib/mozilla manifests",
            "accept the portal's prompt the first time; if nothing asks, run "
            f"`flatpak permission-set webextensions {identity.HOST_NAME} snap.firefox yes`",
        )
    else:
        notes = [loc.note for loc in locations(browser, platform="linux") if loc.scope == kind]
        result = warn(
            notes[0] if notes else f"{name} is a Snap",
            f"if the popup says the helper cannot start, install {name} from a .deb",
        )
    return Check(f"browser.{browser}.{kind}", f"{name} ({kind})", lambda c: result)


def _chain(m: Manifest, used: set[str]) -> list[Check]:
    key = f"{m.browser}.{m.scope}"
    n = 2
    while key in used:  # two recorded profiles of one browser
        key = f"{m.browser}.{m.scope}{n}"
        n += 1
    used.add(key)
    where = f"{_name(m.browser)} ({m.scope})"
    return [
        Check(f"manifest.{key}", f"{where} manifest", lambda ctx: _manifest(ctx, m)),
        Check(f"origin.{key}", f"{where} allowed extension", lambda ctx: _origin(ctx, m)),
        Check(f"launcher.{key}", f"{where} launcher", lambda ctx: _launcher(ctx, m)),
        Check(f"python.{key}", f"{where} launcher's Python", lambda ctx: _python(ctx, m)),
        Check(f"hello.{key}", f"{where} host answers", lambda ctx: _hello(ctx, m)),
    ]


def _install_fix(m: Manifest, extension: str | None = None) -> str:
    args = ["tweetguard", "install-host", "--browser", m.browser]
    if m.scope == "system":
        args.append("--system")
    if extension is not None and m.browser != "firefox":
        args += ["--extension-id", extension]
    if extension is not None and m.browser == "firefox":
        args += ["--firefox-id", extension]
    return f"run `{shlex.join(args)}`" + (" as root" if m.scope == "system" else "")


def _bad_record(exc: Exception) -> Result:
    return fail(str(exc), "run `tweetguard install-host` again to rewrite it")


def _no_browser(ctx: Context) -> Result:
    return warn(
        "no supported browser found, and no tweetguard host manifest anywhere",
        "install Chrome, Edge, Chromium, Brave, Vivaldi or Firefox, or name one: "
        "`tweetguard doctor --browser chrome`",
    )


def _missing(browser: str) -> Any:
    def run(ctx: Context) -> Result:
        return fail(
            f"{_name(browser)} has no tweetguard host manifest in any folder it reads: "
            "it cannot start the helper",
            f"run `tweetguard install-host --browser {browser}` (for every user: add "
            "--system, as root)",
        )

    return run


def _system_records(home: Path, here: str) -> list[InstallRecord]:
    """The records of the machine's system data folder, when it is not `home`; a
    damaged or unreadable one adds nothing (it is not the folder being checked)."""
    from tweetguard.install.hosts import system_home
    from tweetguard.install.record import read_records

    folder = system_home()
    if folder == home:
        return []
    try:
        return [r for r in read_records(folder) if r.platform == here]
    except (OSError, ValueError):
        return []


def _installed_for(records: list[InstallRecord], browser: str, manifest: Path) -> list[str]:
    """The ids the records asked for: those of the records naming this manifest, else
    of every record of this browser (a manifest someone copied elsewhere)."""
    mine = [r for r in records if r.browser == browser]
    naming = [r for r in mine if r.manifest == manifest] or mine
    return list(dict.fromkeys(a for r in naming for a in r.allowed))


def _expected(ctx: Context, m: Manifest) -> list[str]:
    """The ids the manifest must allow: those given with --extension-id, else those
    install-host recorded (a school's own extension id), else tweetguard's own."""
    if m.browser == "firefox":
        named = list(ctx.firefox_ids)
        default = identity.FIREFOX_ADDON_ID
    else:
        named = [identity.chrome_origin(i) for i in ctx.chrome_ids]
        default = identity.CHROME_ORIGIN
    return named or m.installed_for or [default]


def _manifest(ctx: Context, m: Manifest) -> Result:
    if not m.path.exists():
        return fail(
            f"{m.path}, written by install-host, is gone: {_name(m.browser)} cannot "
            "start the helper",
            _install_fix(m),
        )
    if m.elsewhere is not None:
        reads = ", ".join(str(p) for p in m.elsewhere) or "no folder or key naming it"
        return fail(
            f"{m.path} was written by install-host, but {_name(m.browser)} does not look "
            f"there for this user: it reads {reads}",
            f"{_install_fix(m)} as the user whose browser it is (same HOME and XDG_CONFIG_HOME)",
        )
    try:
        data = json.loads(m.path.read_text(encoding="utf-8"))
    except OSError as exc:
        return fail(f"{m.path} cannot be read ({exc.strerror})", _install_fix(m))
    except ValueError as exc:
        return fail(f"{m.path} is not valid JSON ({exc})", _install_fix(m))
    if not isinstance(data, dict):
        return fail(f"{m.path} is not a JSON object", _install_fix(m))
    field_name = "allowed_extensions" if m.browser == "firefox" else "allowed_origins"
    problems = []
    if data.get("name") != identity.HOST_NAME:
        problems.append(f"name is {data.get('name')!r}, not {identity.HOST_NAME!r}")
    if data.get("type") != "stdio":
        problems.append(f"type is {data.get('type')!r}, not 'stdio'")
    path = data.get("path")
    if not isinstance(path, str) or not path:
        problems.append("it has no path")
    elif not Path(path).is_absolute() and sys.platform != "win32":
        problems.append(f"its path {path!r} is not absolute (required outside Windows)")
    allowed = data.get(field_name)
    if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
        problems.append(f"it has no {field_name} list")
    if problems:
        return fail(f"{m.path}: {'; '.join(problems)}", _install_fix(m))
    m.data = data
    launcher = Path(str(path))
    m.launcher = launcher if launcher.is_absolute() else m.path.parent / launcher
    return ok(f"{m.path}" + (" (written by install-host)" if m.recorded else ""))


def _origin(ctx: Context, m: Manifest) -> Result | None:
    if m.data is None:
        return None
    field_name = "allowed_extensions" if m.browser == "firefox" else "allowed_origins"
    allowed = [str(a) for a in m.data.get(field_name, [])]
    expected = _expected(ctx, m)
    missing = [e for e in expected if e not in allowed]
    if missing:
        return fail(
            f"the manifest allows {', '.join(allowed) or 'nothing'}, not "
            f"{', '.join(missing)}: the browser refuses to start the helper for the extension",
            _install_fix(m, _bare(missing[0])),
        )
    m.allows_us = True
    return ok(f"allows {', '.join(expected)}")


def _launcher(ctx: Context, m: Manifest) -> Result | None:
    launcher = m.launcher
    if launcher is None:
        return None
    if not launcher.exists():
        return fail(f"{launcher} does not exist", _install_fix(m))
    if not launcher.is_file():
        return fail(f"{launcher} is not a file", _install_fix(m))
    if sys.platform != "win32":
        mode = launcher.stat().st_mode
        if not os.access(launcher, os.X_OK) or not mode & stat.S_IXUSR:
            return fail(
                f"{launcher} is not executable (mode {stat.S_IMODE(mode):04o})",
                f"chmod a+rx {launcher}, or {_install_fix(m)}",
            )
        if m.scope == "system" and mode & 0o005 != 0o005:
            return fail(
                f"{launcher} is mode {stat.S_IMODE(mode):04o}: other users' browsers cannot run it",
                f"chmod a+rx {launcher} (as root)",
            )
        if m.scope == "system" and (closed := closed_to_others(launcher)) is not None:
            return fail(
                f"other users' browsers cannot reach {launcher}: {closed}",
                "chmod a+x the folders named (as root), or use a data folder outside "
                "that one (`tweetguard --home /var/lib/tweetguard install-host --system`)",
            )
    m.launcher_ok = True
    parsed = read_launcher(launcher)
    m.launcher_allows = parsed.allowed
    if parsed.home is not None and Path(parsed.home) != ctx.home:
        return warn(
            f"{launcher} runs the helper with the data folder {parsed.home}, not {ctx.home}",
            f"check that folder with `tweetguard --home {parsed.home} doctor`, or reinstall",
        )
    return ok(str(launcher))


def _python(ctx: Context, m: Manifest) -> Result | None:
    if not m.launcher_ok or m.launcher is None:
        return None
    parsed = read_launcher(m.launcher)
    if parsed.python is None:
        m.python_ok = True
        return ok(f"{m.launcher} is not a script tweetguard wrote: its interpreter not read")
    python = Path(parsed.python)
    if not python.exists():
        return fail(
            f"{m.launcher} runs {python}, which no longer exists (Python moved or was upgraded)",
            f"{_install_fix(m)} with the Python tweetguard is installed in now",
        )
    if not os.access(python, os.X_OK):
        return fail(f"{python}, which {m.launcher} runs, is not executable", _install_fix(m))
    if m.scope == "system" and sys.platform != "win32":
        closed = closed_to_others(python) or closed_to_others(python.resolve())
        if closed is not None:
            return fail(
                f"other users cannot run {python}, which {m.launcher} runs: {closed}",
                "install tweetguard where every user can run it (the .deb uses "
                "/opt/tweetguard), then install-host --system again",
            )
    m.python_ok = True
    return ok(str(python))


def _hello(ctx: Context, m: Manifest) -> Result | None:
    if not (m.python_ok and m.allows_us) or m.launcher is None:
        return None
    expected = _expected(ctx, m)[0]
    argv = browser_argv(m.browser, m.launcher, m.path, _bare(expected))
    # Brave reads Chrome's system folder, Vivaldi Chromium's: one file, asked once.
    key = "hello:" + "\0".join(argv)
    answer = ctx.cache.get(key)
    if not isinstance(answer, Answer):
        answer = ctx.cache[key] = ask_hello(argv, timeout=ctx.hello_timeout)
    log = ctx.home / "logs" / "host.log"
    run_by_hand = f"run `{shlex.join(argv)}` by hand and read {log}"
    reply = answer.reply
    if reply is None:
        if answer.timed_out:
            return fail(f"no answer to hello within {ctx.hello_timeout:g} s", run_by_hand)
        said = f": {answer.stderr}" if answer.stderr else ""
        return fail(
            f"the host ended (status {answer.returncode}) without answering hello{said}",
            run_by_hand,
        )
    if reply.get("ok") is True:
        said = (
            f"hello answered in {answer.seconds:.1f} s by helper "
            f"{reply.get('helper_version')} (protocol {reply.get('protocol')})"
        )
        audit = reply.get("audit")
        if isinstance(audit, dict) and audit.get("ok") is False:
            # What the popup shows: the helper answers, but cannot record the checks.
            return fail(
                f"{said}, but it cannot write the audit: {audit.get('note', '')}".rstrip(": "),
                "see data.audit above, and the host's log " + str(log),
            )
        return ok(said)
    raw_error = reply.get("error")
    error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
    code = str(error.get("code", "unknown"))
    if code == "forbidden_origin":
        allowed = ", ".join(m.launcher_allows) or "its defaults"
        return fail(
            f"the host refused {expected}: its launcher allows {allowed}",
            _install_fix(m, _bare(expected)),
        )
    return fail(
        f"the host answered hello with {code}: {error.get('message', '')}".strip(),
        {
            "policy_invalid": "see policy.valid above",
            "register_unavailable": "see register.loaded above",
        }.get(code, run_by_hand),
    )


@dataclass(frozen=True)
class Launcher:
    python: str | None  # the interpreter it runs; None when it is not a script we read
    home: str | None  # the --home it passes
    allowed: list[str]  # the --allow values


def read_launcher(path: Path) -> Launcher:
    """What a launcher install-host wrote runs, read back by install/launcher.py's own
    readers (the format has one writer and one reader); its --home beside them."""
    from tweetguard.install.launcher import parse_allowed, python_of

    try:
        text = path.read_text(encoding="utf-8")
        python, allowed = python_of(text), parse_allowed(text)
    except (OSError, UnicodeDecodeError, ValueError, IndexError):
        return Launcher(None, None, [])
    if python is None:
        return Launcher(None, None, [])
    words = text.replace('"', " ").split() if text.startswith("@echo off") else None
    if words is None:
        line = next((ln for ln in text.splitlines() if ln.startswith("exec ")), "")
        try:
            words = shlex.split(line)
        except ValueError:
            words = []
    home = next((words[i + 1] for i, w in enumerate(words[:-1]) if w == "--home"), None)
    return Launcher(python, home, allowed)


def _name(browser: str) -> str:
    from tweetguard.install.browsers import NAMES

    return NAMES.get(browser, browser)


def _bare(extension: str) -> str:
    """A Chromium origin's id; a Firefox id as it is."""
    if extension.startswith("chrome-extension://"):
        return extension[len("chrome-extension://") :].rstrip("/")
    return extension
