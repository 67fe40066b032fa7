"""The school's server, when this machine is enrolled: reachable, and still
accepting this device (GET /api/v1/status with the device credential, the call
the helper's own sync makes first)."""

from __future__ import annotations

from tweetguard.doctor.model import Check, Context, Result, fail, ok


def checks(ctx: Context) -> list[Check]:
    return [Check("server.reachable", "School server", reachable)]


def reachable(ctx: Context) -> Result:
    from tweetguard.sync.client import BadReply, Refused, ServerClient, SyncError
    from tweetguard.sync.state import EnrolmentError, load_credential, load_enrolment

    again = (
        "run `tweetguard unenrol`, then `tweetguard enrol https://SERVER --code CODE` "
        "with a new code from IT"
    )
    try:
        enrolment = load_enrolment(ctx.home)
        if enrolment is None:
            return ok("not enrolled with a school server (policy and register are local)")
        credential = load_credential(ctx.home)
    except EnrolmentError as exc:
        return fail(str(exc), again)
    if credential is None:
        return fail(
            f"enrolled with {enrolment.url}, but the device credential is not in "
            "this machine's secret store",
            again,
        )
    try:
        client = ServerClient(
            enrolment.url,
            credential=credential,
            ca_file=enrolment.ca_path,
            timeout=ctx.server_timeout,
        )
        status = client.status()
    except Refused as exc:
        return fail(f"{enrolment.url} refused this device ({exc.code}: {exc})", again)
    except BadReply as exc:
        return fail(str(exc), "check the address in server.toml with IT")
    except SyncError as exc:  # Unreachable, or a CA file that cannot be used
        return fail(
            str(exc),
            "check the network and that the server runs (the helper keeps working on its "
            "last policy and register meanwhile)",
        )
    except ValueError as exc:  # an address check_url refuses
        return fail(str(exc), again)
    school = status.get("school", {}).get("name") or enrolment.school
    return ok(f"{enrolment.url} answers for {school} (device {enrolment.device_id})")
