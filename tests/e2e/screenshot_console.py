"""Makes docs/img/console-overview.png: the overview with made-up rows.

    .venv/bin/python -m tests.e2e.screenshot_console [OUT.png]

A data folder of its own with an invented school, pupils and staff; audit rows
appended as three devices would (the device and login names are set here, in
this process only); the real `tweetguard dashboard`; Debian's Chromium; and one
more check appended while the page is open, so the live feed's newest row shows.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.conftest import ROOT, write_policy
from tests.e2e.browser import CHROMIUM
from tests.e2e.test_dashboard import PASSWORD, setup_link, start_dashboard
from tests.registers import canonical
from tweetguard.stores import audit
from tweetguard.stores.consent import ConsentRegister
from tweetguard.stores.register_import import read_register

POLICY = """\
[school]
name = "Larkspur Hill Primary School"

[[accounts]]
handle = "LarkspurHillPS"
user_id = "90817263"
visibility = "public"
"""
ACCOUNT = "LarkspurHillPS"


def as_device(device: str, user: str) -> None:
    audit._device = lambda: device  # type: ignore[assignment]
    audit._user = lambda: user  # type: ignore[assignment]


def history(home: Path) -> None:
    log = audit.open_audit(home)
    steps = [
        (
            "OFFICE-PC1",
            "mrs.achterberg",
            "helper",
            {"detail": {"helper_version": "0.9.0", "protocol": 1}},
        ),
        (
            "Y4-CLASSROOM",
            "mr.oyelaran",
            "helper",
            {"detail": {"helper_version": "0.9.0", "protocol": 1}},
        ),
        (
            "OFFICE-PC1",
            "mrs.achterberg",
            "check",
            {"verdict": "ok", "detail": {"stage": "posting"}},
        ),
        ("OFFICE-PC1", "mrs.achterberg", "post", {"detail": {"action": "post"}}),
        ("OFFICE-PC1", "mrs.achterberg", "logout", {"detail": {"reason": "after-post"}}),
        (
            "Y4-CLASSROOM",
            "mr.oyelaran",
            "check",
            {"verdict": "warn", "rules": ["language.profanity"], "detail": {"stage": "posting"}},
        ),
        (
            "Y4-CLASSROOM",
            "mr.oyelaran",
            "override",
            {
                "rules": ["language.profanity"],
                "detail": {"reason": "quoting the title of the Year 4 play"},
            },
        ),
        ("Y4-CLASSROOM", "mr.oyelaran", "post", {"detail": {"action": "post"}}),
        (
            "LIBRARY-MAC",
            "ms.fairweather",
            "helper",
            {"detail": {"helper_version": "0.9.0", "protocol": 1}},
        ),
        (
            "LIBRARY-MAC",
            "ms.fairweather",
            "check",
            {
                "verdict": "block",
                "rules": ["names.full-name", "personal.phone"],
                "detail": {"stage": "posting"},
            },
        ),
        (
            "LIBRARY-MAC",
            "ms.fairweather",
            "check",
            {"verdict": "ok", "detail": {"stage": "posting"}},
        ),
        ("LIBRARY-MAC", "ms.fairweather", "post", {"detail": {"action": "post"}}),
        ("LIBRARY-MAC", "ms.fairweather", "logout", {"detail": {"reason": "after-post"}}),
    ]
    for device, user, kind, fields in steps:
        as_device(device, user)
        account = ACCOUNT if kind in ("check", "override", "post", "logout") else None
        log.append(kind, account=account, **fields)  # type: ignore[arg-type]
    log.close()


def main(out: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        home.mkdir()
        register = ConsentRegister(home / "register.sqlite3")
        register.replace(
            read_register(
                canonical([("Wilhelmina", "Osei-Barrow", "no"), ("Caspian", "Llewellyn-Ng", "yes")])
            ).pupils,
            source="made-up pupils",
        )
        register.close()
        write_policy(home, POLICY)
        history(home)
        dashboard = start_dashboard(home)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox"]
                )
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                page.goto(setup_link(dashboard))
                page.get_by_label("New password").fill(PASSWORD)
                page.get_by_label("Type it again").fill(PASSWORD)
                page.get_by_role("button", name="Set password").click()
                expect(page.locator("#feed-state")).to_contain_text("Live")
                page.evaluate("() => document.querySelectorAll('.flash').forEach(e => e.remove())")
                as_device("Y4-CLASSROOM", "mr.oyelaran")
                log = audit.open_audit(home)
                row = log.append(
                    "check",
                    account=ACCOUNT,
                    verdict="block",
                    rules=["names.full-name"],
                    detail={"stage": "posting"},
                )
                log.close()
                expect(page.locator(f'#latest tr[data-seq="{row.seq}"]')).to_be_visible()
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out), full_page=True)
                browser.close()
        finally:
            dashboard.stop()
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img" / "console-overview.png")
