"""Every audit file readable from here still verifies: no row altered, missing or
reordered since it was written (the hash chain of docs/audit.md)."""

from __future__ import annotations

from tweetguard.doctor.model import Check, Context, Result, fail, ok


def checks(ctx: Context) -> list[Check]:
    return [Check("audit.chain", "Audit chain", chain)]


def chain(ctx: Context) -> Result | None:
    if not ctx.home.is_dir():
        return None  # data.folder said it
    from tweetguard.stores.audit import AuditError, audit_sources

    sources = audit_sources(ctx.home)
    if not sources:
        return ok("no audit yet: the first check at posting creates it")
    bad: list[str] = []
    rows = 0
    for log in sources:
        try:
            result = log.verify()
        except (AuditError, OSError) as exc:
            bad.append(f"{log.source}: {exc}")
            continue
        finally:
            log.close()
        rows += result.rows
        if not result.ok:
            bad.append(f"{log.source} ({log.path}): {result.problem}")
    if bad:
        return fail(
            "; ".join(bad),
            "keep the file as it is for the investigation, compare it with an export or "
            "the server's copy (`tweetguard audit verify`, docs/audit.md)",
        )
    files = f"{len(sources)} audit file{'s' * (len(sources) != 1)}"
    return ok(f"{files}, {rows:,} row{'s' * (rows != 1)}, all intact")
