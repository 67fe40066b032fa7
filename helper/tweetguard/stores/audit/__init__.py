"""The tamper-evident audit log: what was checked, overridden, posted and changed.

One SQLite file in WAL mode. Each row carries the hash of the one before it, and a
one-row `head` table (last seq, last hash) is updated in the same transaction, so an
edited, deleted, reordered or cut-off row is found by `verify()`. What the chain
cannot catch (a rewrite of the whole file with a consistent head) is said in
docs/audit.md: the answer there is a copy kept elsewhere.

The package, one job a module: `model` (the row, the columns, the hash), `log` (one
file: append, read, verify, checkpoint), `location` (where this user writes, which
files are read, all of them merged), `export` (CSV, JSON lines), `migrate` (the old
events.jsonl). Import from here: `from tweetguard.stores.audit import X`.

Readers: `merged(home, query) -> Merged(rows, broken)` reads every source; a file
that cannot be read (a damaged cell, another `rows` table, not SQLite at all) is
skipped and listed in `broken` as `BrokenSource(source, path, problem)` with a
one-line problem, so a page can show the other rows and say which file is broken.
`merged_rows(home, query)` is `merged(...).rows`. `AuditLog.rows()` and
`last_seq()` raise AuditError naming the file and row; `verify()` names the first
bad row, an unreadable one included. A per-user source is labelled by its file's
owner, `user:<owner>`; a file named for someone else gets
` (suspicious: the file is named <name>)` after it.

Writers outside the helper (CLI, console, X API): `record_change(home, kind, by=...,
detail=..., policy_file=..., account=..., account_id=...) -> AuditRow | None` opens,
appends and closes, and never raises for an unwritable audit (None, logged).
`audit_verdict("allow") == "ok"`: the one mapping from a check's verdict to the audit's.
"""

from tweetguard.stores.audit.export import EXPORT_COLUMNS, export
from tweetguard.stores.audit.location import (
    AUDIT_FILE,
    PER_USER_DIR,
    AuditLocation,
    BrokenSource,
    Merged,
    audit_location,
    audit_sources,
    merged,
    merged_rows,
    open_audit,
    record_change,
)
from tweetguard.stores.audit.log import (
    BUSY_TIMEOUT_SECONDS,
    AuditLog,
    last_policy_sha,
    note_policy,
)
from tweetguard.stores.audit.migrate import EVENTS_FILE, migrate_events, migrate_pending
from tweetguard.stores.audit.model import (
    COLUMNS,
    KINDS,
    AuditError,
    AuditQuery,
    AuditRow,
    Verification,
    audit_verdict,
    current_user,
    device,
    format_time,
    now,
    row_hash,
    sha256_text,
)

# Looked up here at each append (log._identity): a script that stages other devices
# replaces these two.
_device = device
_user = current_user

__all__ = [
    "AUDIT_FILE",
    "BUSY_TIMEOUT_SECONDS",
    "COLUMNS",
    "EVENTS_FILE",
    "EXPORT_COLUMNS",
    "KINDS",
    "PER_USER_DIR",
    "AuditError",
    "AuditLocation",
    "AuditLog",
    "AuditQuery",
    "AuditRow",
    "BrokenSource",
    "Merged",
    "Verification",
    "audit_location",
    "audit_sources",
    "audit_verdict",
    "current_user",
    "export",
    "format_time",
    "last_policy_sha",
    "merged",
    "merged_rows",
    "migrate_events",
    "migrate_pending",
    "note_policy",
    "now",
    "open_audit",
    "record_change",
    "row_hash",
    "sha256_text",
]
