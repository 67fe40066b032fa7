"""The school's policy file (policy.toml in the data directory).

A policy that cannot be read never means "allow everything": loading raises
PolicyError and the helper holds every post until IT fixes the file. Every
message names the file, the setting and what is expected, because IT reads it
in a terminal with `tweetguard policy check`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

VISIBILITIES = ("public", "protected")
SEVERITIES = ("block", "warn", "info")
LEXICON_KINDS = ("exact", "prefix", "near")
_LEXICON_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")


class PolicyError(Exception):
    pass


@dataclass(frozen=True)
class ApprovedAccount:
    handle: str
    user_id: str | None
    visibility: str


@dataclass(frozen=True)
class RuleOverride:
    enabled: bool | None = None
    severity: str | None = None


@dataclass(frozen=True)
class LexiconEntry:
    """A school's own word rule, in the style of compliance lexicons.

    exact: any of `words` as whole words; prefix: words starting with any of
    `words`; near: a word of `words` within `within` words of one of `near`.
    """

    id: str
    kind: str
    words: tuple[str, ...]
    severity: str
    message: str
    near: tuple[str, ...] = ()
    within: int = 5


@dataclass(frozen=True)
class Allowlists:
    phones: tuple[str, ...] = ()  # the school's own numbers, as written anywhere
    domains: tuple[str, ...] = ()  # web and email domains that are the school's own
    places: tuple[str, ...] = ()  # place names and addresses that are fine to post


@dataclass(frozen=True)
class Posting:
    """How the extension behaves around a post; sent to it in the hello reply."""

    confirm_account: bool = False  # ask "Posting as @handle (public)?" once a session
    logout_after_post: bool = True
    idle_logout_minutes: float = 10.0  # 0 turns idle logout off
    logout_on_lock: bool = True
    allow_warn_override: bool = True  # a teacher may post past a warning, with a reason
    allow_block_override: bool = False
    support_contact: str = "your school's IT lead"

    def to_json(self) -> dict[str, Any]:
        return {
            "confirm_account": self.confirm_account,
            "logout_after_post": self.logout_after_post,
            "idle_logout_minutes": self.idle_logout_minutes,
            "logout_on_lock": self.logout_on_lock,
            "allow_warn_override": self.allow_warn_override,
            "allow_block_override": self.allow_block_override,
            "support_contact": self.support_contact,
        }


# --- [photos]: opt-in face matching (docs/face-matching.md) ---
@dataclass(frozen=True)
class PhotoSettings:
    """Face matching against enrolled pupils who must never appear. Off by default:
    templates of children's faces are biometric data, so turning it on requires the
    date the school's data protection impact assessment (DPIA) was signed off."""

    matching: bool = False
    dpia_signed: date | None = None
    # Face-to-template distances (dlib's ResNet descriptor): under match_threshold
    # the post is blocked and the pupil named; under uncertain_threshold the teacher
    # is asked to confirm. Calibrated on real photos, see docs/face-matching.md.
    match_threshold: float = 0.45
    uncertain_threshold: float = 0.6


def _photos(raw: dict[str, Any], where: str, today: date | None = None) -> PhotoSettings:
    _only(raw, set(PhotoSettings.__dataclass_fields__), f"{where}: [photos]")
    defaults = PhotoSettings()
    matching = raw.get("matching", defaults.matching)
    if not isinstance(matching, bool):
        raise PolicyError(f"{where}: photos.matching must be true or false")
    signed = raw.get("dpia_signed")
    if signed is not None and (not isinstance(signed, date) or isinstance(signed, datetime)):
        raise PolicyError(
            f"{where}: photos.dpia_signed must be a date without quotes, e.g. 2026-09-14"
        )
    if matching and signed is None:
        raise PolicyError(
            f"{where}: photos.matching = true needs photos.dpia_signed, the date the school's "
            "data protection impact assessment for face matching was signed off "
            "(e.g. dpia_signed = 2026-09-14): face templates of children are biometric data"
        )
    if signed is not None and signed > (today or date.today()):
        raise PolicyError(
            f"{where}: photos.dpia_signed is {signed.isoformat()}, a date in the future; "
            "face matching can be turned on once the assessment has been signed off"
        )
    thresholds = {}
    for key in ("match_threshold", "uncertain_threshold"):
        value = raw.get(key, getattr(defaults, key))
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1.5:
            raise PolicyError(f"{where}: photos.{key} must be a number between 0 and 1.5")
        thresholds[key] = float(value)
    if thresholds["match_threshold"] > thresholds["uncertain_threshold"]:
        raise PolicyError(
            f"{where}: photos.match_threshold ({thresholds['match_threshold']}) must not be "
            f"above photos.uncertain_threshold ({thresholds['uncertain_threshold']})"
        )
    return PhotoSettings(matching=matching, dpia_signed=signed, **thresholds)


