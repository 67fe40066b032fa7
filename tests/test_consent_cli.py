"""`tweetguard consent import|list` as IT meets it: summaries, refusals, recovery, exit codes.

Every case runs the real command on a real SQLite file and checks the message and
the documented exit code, and that no traceback ever reaches the terminal.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REGISTER_CSV, run_cli
from tests.registers import csv_text, xlsx
from tweetguard.stores.consent import ConsentRegister


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def pupils_in(home: Path) -> list[str]:
    register = ConsentRegister(home / "register.sqlite3")
    try:
        return [f"{p.first_name} {p.last_name}" for p in register.pupils()]
    finally:
        register.close()


def no_traceback(result: subprocess.CompletedProcess[bytes]) -> None:
    assert b"Traceback" not in result.stderr + result.stdout, result.stderr.decode()


def school_of(size: int) -> list[list[str]]:
    return [[f"Child{n}", f"Family{n}", "yes" if n % 2 else "no"] for n in range(size)]


HEADER = ["Forename", "Surname", "Social Media Consent"]


def test_import_reports_how_it_read_the_file_and_what_it_found(home: Path, tmp_path: Path) -> None:
    rows = [*school_of(40), ["", "Nameless", "yes"], ["Kit", "", "no"], ["Mark", "Carter", "maybe"]]
    data = csv_text([*HEADER, "DOB"], [[*r, "01/01/2017"] for r in rows], ";").encode("cp1252")
    result = run_cli(home, "consent", "import", str(write(tmp_path / "export.csv", data)))
    out, err = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 1  # loaded, with problem rows
    assert "semicolon-separated" in out and "“Surname” → last_name" in out
    assert "Not used: DOB" in out
    assert "43 row(s): 41 pupil(s), 20 with social media consent today and 21 without" in out
    assert "Skipped 2 row(s): 1 no first name, 1 no surname" in out
    assert "Loaded with problems: 1 consent unreadable" in out
    assert "export.csv:43: the surname is empty; row skipped" in err
    assert out.index("pupil(s)") < out.index("Imported 41 pupil(s)")
    no_traceback(result)


def test_a_broken_file_is_refused_and_the_register_kept(home: Path, tmp_path: Path) -> None:
    good = csv_text(HEADER, school_of(300)).encode()
    assert run_cli(home, "consent", "import", str(write(tmp_path / "a.csv", good))).returncode == 0
    lines = good.decode().split("\r\n")
    lines[12] = lines[12].replace("Family11", '"Family11')
    broken = write(tmp_path / "b.csv", "\r\n".join(lines).encode())
    result = run_cli(home, "consent", "import", str(broken))
    assert result.returncode == 65
    assert b"import refused, the register is unchanged: line 13:" in result.stderr
    assert len(pupils_in(home)) == 300
    no_traceback(result)


def test_dry_run_shows_the_changes_and_changes_nothing(home: Path, tmp_path: Path) -> None:
    before = [["Hazel", "Wood", "yes"], ["Mark", "Carter", "yes"], ["Brook", "Dawson", "no"]]
    run_cli(
        home, "consent", "import", str(write(tmp_path / "a.csv", csv_text(HEADER, before).encode()))
    )
    after = [["Hazel", "Wood", "no"], ["Brook", "Dawson", "yes"], ["Sunny", "Hill", "yes"]]
    path = write(tmp_path / "b.csv", csv_text(HEADER, after).encode())
    result = run_cli(home, "consent", "import", "--dry-run", str(path))
    out = result.stdout.decode()
    assert result.returncode == 0
    assert "1 added, 1 removed, social media consent withdrawn for 1 and given for 1" in out
    assert "removed: Mark Carter" in out and "added: Sunny Hill" in out
    assert "consent withdrawn: Hazel Wood" in out
    assert "Dry run: the register was not changed." in out
    assert pupils_in(home) == ["Hazel Wood", "Mark Carter", "Brook Dawson"]


def test_a_file_that_would_empty_most_of_the_register_needs_force(
    home: Path, tmp_path: Path
) -> None:
    run_cli(
        home,
        "consent",
        "import",
        str(write(tmp_path / "all.csv", csv_text(HEADER, school_of(500)).encode())),
    )
    partial = write(tmp_path / "part.csv", csv_text(HEADER, school_of(500)[:60]).encode())
    result = run_cli(home, "consent", "import", str(partial))
    assert result.returncode == 65
    assert b"it would remove 440 of the 500 pupils" in result.stderr
    assert len(pupils_in(home)) == 500
    assert run_cli(home, "consent", "import", "--force", str(partial)).returncode == 0
    assert len(pupils_in(home)) == 60
    # Trap: a normal new school year (some leave, some join) needs no --force.
    year = write(tmp_path / "year.csv", csv_text(HEADER, school_of(80)[10:]).encode())
    assert run_cli(home, "consent", "import", str(year)).returncode == 0


def test_the_problem_list_is_capped(home: Path, tmp_path: Path) -> None:
    rows = [[f"C{n}", f"F{n}", "perhaps"] for n in range(35)]
    path = write(tmp_path / "maybe.csv", csv_text(HEADER, rows).encode())
    result = run_cli(home, "consent", "import", str(path))
    err = result.stderr.decode()
    assert err.count("not yes or no") == 20 and "and 15 more problem line(s)" in err
    every = run_cli(home, "consent", "import", "--show-all", "--force", str(path))
    assert every.stderr.decode().count("not yes or no") == 35


def test_a_corrupt_register_is_reported_then_replaced(home: Path, tmp_path: Path) -> None:
    assert run_cli(home, "consent", "import", str(REGISTER_CSV)).returncode == 0
    (home / "register.sqlite3").write_bytes(b"this is not a database at all" * 100)
    listed = run_cli(home, "consent", "list")
    assert listed.returncode == 74
    assert b"cannot be read" in listed.stderr and b"import the register again" in listed.stderr
    checked = run_cli(home, "check", "--text", "Lovely day", "--json")
    assert checked.returncode == 74
    assert json.loads(checked.stdout)["error"]["code"] == "register_unavailable"
    imported = run_cli(home, "consent", "import", str(REGISTER_CSV))
    assert imported.returncode == 0, imported.stderr
    assert b"is damaged" in imported.stdout and b"moved aside" in imported.stdout
    assert list(home.glob("register.sqlite3.corrupt-*"))
    assert len(pupils_in(home)) == 14
    for result in (listed, checked, imported):
        no_traceback(result)


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """The folder (and what is in it) as an ordinary user sees a shared install.
    Root ignores file modes, so as root the folder is made immutable instead."""
    if os.geteuid() != 0:
        os.chmod(folder, 0o555)
        try:
            yield
        finally:
            os.chmod(folder, 0o755)
        return
    if shutil.which("chattr") is None:
        pytest.fail("chattr is needed to make a folder read-only for root (e2fsprogs)")
    targets = [folder, *folder.iterdir()]
    made = subprocess.run(["chattr", "+i", *map(str, targets)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.fail(f"chattr +i failed here: {made.stderr.decode()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, targets)], check=True)


def test_a_read_only_data_folder_says_so(home: Path, tmp_path: Path) -> None:
    assert run_cli(home, "consent", "import", str(REGISTER_CSV)).returncode == 0
    (home / "policy.toml").write_text('[school]\nname = "Test"\n')
    with read_only(home):
        result = run_cli(home, "consent", "import", str(REGISTER_CSV))
        assert result.returncode == 73
        assert b"read-only for this user" in result.stderr
        added = run_cli(home, "accounts", "add", "SchoolAccount")
        assert added.returncode == 73 and b"cannot write" in added.stderr
        init = run_cli(home, "policy", "init", "--force")
        assert init.returncode == 73
        # Reading still works: a shared install is read-only for teachers.
        assert run_cli(home, "check", "--text", "Amelia Thornbury").returncode == 2
        for r in (result, added, init):
            no_traceback(r)
    assert len(pupils_in(home)) == 14


def test_a_missing_data_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    listed = run_cli(missing, "consent", "list")
    assert listed.returncode == 66 and b"no consent register" in listed.stderr
    checked = run_cli(missing, "check", "--text", "Well done Amelia Thornbury!")
    assert checked.returncode == 0
    assert b"setup.no-register" in checked.stdout and b"not checked" in checked.stdout
    assert b"does not exist" in checked.stderr
    assert not missing.exists()  # a typo in --home creates nothing
    no_traceback(listed)
    no_traceback(checked)


def test_a_closed_pipe_ends_quietly(home: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "big.csv", csv_text(HEADER, school_of(5000)).encode())
    assert run_cli(home, "consent", "import", str(path)).returncode == 0
    env = {k: v for k, v in os.environ.items() if k != "TWEETGUARD_HOME"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tweetguard", "--home", str(home), "consent", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout and proc.stderr
    assert proc.stdout.readline().startswith(b"Child0 Family0")
    proc.stdout.close()  # what `| head -1` does
    err = proc.stderr.read()
    assert proc.wait(timeout=30) == 141
    assert b"Traceback" not in err and b"BrokenPipe" not in err


def test_a_lone_surrogate_in_a_batch_is_checked(registered_home: Path, tmp_path: Path) -> None:
    batch = tmp_path / "posts.jsonl"
    batch.write_text('{"text": "Amelia Thornbury \\ud83d won"}\n{"text": "plain \\udc00"}\n')
    result = run_cli(registered_home, "check", "--json", "--batch", str(batch))
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["verdict"] for r in replies] == ["block", "allow"]
    assert result.returncode == 2
    no_traceback(result)


def test_invalid_bytes_on_the_command_line_are_checked(registered_home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TWEETGUARD_HOME"}
    result = subprocess.run(
        [
            sys.executable.encode(),
            b"-m",
            b"tweetguard",
            b"--home",
            bytes(registered_home),
            b"check",
            b"--text",
            b"Amelia Thornbury \xff\xfe",
        ],
        capture_output=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    no_traceback(result)


# -- A name from each kind of export is caught in a post -----------------------------------

EXPORTS = {
    "sims.csv": lambda: (
        "Class list,,,,\r\n"
        + csv_text(
            ["Adno", "Legal Surname", "Legal Forename", "Reg", "Photograph Student - Social Media"],
            [["000812", "Carmody", "Elspeth", "4RB", "Yes"]],
        )
    ).encode("utf-8-sig"),
    "arbor.csv": lambda: csv_text(
        ["Legal First Name", "Legal Last Name", "Registration Form", "Consent: Social media"],
        [["Rohan", "Okonjo", "6KL", "Not granted"]],
    ).encode(),
    "unicode-text.txt": lambda: (
        codecs.BOM_UTF16_LE
        + csv_text(
            ["First Name", "Last Name", "Social Media"], [["Dagný", "Þorsteinsdóttir", "yes"]], "\t"
        ).encode("utf-16-le")
    ),
    "semicolons.csv": lambda: csv_text(
        ["Forename", "Surname", "Social Media Consent"], [["Ffion", "Pritchard", "yes"]], ";"
    ).encode(),
    "central-europe.csv": lambda: csv_text(
        ["Forename", "Surname", "Social Media Consent"], [["Łucja", "Wiśniewska", "yes"]]
    ).encode("cp1250"),
    "bromcom.xlsx": lambda: xlsx(
        ["First Name", "Last Name", "Tutor Group", "Social Media Permission"],
        [["Halvard", "Brønstad", "5T", "No"]],
        title_rows=1,
    ),
}
TYPED = {
    "sims.csv": "Well done Elspeth Carmody for the poem!",
    "arbor.csv": "Rohan Okonjo was brilliant today",
    "unicode-text.txt": "Congratulations Dagny Thorsteinsdottir!",
    "semicolons.csv": "A star reader: Ffion Pritchard",
    "central-europe.csv": "Lucja Wisniewska won the quiz",
    "bromcom.xlsx": "Halvard Bronstad scored twice",
}


@pytest.mark.parametrize("name", list(EXPORTS))
def test_each_export_imports_and_its_names_are_caught(
    home: Path, tmp_path: Path, name: str
) -> None:
    path = write(tmp_path / name, EXPORTS[name]())
    result = run_cli(home, "consent", "import", str(path))
    assert result.returncode == 0, result.stderr.decode() + result.stdout.decode()
    checked = run_cli(home, "check", "--text", TYPED[name], "--json")
    reply = json.loads(checked.stdout)
    assert reply["verdict"] == "block"
    assert "names.full-name" in [f["rule"] for f in reply["findings"]]


def test_a_saved_mapping_in_the_policy_is_used(home: Path, tmp_path: Path) -> None:
    (home / "policy.toml").write_text(
        '[register]\ncolumns = { "Kid" = "first_name", "Family" = "last_name", '
        '"Twitter OK" = "social_media_consent" }\n'
    )
    path = write(
        tmp_path / "own.csv",
        csv_text(["Kid", "Family", "Twitter OK"], [["Sunny", "Hill", "y"]]).encode(),
    )
    result = run_cli(home, "consent", "import", str(path))
    assert result.returncode == 0, result.stderr
    assert pupils_in(home) == ["Sunny Hill"]
    mapped = run_cli(home, "consent", "import", "--map", "Kid=first_nam", str(path))
    assert mapped.returncode == 65 and b"not a register column" in mapped.stderr


def test_a_name_from_a_file_without_consent_blocks_alone(home: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", csv_text(HEADER, [["Elspeth", "Carmody", "no"]]).encode())
    run_cli(home, "consent", "import", str(path))
    result = run_cli(home, "check", "--text", "Elspeth read her poem in assembly")
    assert result.returncode == 2 and b"names.no-consent" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["consent", "import"],
        ["consent", "import", "/nonexistent/file.csv"],
        ["consent", "import", "."],
        ["consent", "import", "--encoding", "klingon", str(REGISTER_CSV)],
        ["consent", "import", "--map", "nonsense", str(REGISTER_CSV)],
        ["check", "--text-file", "/nonexistent"],
        ["check", "--json", "--batch", "/nonexistent"],
        ["accounts", "add", "not a handle!"],
        ["policy", "check"],
    ],
)
def test_bad_input_never_prints_a_traceback(home: Path, args: list[str]) -> None:
    (home / "policy.toml").write_text("[school\n")
    result = run_cli(home, *args)
    assert result.returncode >= 64
    no_traceback(result)


def test_consent_list_shows_the_register(registered_home: Path) -> None:
    result = run_cli(registered_home, "consent", "list")
    assert result.returncode == 0
    out = result.stdout.decode()
    assert "Oluwaseun Adeyemi (Seun)\tYear 6\tsocial media: yes" in out
    assert "14 pupil(s)" in result.stderr.decode()


def test_a_refused_import_leaves_even_a_damaged_register_where_it_is(
    home: Path, tmp_path: Path
) -> None:
    (home / "register.sqlite3").write_bytes(b"damaged" * 500)
    strict = write(tmp_path / "s.csv", csv_text(HEADER, [["Kit", "Fletcher", "maybe"]]).encode())
    result = run_cli(home, "consent", "import", "--strict", str(strict))
    assert result.returncode == 65
    assert (home / "register.sqlite3").read_bytes() == b"damaged" * 500
    assert not list(home.glob("register.sqlite3.corrupt-*"))
