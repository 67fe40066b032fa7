"""Layered policy: the trust's defaults and locks, a school's own layer, the ETag."""

from __future__ import annotations

import tomllib

import pytest
from flask.testing import FlaskClient

from tests.server.conftest import Trust, bearer, enrolled
from tweetguard.server import policies
from tweetguard.stores.policy import parse_policy

TRUST_LAYER = """
[posting]
allow_block_override = false
support_contact = "Riverside IT desk"

[rules."links.external"]
severity = "info"

[allow]
domains = ["riverside.example"]

[[accounts]]
handle = "RiversideTrust"
visibility = "public"
"""

SCHOOL_LAYER = """
[[accounts]]
handle = "AlderbrookPri"
visibility = "public"

[allow]
places = ["Alderbrook Common"]

[[lexicon]]
id = "alder-trip"
kind = "exact"
words = ["minibus"]
severity = "warn"
message = "Trips: say the date only after the trip"
"""


def test_the_effective_policy_is_the_trust_layer_with_the_schools_additions(
    trust: Trust, client: FlaskClient
) -> None:
    policies.save_trust_layer(
        trust.db, trust.trust.id, TRUST_LAYER, ["posting.allow_block_override"], by="admin"
    )
    policies.save_school_layer(trust.db, trust.school_a.id, SCHOOL_LAYER, by="it")
    _, credential = enrolled(trust.db, trust.school_a.id)
    reply = client.get("/api/v1/policy", headers=bearer(credential))
    assert reply.status_code == 200
    body = reply.get_json()
    assert reply.headers["ETag"] == f'"{body["version"]}"'
    loaded = parse_policy(tomllib.loads(body["toml"]), "test")
    assert loaded.school == "Alderbrook Primary"
    assert {a.handle for a in loaded.accounts} == {"RiversideTrust", "AlderbrookPri"}
    assert loaded.allow.places == ("Alderbrook Common",)
    assert loaded.allow.domains == ("riverside.example",)
    assert [e.id for e in loaded.lexicon] == ["alder-trip"]
    assert loaded.posting.allow_block_override is False
    # School B sees the trust's layer only, never A's additions.
    _, other = enrolled(trust.db, trust.school_b.id, "b-pc")
    b_policy = parse_policy(
        tomllib.loads(client.get("/api/v1/policy", headers=bearer(other)).get_json()["toml"]), "b"
    )
    assert b_policy.school == "Brackenfield Juniors"
    assert {a.handle for a in b_policy.accounts} == {"RiversideTrust"}
    assert b_policy.lexicon == ()


def test_a_school_layer_setting_a_locked_key_is_refused(trust: Trust) -> None:
    policies.save_trust_layer(
        trust.db, trust.trust.id, TRUST_LAYER, ["posting.allow_block_override", "rules"], by="a"
    )
    with pytest.raises(policies.PolicyRefused, match=r"posting\.allow_block_override is locked"):
        policies.save_school_layer(
            trust.db, trust.school_a.id, "[posting]\nallow_block_override = true\n", by="it"
        )
    with pytest.raises(policies.PolicyRefused, match=r"rules\.links\.external\.severity is locked"):
        policies.save_school_layer(
            trust.db, trust.school_a.id, '[rules."links.external"]\nseverity = "warn"\n', by="it"
        )
    # Trap: an unlocked key beside the locked one is fine.
    policies.save_school_layer(
        trust.db, trust.school_a.id, "[posting]\nconfirm_account = true\n", by="it"
    )
    # Locking a key a school already sets is refused at the trust, naming the school.
    with pytest.raises(
        policies.PolicyRefused, match=r"Alderbrook Primary: posting\.confirm_account"
    ):
        policies.save_trust_layer(
            trust.db, trust.trust.id, TRUST_LAYER, ["posting.confirm_account"], by="a"
        )


def test_an_invalid_effective_policy_is_never_saved(trust: Trust) -> None:
    with pytest.raises(policies.PolicyRefused, match="severity"):
        policies.save_school_layer(
            trust.db, trust.school_a.id, '[rules."links.external"]\nseverity = "loud"\n', by="it"
        )
    with pytest.raises(policies.PolicyRefused, match="not valid TOML"):
        policies.save_trust_layer(trust.db, trust.trust.id, "[posting\n", [], by="a")
    assert policies.policy_version(trust.db, trust.school_a.id) == "0.0"


def test_etag_gives_304_until_either_layer_changes(trust: Trust, client: FlaskClient) -> None:
    _, credential = enrolled(trust.db, trust.school_a.id)
    first = client.get("/api/v1/policy", headers=bearer(credential))
    version = first.get_json()["version"]
    cached = {**bearer(credential), "If-None-Match": f'"{version}"'}
    again = client.get("/api/v1/policy", headers=cached)
    assert again.status_code == 304 and again.data == b""
    policies.save_school_layer(trust.db, trust.school_a.id, SCHOOL_LAYER, by="it")
    changed = client.get("/api/v1/policy", headers=cached)
    assert changed.status_code == 200
    school_version = changed.get_json()["version"]
    assert school_version != version
    cached = {**bearer(credential), "If-None-Match": f'"{school_version}"'}
    assert client.get("/api/v1/policy", headers=cached).status_code == 304
    policies.save_trust_layer(trust.db, trust.trust.id, TRUST_LAYER, [], by="admin")
    trust_changed = client.get("/api/v1/policy", headers=cached)
    assert trust_changed.status_code == 200
    assert trust_changed.get_json()["version"] not in (version, school_version)
    # The device's policy version is noted for the dashboard (in the half-minute
    # batch: the changed policy is sent before Flask, server/fastpoll.py).
    from tweetguard.server import cache, devices

    cache.seen_buffer(trust.db).flush()
    (info,) = devices.devices_of(trust.db, [trust.school_a.id])
    assert info.policy_version == trust_changed.get_json()["version"]
