"""The school's register by revision: deltas since N, everything when N is too old."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.server.conftest import Trust, bearer, enrolled
from tweetguard.server import registers
from tweetguard.stores.consent import Pupil


def _person(first: str, last: str, consent: bool = True) -> dict[str, object]:
    return registers.person_json(
        Pupil(first_name=first, last_name=last, class_name="3W", social_media=consent)
    )


def test_changes_since_a_revision_are_upserts_and_deletes(
    trust: Trust, client: FlaskClient
) -> None:
    db, school = trust.db, trust.school_a.id
    _, credential = enrolled(db, school)
    ada, bea, cal = _person("Ada", "Quill"), _person("Bea", "Rowan"), _person("Cal", "Stone")
    first = registers.apply_people(db, school, [ada, bea])
    full = client.get("/api/v1/register", headers=bearer(credential)).get_json()
    assert full["full"] is True and full["revision"] == first
    assert sorted(p["first_name"] for p in full["people"]) == ["Ada", "Bea"]
    withdrawn = _person("Bea", "Rowan", consent=False)
    second = registers.apply_people(db, school, [ada, withdrawn, cal])
    delta = client.get(f"/api/v1/register?since={first}", headers=bearer(credential)).get_json()
    assert delta["full"] is False and delta["revision"] == second
    assert {c["person"]["first_name"] for c in delta["changes"]} == {"Bea", "Cal"}
    third = registers.apply_people(db, school, [withdrawn, cal])
    delta = client.get(f"/api/v1/register?since={second}", headers=bearer(credential)).get_json()
    assert delta["changes"] == [{"op": "delete", "ref": ada["ref"]}]
    assert delta["revision"] == third
    # Nothing changed: the same revision, no changes (trap: an identical import is no revision).
    assert registers.apply_people(db, school, [withdrawn, cal]) == third
    same = client.get(f"/api/v1/register?since={third}", headers=bearer(credential)).get_json()
    assert same == {"revision": third, "full": False, "changes": []}
    # School B's device sees none of A's people.
    _, other = enrolled(db, trust.school_b.id, "b-pc")
    b_view = client.get("/api/v1/register", headers=bearer(other)).get_json()
    assert b_view == {"revision": 0, "full": True, "people": []}


def test_a_device_further_behind_than_the_changes_kept_gets_everything(
    trust: Trust, client: FlaskClient
) -> None:
    db, school = trust.db, trust.school_a.id
    _, credential = enrolled(db, school)
    people = [_person(f"Pupil{n}", "Example") for n in range(6)]
    revisions = [
        registers.apply_people(db, school, people[: n + 1], keep_revisions=3) for n in range(6)
    ]
    registers.apply_people(db, school, people[1:], keep_revisions=3)  # a deletion
    old = client.get(f"/api/v1/register?since={revisions[0]}", headers=bearer(credential))
    assert old.get_json()["full"] is True
    assert len(old.get_json()["people"]) == 5
    recent = client.get(f"/api/v1/register?since={revisions[-1]}", headers=bearer(credential))
    assert recent.get_json()["full"] is False
    assert recent.get_json()["changes"] == [{"op": "delete", "ref": people[0]["ref"]}]
    bad = client.get("/api/v1/register?since=soon", headers=bearer(credential))
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_request"


def test_an_mis_export_is_previewed_then_applied(trust: Trust) -> None:
    db, school = trust.db, trust.school_a.id
    export = (
        b"Legal Forename,Legal Surname,Reg Group,Social Media Consent\n"
        b"Hattie,Marsh,4RB,Yes\nIvo,Penrose,4RB,No\n"
    )
    upload = registers.store_upload(db, school, "sims.csv", export, by="dsl")
    preview = registers.preview(db, school, upload)
    assert preview is not None
    assert [p.first_name for p in preview.changes.added] == ["Hattie", "Ivo"]
    assert registers.preview(db, trust.school_b.id, upload) is None  # not B's upload
    revision = registers.apply_upload(db, school, upload)
    assert revision == 1
    assert {p["first_name"] for p in registers.people(db, school)} == {"Hattie", "Ivo"}
    assert registers.apply_upload(db, school, upload) is None  # applied once
