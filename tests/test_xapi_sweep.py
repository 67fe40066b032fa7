"""`tweetguard accounts sweep`: posts made without tweetguard still reach the audit.

The fake X API (tests/fake_x_api.py) stores each post as X does (t.co links, HTML
entities, a photo link); the sweep must undo that, skip what tweetguard itself sent,
check the rest with the same checks, and write each post once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_policy
from tests.fake_x_api import FakeTime, FakeXApi, bearer_client, serving
from tests.hostproc import HostProcess
from tests.registers import canonical
from tweetguard.checks.links import post_fingerprint
from tweetguard.stores.audit import (
    AuditQuery,
    merged_rows,
    open_audit,
    sha256_text,
)
from tweetguard.xapi.client import RESET_MARGIN, XClient
from tweetguard.xapi.sweep import SweepBusy, normalise, read_post, sweep, sweep_lock

NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
TOKEN = "AAAAtest-bearer-Hawthorn-3302"
SCHOOL_ID = "5512034"
POLICY = f"""\
[school]
name = "Fenwick Lane Primary School"

[allow]
domains = ["fenwicklane.sch.uk"]

[[accounts]]
handle = "FenwickLanePS"
user_id = "{SCHOOL_ID}"
visibility = "public"
"""
# Made-up pupils: Rosalind has no social media consent, Tobias has.
PUPILS = [("Rosalind", "Achterberg", "no"), ("Tobias", "Wetherell", "yes")]


PARENT_ID, LIBRARY_ID, NEWCOMER_ID = "8801", "8802", "8803"


@pytest.fixture
def api() -> Iterator[FakeXApi]:
    with serving(TOKEN, SCHOOL_ID, "FenwickLanePS", name="Fenwick Lane Primary School") as fake:
        # Others the school replies to and reposts (invented, like the school).
        fake.add_user(PARENT_ID, "MarisolQuayle", name="Marisol Quayle")
        fake.add_user(LIBRARY_ID, "HebdenLibrary", name="Hebden Bridge Library")
        fake.add_user(NEWCOMER_ID, "PerpetuaJones", name="Perpetua Jones")
        yield fake


@pytest.fixture
def school(home: Path) -> Path:
    (home / "pupils.csv").write_bytes(canonical(PUPILS))
    result = run_cli(home, "consent", "import", str(home / "pupils.csv"))
    assert result.returncode == 0, result.stderr.decode()
    write_policy(home, POLICY)
    return home


@pytest.fixture
def x(api: FakeXApi, monkeypatch: pytest.MonkeyPatch) -> XClient:
    return bearer_client(api, TOKEN, monkeypatch)


def through_tweetguard(home: Path, action: str, *texts: str) -> None:
    """What the browser extension sends after X confirmed a post, to the real host."""
    host = HostProcess(home)
    try:
        answer = host.ask(
            {
                "id": 1,
                "type": "posted",
                "account": {"handle": "FenwickLanePS", "user_id": SCHOOL_ID},
                "action": action,
                "texts": list(texts),
            }
        )
        assert answer.get("recorded") is True, answer
    finally:
        host.kill()


def sweep_rows(home: Path) -> list:
    return merged_rows(home, AuditQuery(kind="sweep"))


def test_a_post_naming_a_pupil_becomes_an_outside_row_and_a_clean_one_an_ok_row(
    school: Path, api: FakeXApi, x: XClient
):
    named = api.add_tweet(
        SCHOOL_ID, "Huge congratulations to Rosalind Achterberg, our new chess champion!"
    )
    clean = api.add_tweet(SCHOOL_ID, "Well done Tobias for reading 40 books this term!")
    result = sweep(school, x)
    [account] = result.accounts
    assert account.read == 2 and len(account.posts) == 2
    rows = {r.detail["tweet_id"]: r for r in sweep_rows(school)}
    flagged, fine = rows[named], rows[clean]
    assert flagged.outside and flagged.verdict == "block"
    assert "names.full-name" in flagged.rules and "names.no-consent" in flagged.rules
    assert flagged.account == "fenwicklaneps" and flagged.account_id == SCHOOL_ID
    assert flagged.detail["url"] == f"https://x.com/FenwickLanePS/status/{named}"
    assert flagged.detail["account"] == "fenwicklaneps" and flagged.detail["created_at"]
    assert flagged.text is None  # [audit] keep_text defaults to "never": a hash only
    assert flagged.text_sha256 == sha256_text(
        "Huge congratulations to Rosalind Achterberg, our new chess champion!"
    )
    # The trap: a first name with consent is fine, and still recorded as outside.
    assert fine.outside and fine.verdict == "ok" and fine.rules == ()
    assert [p.tweet_id for p in result.flagged] == [named]


def test_keep_text_always_keeps_the_swept_text(school: Path, api: FakeXApi, x: XClient):
    write_policy(school, POLICY + '\n[audit]\nkeep_text = "always"\n')
    api.add_tweet(SCHOOL_ID, "Rosalind Achterberg read at assembly today")
    sweep(school, x)
    [row] = sweep_rows(school)
    assert row.text == "Rosalind Achterberg read at assembly today"


def test_posts_sent_through_tweetguard_are_skipped(school: Path, api: FakeXApi, x: XClient):
    typed = "Sports day moves to Friday & starts at 1:30 <3 https://fenwicklane.sch.uk/sports"
    log = open_audit(school)
    log.append(
        "post",
        account="FenwickLanePS",
        text=typed,
        detail={"action": "post", "posts": 1, "posts_sha256": [post_fingerprint(typed)]},
    )
    log.close()
    ours = api.add_tweet(SCHOOL_ID, typed)
    # The trap: the same words edited on a phone afterwards are not tweetguard's post.
    theirs = api.add_tweet(SCHOOL_ID, typed.replace("1:30", "2:00"))
    [account] = sweep(school, x).accounts
    assert account.through_tweetguard == 1
    assert [p.tweet_id for p in account.posts] == [theirs]
    assert ours not in {r.detail["tweet_id"] for r in sweep_rows(school)}


def test_a_post_is_known_again_after_x_reworded_its_links_and_accents(
    school: Path, api: FakeXApi, x: XClient
):
    # Typed in a composer: a decomposed "é" (as macOS input gives), a bare domain
    # link, two spaces and a trailing newline. X keeps NFC, trims, and hands the link
    # back with the scheme it added.
    typed = "Cafe\u0301 morning  for parents: fenwicklane.sch.uk/cafe \n"
    stored = "Caf\u00e9 morning for parents: https://fenwicklane.sch.uk/cafe"
    log = open_audit(school)
    log.append(
        "post",
        account="FenwickLanePS",
        text=typed,
        detail={"posts_sha256": [post_fingerprint(typed)]},
    )
    log.close()
    api.add_tweet(SCHOOL_ID, stored)
    # The traps: other words around the same link, or the same words with another
    # link, are other posts.
    other = api.add_tweet(SCHOOL_ID, "Café evening for parents: https://fenwicklane.sch.uk/cafe")
    moved = api.add_tweet(SCHOOL_ID, "Café morning for parents: https://fenwicklane.sch.uk/bar")
    [account] = sweep(school, x).accounts
    assert account.through_tweetguard == 1
    assert [p.tweet_id for p in account.posts] == [other, moved]


def test_xs_text_is_undone_before_checking():
    tweet = {
        "id": "1",
        "text": "Bake sale &amp; raffle &lt;today&gt; https://t.co/aaaa https://t.co/pppp",
        "entities": {
            "urls": [
                {"url": "https://t.co/aaaa", "expanded_url": "https://fenwicklane.sch.uk/bake"},
                {
                    "url": "https://t.co/pppp",
                    "expanded_url": "https://x.com/FenwickLanePS/status/1/photo/1",
                    "media_key": "3_1",
                },
            ]
        },
        "attachments": {"media_keys": ["3_1"]},
    }
    assert normalise(tweet) == ("Bake sale & raffle <today> https://fenwicklane.sch.uk/bake", True)
    # A long post's full text is in note_tweet, with its own entities.
    long = {"id": "2", "text": "Start of a long…", "note_tweet": {"text": "Start of a long post"}}
    assert normalise(long) == ("Start of a long post", False)


def test_a_photo_post_is_checked_as_one_with_a_photo(school: Path, api: FakeXApi, x: XClient):
    api.add_tweet(SCHOOL_ID, "Tobias and friends at the science fair", photo=True)
    sweep(school, x)
    [row] = sweep_rows(school)
    assert row.text_sha256 == sha256_text("Tobias and friends at the science fair")


def test_a_second_sweep_adds_no_rows_and_asks_only_for_newer_posts(
    school: Path, api: FakeXApi, x: XClient
):
    first = api.add_tweet(SCHOOL_ID, "Year 5 visited the Roman fort today")
    sweep(school, x)
    again = sweep(school, x)
    assert again.accounts[0].read == 0 and again.accounts[0].posts == []
    assert api.calls("/2/users/")[-1].query["since_id"] == first
    newer = api.add_tweet(SCHOOL_ID, "Rosalind Achterberg won the poetry prize")
    third = sweep(school, x)
    assert [p.tweet_id for p in third.accounts[0].posts] == [newer]
    assert [r.detail["tweet_id"] for r in sweep_rows(school)] == [first, newer]


def test_a_lost_state_file_still_writes_each_post_once(school: Path, api: FakeXApi, x: XClient):
    api.add_tweet(SCHOOL_ID, "Choir practice is on Wednesday this week")
    sweep(school, x)
    (school / "x-sweep.json").unlink()
    since = datetime.now(UTC).date() - timedelta(days=1)
    [account] = sweep(school, x, since=since).accounts
    assert account.read == 1 and account.already_seen == 1 and account.posts == []
    assert len(sweep_rows(school)) == 1


def test_pagination_reads_every_page(school: Path, api: FakeXApi, x: XClient):
    ids = [api.add_tweet(SCHOOL_ID, f"Lunch menu for day {n} of the term") for n in range(107)]
    [account] = sweep(school, x).accounts
    assert account.read == 107 and len(account.posts) == 107
    pages = api.calls(f"/2/users/{SCHOOL_ID}/tweets")
    assert len(pages) == 2 and "pagination_token" in pages[1].query
    assert sorted(r.detail["tweet_id"] for r in sweep_rows(school)) == sorted(ids)


def test_since_reads_from_that_day(school: Path, api: FakeXApi, x: XClient):
    api.add_tweet(SCHOOL_ID, "Autumn term dates are online", at=datetime.now(UTC) - timedelta(30))
    recent = api.add_tweet(SCHOOL_ID, "Open evening next Thursday")
    since = (datetime.now(UTC) - timedelta(days=3)).date()
    [account] = sweep(school, x, since=since).accounts
    assert [p.tweet_id for p in account.posts] == [recent]
    assert api.calls("/2/users/")[-1].query["start_time"].startswith(since.isoformat())


def test_a_rate_limit_mid_sweep_is_waited_out_until_its_reset(
    school: Path, api: FakeXApi, monkeypatch: pytest.MonkeyPatch
):
    for n in range(103):
        api.add_tweet(SCHOOL_ID, f"Reading challenge update number {n}")
    fake = FakeTime(2_000_000_000.0)
    x = bearer_client(api, TOKEN, monkeypatch, sleep=fake.sleep, clock=fake.clock)
    api.rate_limit(1, reset_at=2_000_000_000 + 12)
    [account] = sweep(school, x).accounts
    assert account.read == 103
    assert [r.status for r in api.calls()] == [429, 200, 200]
    assert fake.slept == [12 + RESET_MARGIN]


def test_an_account_without_an_id_is_sent_to_verify(school: Path, api: FakeXApi, x: XClient):
    write_policy(school, POLICY.replace(f'user_id = "{SCHOOL_ID}"\n', ""))
    [account] = sweep(school, x).accounts
    assert "run `tweetguard accounts verify`" in account.problem
    assert api.calls() == []


def test_the_cli_sweep_lists_flagged_posts_and_exits_like_check(school: Path, api: FakeXApi):
    env = {**NO_KEYRING, "TWEETGUARD_X_API_URL": api.url}
    stored = run_cli(
        school, "accounts", "credentials", "--bearer-token", input=TOKEN.encode(), env=env
    )
    assert stored.returncode == 0
    flagged = api.add_tweet(SCHOOL_ID, "Rosalind Achterberg starred in the nativity")
    api.add_tweet(SCHOOL_ID, "The nativity was wonderful, thank you all")
    result = run_cli(school, "accounts", "sweep", env=env)
    assert result.returncode == 2, result.stderr.decode()
    out = result.stdout.decode()
    assert "2 new from outside tweetguard" in out
    assert f"BLOCK https://x.com/FenwickLanePS/status/{flagged}" in out
    assert "names.no-consent" in out
    again = run_cli(school, "accounts", "sweep", "--json", env=env)
    assert again.returncode == 0
    assert json.loads(again.stdout)["accounts"][0]["posts"] == []
    bad = run_cli(school, "accounts", "sweep", "--since", "last week", env=env)
    assert bad.returncode == 64 and "YYYY-MM-DD" in bad.stderr.decode()


def test_a_sweep_without_a_register_says_to_import_it(home: Path, api: FakeXApi, x: XClient):
    write_policy(home, POLICY)
    api.add_tweet(SCHOOL_ID, "Harvest boxes go to the food bank on Monday")
    from tweetguard.xapi.sweep import SweepError

    with pytest.raises(SweepError, match="tweetguard consent import FILE"):
        sweep(home, x)
    assert sweep_rows(home) == []


def test_a_far_rate_limit_part_way_keeps_what_was_swept(school: Path, api: FakeXApi, x: XClient):
    from tweetguard.xapi.client import RateLimited

    api.add_user("5512999", "FenwickLaneFC", name="Fenwick Lane Primary School Football")
    write_policy(
        school,
        POLICY + '\n[[accounts]]\nhandle = "FenwickLaneFC"\nuser_id = "5512999"\n',
    )
    first = api.add_tweet(SCHOOL_ID, "Parents' evening letters went home today")
    api.add_tweet("5512999", "Match report: a 3-2 win away at Dunmore")

    real = x.tweets

    def limited_after_first(user_id: str, **kwargs: object):
        if user_id == "5512999":
            api.rate_limit(1, reset_in=1800)
        return real(user_id, **kwargs)  # type: ignore[arg-type]

    x.tweets = limited_after_first  # type: ignore[method-assign]
    with pytest.raises(RateLimited, match="try again after"):
        sweep(school, x)
    assert [r.detail["tweet_id"] for r in sweep_rows(school)] == [first]
    state = json.loads((school / "x-sweep.json").read_text())
    assert state["since_id"] == {SCHOOL_ID: first}


# --- replies and reposts: X's text is not what tweetguard recorded ---------------------


def test_a_reply_sent_through_tweetguard_is_known_without_the_handles_x_put_first(
    school: Path, api: FakeXApi, x: XClient
):
    question = api.add_tweet(PARENT_ID, "Does the bake sale on Friday take card payments?")
    words = "Yes, cards and cash are both fine. See https://fenwicklane.sch.uk/bake"
    through_tweetguard(school, "reply", words)
    ours = api.add_tweet(SCHOOL_ID, words, reply_to=question)
    assert api.tweets[SCHOOL_ID][0].text.startswith("@MarisolQuayle Yes, cards")
    # The trap: the same reply with other words, made on a phone, is still flagged.
    theirs = api.add_tweet(SCHOOL_ID, "Yes, cards and cash are fine.", reply_to=question)
    [account] = sweep(school, x).accounts
    assert account.through_tweetguard == 1
    assert [p.tweet_id for p in account.posts] == [theirs]
    assert ours not in {r.detail["tweet_id"] for r in sweep_rows(school)}


def test_a_reply_from_a_phone_is_checked_as_the_teachers_words_handles_typed_kept(
    school: Path, api: FakeXApi, x: XClient
):
    write_policy(school, POLICY + '\n[audit]\nkeep_text = "always"\n')
    question = api.add_tweet(PARENT_ID, "Who won the spelling bee, @FenwickLanePS?")
    named = api.add_tweet(
        SCHOOL_ID, "Rosalind Achterberg won it, well done to her!", reply_to=question
    )
    # A handle typed in the middle, and one typed first to bring someone new in, are
    # the teacher's: they stay in what is checked (the trap beside the stripping).
    middle = api.add_tweet(SCHOOL_ID, "Thanks @HebdenLibrary for the prizes", reply_to=question)
    newcomer = api.add_tweet(SCHOOL_ID, "@PerpetuaJones judged it", reply_to=question)
    assert api.tweets[SCHOOL_ID][0].text == "@MarisolQuayle @PerpetuaJones judged it"
    sweep(school, x)
    rows = {r.detail["tweet_id"]: r for r in sweep_rows(school)}
    assert rows[named].text == "Rosalind Achterberg won it, well done to her!"
    assert rows[named].verdict == "block" and "names.no-consent" in rows[named].rules
    assert rows[named].detail["action"] == "reply"
    assert rows[middle].text == "Thanks @HebdenLibrary for the prizes"
    assert rows[newcomer].text == "@PerpetuaJones judged it"


def test_a_post_that_starts_with_a_handle_is_not_a_reply_and_keeps_it(
    school: Path, api: FakeXApi, x: XClient
):
    # The trap: without a reply, a leading handle is the teacher's, and a recorded
    # post without it is another post.
    through_tweetguard(school, "post", "thank you for the library visit!")
    mine = api.add_tweet(SCHOOL_ID, "@HebdenLibrary thank you for the library visit!")
    [account] = sweep(school, x).accounts
    assert account.through_tweetguard == 0 and [p.tweet_id for p in account.posts] == [mine]
    assert account.posts[0].text.startswith("@HebdenLibrary ")


def test_a_thread_sent_through_tweetguard_is_known_post_by_post(
    school: Path, api: FakeXApi, x: XClient
):
    first, second = "Our Year 4 trip to the mill starts today.", "More photos tomorrow!"
    through_tweetguard(school, "post", first, second)
    head = api.add_tweet(SCHOOL_ID, first)
    api.add_tweet(SCHOOL_ID, second, reply_to=head)  # a reply to itself: no handle first
    [account] = sweep(school, x).accounts
    assert account.through_tweetguard == 2 and account.posts == []


LONG_NOTICE = (
    "Hebden Bridge Library summer reading challenge: six books over the holidays earns "
    "a medal and a certificate. Sign up at the desk from 20 July. This year's winner "
    "from Fenwick Lane was Rosalind Achterberg."
)


def test_a_repost_through_tweetguard_is_known_by_the_reposted_posts_whole_text(
    school: Path, api: FakeXApi, x: XClient
):
    notice = "Hebden Bridge Library opens late on Thursdays this term, until 7pm."
    original = api.add_tweet(LIBRARY_ID, notice)
    through_tweetguard(school, "repost", notice)
    ours = api.add_repost(SCHOOL_ID, original)
    assert api.tweets[SCHOOL_ID][0].text.startswith("RT @HebdenLibrary: Hebden")
    [account] = sweep(school, x).accounts
    assert account.through_tweetguard == 1 and account.posts == []
    assert ours not in {r.detail["tweet_id"] for r in sweep_rows(school)}


def test_a_repost_from_a_phone_is_checked_on_the_whole_text_not_xs_cut_one(
    school: Path, api: FakeXApi, x: XClient
):
    original = api.add_tweet(LIBRARY_ID, LONG_NOTICE)
    repost = api.add_repost(SCHOOL_ID, original)
    cut = api.tweets[SCHOOL_ID][0].text
    assert cut.endswith("…") and "Achterberg" not in cut  # the name is past X's cut
    [account] = sweep(school, x).accounts
    [post] = account.posts
    assert post.tweet_id == repost and post.action == "repost"
    assert post.verdict == "block" and "names.no-consent" in post.rules
    [row] = sweep_rows(school)
    assert row.text_sha256 == sha256_text(LONG_NOTICE) and row.detail["action"] == "repost"


def test_words_recorded_as_the_schools_own_post_do_not_excuse_a_repost_of_them(
    school: Path, api: FakeXApi, x: XClient
):
    # The trap: a `post` row with the same words is not a repost made through
    # tweetguard (whose repost rules, [reposts], were never asked).
    write_policy(school, POLICY + '\n[reposts]\nallow = "none"\n')
    notice = "Hebden Bridge Library is closed on Monday for staff training."
    through_tweetguard(school, "post", notice)
    original = api.add_tweet(LIBRARY_ID, notice)
    repost = api.add_repost(SCHOOL_ID, original)
    [account] = sweep(school, x).accounts
    assert account.through_tweetguard == 0
    [post] = account.posts
    assert post.tweet_id == repost and "reposts.not-allowed" in post.rules


def test_a_repost_whose_original_x_did_not_return_checks_the_start_and_says_so():
    tweet = {
        "id": "9",
        "text": "RT @HebdenLibrary: Rosalind Achterberg &amp; friends at story time, and…",
        "referenced_tweets": [{"type": "retweeted", "id": "7"}],
    }
    reading = read_post(tweet, {})
    assert reading.action == "repost" and reading.fingerprints == frozenset()
    assert reading.text == "Rosalind Achterberg & friends at story time, and"
    assert reading.source is not None and reading.source.author == "HebdenLibrary"
    assert "only the start" in reading.note


# --- two sweeps at once ----------------------------------------------------------------


def test_a_second_sweep_while_one_runs_says_so_and_writes_nothing(
    school: Path, api: FakeXApi, x: XClient
):
    api.add_tweet(SCHOOL_ID, "Harvest festival donations go to the food bank")
    busy = "a sweep of this data folder is already running"
    with sweep_lock(school), pytest.raises(SweepBusy, match=busy):
        sweep(school, x, wait=0)
    assert sweep_rows(school) == [] and api.calls() == []
    # The trap: once the first is done, the next sweep runs.
    assert len(sweep(school, x, wait=0).accounts[0].posts) == 1


def test_two_sweeps_at_once_write_each_post_once(
    school: Path, api: FakeXApi, x: XClient, monkeypatch: pytest.MonkeyPatch
):
    import threading

    ids = [api.add_tweet(SCHOOL_ID, f"Class {n} assembly is on Friday") for n in range(3)]
    reading, release, waiting = threading.Event(), threading.Event(), threading.Event()
    real = x.tweets

    def held(user_id: str, **kwargs: object):
        if threading.current_thread().name == "first":
            reading.set()
            assert release.wait(30)
        return real(user_id, **kwargs)  # type: ignore[arg-type]

    x.tweets = held  # type: ignore[method-assign]
    second_x = bearer_client(api, TOKEN, monkeypatch)
    results: dict[str, object] = {}

    def run(name: str, client: XClient, **kwargs: object) -> None:
        results[name] = sweep(school, client, **kwargs)  # type: ignore[arg-type]

    first = threading.Thread(target=run, args=("first", x), name="first")
    first.start()
    assert reading.wait(30)  # the first holds the lock, its reading not done
    said: list[str] = []

    def progress(line: str) -> None:
        said.append(line)
        if line.startswith("waiting"):
            waiting.set()

    second = threading.Thread(
        target=run, args=("second", second_x), kwargs={"wait": 30, "progress": progress}
    )
    second.start()
    assert waiting.wait(30)  # the second waits for the lock rather than reading
    release.set()
    first.join(30)
    second.join(30)
    assert sorted(r.detail["tweet_id"] for r in sweep_rows(school)) == sorted(ids)
    later = results["second"].accounts[0]  # type: ignore[attr-defined]
    assert later.posts == [] and said[0].startswith("waiting up to 30 s")


def test_the_cli_says_a_sweep_is_already_running_in_another_process(school: Path, api: FakeXApi):
    env = {**NO_KEYRING, "TWEETGUARD_X_API_URL": api.url}
    stored = run_cli(
        school, "accounts", "credentials", "--bearer-token", input=TOKEN.encode(), env=env
    )
    assert stored.returncode == 0
    with sweep_lock(school):
        result = run_cli(school, "accounts", "sweep", "--wait", "0", env=env)
    assert result.returncode == 75
    message = result.stderr.decode().strip()
    assert "a sweep of this data folder is already running (process " in message
    assert "try again when it has finished" in message and "\n" not in message