# --- end [photos] ---


REPOST_ALLOW = ("any", "listed", "none")


@dataclass(frozen=True)
class RepostSettings:
    """Whose posts the school may repost or quote ([reposts]). Whatever this says,
    the reposted text is checked like the school's own: once reposted, a parent's
    post naming a pupil is on the school's account."""

    allow: str = "any"  # "any", "listed" (the school's own accounts and `from`), "none"
    from_: tuple[str, ...] = ()  # handles, without @

    def allows(self, author: str | None, own: tuple[str, ...]) -> bool:
        if self.allow == "any":
            return True
        if self.allow == "none" or not author:
            return False
        wanted = author.removeprefix("@").casefold()
        return wanted in {h.casefold() for h in (*self.from_, *own)}


KEEP_TEXT = ("never", "overrides", "always")


@dataclass(frozen=True)
class AuditSettings:
    """What the audit keeps of a post's text ([audit]). By default only its SHA-256
    and the findings: the audit is read by more people than the post was meant for."""

    keep_text: str = "never"  # "never", "overrides" (text of overridden posts), "always"

    def keeps(self, kind: str) -> bool:
        """Whether a row of this kind keeps the post's text."""
        if self.keep_text == "always":
            return True
        return self.keep_text == "overrides" and kind == "override"


def _audit(raw: dict[str, Any], where: str) -> AuditSettings:
    _only(raw, {"keep_text"}, f"{where}: [audit]")
    keep = raw.get("keep_text", "never")
    if keep not in KEEP_TEXT:
        raise PolicyError(
            f'{where}: audit.keep_text must be one of "never", "overrides", "always" '
            f'(got {keep!r}); the default "never" keeps only a hash of each post'
        )
    return AuditSettings(keep_text=str(keep))


def _reposts(raw: dict[str, Any], where: str) -> RepostSettings:
    _only(raw, {"allow", "from"}, f"{where}: [reposts]")
    allow = raw.get("allow", "any")
    if allow not in REPOST_ALLOW:
        raise PolicyError(f"{where}: reposts.allow must be one of {', '.join(REPOST_ALLOW)}")
    handles = tuple(h.removeprefix("@") for h in _strings(raw, "from", f"{where}: reposts.from"))
    return RepostSettings(allow=str(allow), from_=handles)


@dataclass(frozen=True)
class Policy:
    school: str
    accounts: tuple[ApprovedAccount, ...] = ()
    exists: bool = False  # False until IT writes a policy file
    rules: Mapping[str, RuleOverride] = field(default_factory=dict)
    allow: Allowlists = field(default_factory=Allowlists)
    lexicon: tuple[LexiconEntry, ...] = ()
    word_names: tuple[str, ...] = ()  # extra first names that are also ordinary words
    # Staff as posts name them ("Mrs Okafor", "Daniel Whitcombe"), and extra titles.
    staff: tuple[str, ...] = ()
    staff_titles: tuple[str, ...] = ()
    # The school's MIS export headers, read into register columns at import.
    register_columns: Mapping[str, str] = field(default_factory=dict)
    posting: Posting = field(default_factory=Posting)
    # The [posting] keys the file sets itself; the extension lets IT's managed
    # browser settings fill in the rest.
    posting_set: frozenset[str] = frozenset()
    photos: PhotoSettings = field(default_factory=PhotoSettings)  # [photos]
    reposts: RepostSettings = field(default_factory=RepostSettings)  # [reposts]
    audit: AuditSettings = field(default_factory=AuditSettings)  # [audit]

    def summary(self) -> dict[str, Any]:
        return {
            "configured": self.exists,
            "accounts": [{"handle": a.handle, "visibility": a.visibility} for a in self.accounts],
        }

    def account(self, handle: str | None, user_id: str | None) -> ApprovedAccount | None:
        """The approved account this is. When the policy has the numeric id, only the
        id decides: it survives a renamed handle, and an account that takes the old
        handle (or a page whose id cannot be read) does not pass as the school's."""
        for account in self.accounts:
            if account.user_id:
                if user_id == account.user_id:
                    return account
            elif handle and account.handle.lower() == handle.lower():
                return account
        return None

    def needs_user_id(self, handle: str | None) -> bool:
        """Whether this handle is approved only together with an id we were not given."""
        return any(
            a.user_id and handle and a.handle.lower() == handle.lower() for a in self.accounts
        )


DEFAULT_SCHOOL = "Your school"


def load_policy(path: Path) -> Policy:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Policy(school=DEFAULT_SCHOOL)
    except OSError as exc:
        raise PolicyError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PolicyError(f"{path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path} is not valid TOML: {exc}") from None
    return parse_policy(data, str(path))


_TOP_LEVEL = {
    "school",
    "accounts",
    "rules",
    "allow",
    "lexicon",
    "names",
    "posting",
    "staff",
    "register",
    "photos",
    "reposts",
    "audit",
}


def parse_policy(data: dict[str, Any], where: str) -> Policy:
    unknown = sorted(set(data) - _TOP_LEVEL)
    if unknown:
        raise PolicyError(
            f"{where}: unknown setting(s) {', '.join(unknown)}; "
            f"expected only {', '.join(sorted(_TOP_LEVEL))}"
        )
    school_table = _table(data, "school", where)
    school = school_table.get("name", DEFAULT_SCHOOL)
    if not isinstance(school, str) or not school.strip():
        raise PolicyError(f"{where}: school.name must be a non-empty string")
    names = _table(data, "names", where)
    staff = _table(data, "staff", where)
    _only(staff, {"names", "titles"}, f"{where}: [staff]")
    return Policy(
        school=school.strip(),
        accounts=_accounts(data.get("accounts", []), where),
        exists=True,
        rules=_rules(_table(data, "rules", where), where),
        allow=_allowlists(_table(data, "allow", where), where),
        lexicon=_lexicon(data.get("lexicon", []), where),
        word_names=_strings(names, "word_names", f"{where}: names.word_names"),
        staff=_strings(staff, "names", f"{where}: staff.names"),
        staff_titles=_strings(staff, "titles", f"{where}: staff.titles"),
        register_columns=_register_columns(_table(data, "register", where), where),
        posting=_posting(_table(data, "posting", where), where),
        posting_set=frozenset(_table(data, "posting", where)),
        photos=_photos(_table(data, "photos", where), where),
        reposts=_reposts(_table(data, "reposts", where), where),
        audit=_audit(_table(data, "audit", where), where),
    )


def _only(table: dict[str, Any], keys: set[str], what: str) -> None:
    extra = set(table) - keys
    if extra:
        raise PolicyError(
            f"{what} has unknown setting(s) {', '.join(sorted(extra))}; "
            f"known: {', '.join(sorted(keys))}"
        )


def _register_columns(raw: dict[str, Any], where: str) -> dict[str, str]:
    """[register] columns = { "Legal Surname" = "last_name", ... }"""
    from tweetguard.stores.register_import.columns import mapping_problem

    _only(raw, {"columns"}, f"{where}: [register]")
    columns = raw.get("columns", {})
    if not isinstance(columns, dict):
        raise PolicyError(f'{where}: register.columns must be a table of "Header" = "column"')
    problem = mapping_problem(columns, f"{where}: register.columns")
    if problem:
        raise PolicyError(problem)
    return {str(k): str(v) for k, v in columns.items()}


def _posting(raw: dict[str, Any], where: str) -> Posting:
    defaults = Posting()
    values: dict[str, Any] = {}
    for key, value in raw.items():
        at = f"{where}: posting.{key}"
        if key not in Posting.__dataclass_fields__:
            known = ", ".join(defaults.to_json())
            raise PolicyError(f"{where}: [posting] has unknown setting {key!r}; known: {known}")
        default = getattr(defaults, key)
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise PolicyError(f"{at} must be true or false")
        elif isinstance(default, float):
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not 0 <= value <= 1440
            ):
                raise PolicyError(f"{at} must be a number of minutes from 0 (off) to 1440")
            value = float(value)
        elif not isinstance(value, str) or not value.strip():
            raise PolicyError(f"{at} must be a non-empty string")
        values[key] = value
    return Posting(**values)


def _table(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise PolicyError(f"{where}: [{key}] must be a table")
    return value


def _strings(table: dict[str, Any], key: str, what: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise PolicyError(f"{what} must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _accounts(raw: object, where: str) -> tuple[ApprovedAccount, ...]:
    if not isinstance(raw, list):
        raise PolicyError(f"{where}: accounts must be an array of tables ([[accounts]])")
    accounts = []
    for number, item in enumerate(raw, start=1):
        at = f"{where}: accounts #{number}"
        if not isinstance(item, dict):
            raise PolicyError(f"{at} must be a table")
        handle = item.get("handle")
        if not isinstance(handle, str) or not re.fullmatch(r"@?[A-Za-z0-9_]{1,15}", handle.strip()):
            raise PolicyError(f"{at}: handle must be an X handle (letters, digits, _; 1-15)")
        user_id = item.get("user_id")
        if user_id is not None and not (isinstance(user_id, str) and user_id.isdigit()):
            raise PolicyError(f'{at}: user_id must be a string of digits, e.g. "12345"')
        visibility = item.get("visibility", "public")
        if visibility not in VISIBILITIES:
            raise PolicyError(f"{at}: visibility must be one of {', '.join(VISIBILITIES)}")
        accounts.append(ApprovedAccount(handle.strip().lstrip("@"), user_id, visibility))
    return tuple(accounts)


def _rules(raw: dict[str, Any], where: str) -> dict[str, RuleOverride]:
    rules = {}
    for rule_id, setting in raw.items():
        at = f'{where}: [rules."{rule_id}"]'
        if not isinstance(setting, dict):
            raise PolicyError(f"{at} must be a table with enabled and/or severity")
        extra = set(setting) - {"enabled", "severity"}
        if extra:
            raise PolicyError(f"{at}: unknown setting(s) {', '.join(sorted(extra))}")
        enabled = setting.get("enabled")
        if enabled is not None and not isinstance(enabled, bool):
            raise PolicyError(f"{at}: enabled must be true or false")
        severity = setting.get("severity")
        if severity is not None and severity not in SEVERITIES:
            raise PolicyError(f"{at}: severity must be one of {', '.join(SEVERITIES)}")
        rules[rule_id] = RuleOverride(enabled=enabled, severity=severity)
    return rules


def _allowlists(raw: dict[str, Any], where: str) -> Allowlists:
    extra = set(raw) - {"phones", "domains", "places"}
    if extra:
        raise PolicyError(f"{where}: [allow] has unknown setting(s) {', '.join(sorted(extra))}")
    domains = _strings(raw, "domains", f"{where}: allow.domains")
    return Allowlists(
        phones=_strings(raw, "phones", f"{where}: allow.phones"),
        domains=tuple(d.lower().removeprefix("www.") for d in domains),
        places=_strings(raw, "places", f"{where}: allow.places"),
    )


def _lexicon(raw: object, where: str) -> tuple[LexiconEntry, ...]:
    if not isinstance(raw, list):
        raise PolicyError(f"{where}: lexicon must be an array of tables ([[lexicon]])")
    entries = []
    seen = set()
    for number, item in enumerate(raw, start=1):
        at = f"{where}: lexicon #{number}"
        if not isinstance(item, dict):
            raise PolicyError(f"{at} must be a table")
        entry_id = item.get("id")
        if not isinstance(entry_id, str) or not _LEXICON_ID.match(entry_id):
            raise PolicyError(f"{at}: id must be lowercase letters, digits and -, e.g. staff-names")
        if entry_id in seen:
            raise PolicyError(f"{at}: id {entry_id!r} is used twice")
        seen.add(entry_id)
        kind = item.get("match", "exact")
        if kind not in LEXICON_KINDS:
            raise PolicyError(f"{at}: match must be one of {', '.join(LEXICON_KINDS)}")
        words = _strings(item, "words", f"{at}: words")
        if not words:
            raise PolicyError(f"{at}: words must list at least one word")
        near = _strings(item, "near", f"{at}: near")
        if kind == "near" and not near:
            raise PolicyError(f'{at}: match = "near" needs near = [...] words')
        within = item.get("within", 5)
        if not isinstance(within, int) or isinstance(within, bool) or not 1 <= within <= 50:
            raise PolicyError(f"{at}: within must be a whole number from 1 to 50")
        severity = item.get("severity", "warn")
        if severity not in SEVERITIES:
            raise PolicyError(f"{at}: severity must be one of {', '.join(SEVERITIES)}")
        message = item.get("message")
        if not isinstance(message, str) or not message.strip():
            raise PolicyError(f"{at}: message must say what is wrong and how to fix it")
        entries.append(LexiconEntry(entry_id, kind, words, severity, message.strip(), near, within))
    return tuple(entries)
