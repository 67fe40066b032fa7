"""The `tweetguard` command: a thin face over the same services the browser uses.

Exit codes are a contract for IT scripts: `check` exits 0 allow, 1 warn, 2 block;
64 and up are usage and input errors (the BSD sysexits numbers).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

EXIT_ALLOW, EXIT_WARN, EXIT_BLOCK = 0, 1, 2
EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_SOFTWARE, EX_CANTCREAT, EX_CONFIG = 64, 65, 66, 70, 73, 78
VERDICT_EXIT = {"allow": EXIT_ALLOW, "warn": EXIT_WARN, "block": EXIT_BLOCK}
ERROR_EXIT = {
    "policy_invalid": EX_CONFIG,
    "register_unavailable": EX_SOFTWARE,
    "internal": EX_SOFTWARE,
}


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EX_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> Parser:
    parser = Parser(prog="tweetguard", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--home",
        metavar="DIR",
        help="data directory (default: $TWEETGUARD_HOME, else the platform's user data dir)",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    sub.add_parser("version", help="print the helper and protocol versions")

    host = sub.add_parser("host", help="run as the browser's native messaging host")
    host.add_argument(
        "--allow", action="append", metavar="ORIGIN", help="extension origin or add-on id to accept"
    )
    host.add_argument("origin", nargs="*", help="what the browser passes: the caller's origin")

    check = sub.add_parser("check", help="check a post and print the findings")
    source = check.add_mutually_exclusive_group()
    source.add_argument("--text", metavar="T", help="the post text")
    source.add_argument("--text-file", metavar="F", help="read the post text from a file")
    source.add_argument(
        "--batch", metavar="FILE.jsonl", help='one {"text": ...} object per line (needs --json)'
    )
    source.add_argument(
        "stdin", nargs="?", choices=["-"], help="read the post text from standard input"
    )
    check.add_argument("--account", metavar="HANDLE", help="the X account that would post it")
    check.add_argument("--user-id", metavar="ID", help="that account's numeric X id")
    check.add_argument("--json", action="store_true", help="print the protocol's reply object")

    consent = sub.add_parser("consent", help="manage the consent register")
    consent_sub = consent.add_subparsers(dest="consent_command", required=True, parser_class=Parser)
    imp = consent_sub.add_parser("import", help="replace the register with a CSV file")
    imp.add_argument("file", metavar="FILE.csv")
    imp.add_argument(
        "--strict", action="store_true", help="refuse the whole file if any row has a problem"
    )
    consent_sub.add_parser("list", help="list the pupils in the register")

    accounts = sub.add_parser("accounts", help="the X accounts approved for posting here")
    accounts_sub = accounts.add_subparsers(
        dest="accounts_command", required=True, parser_class=Parser
    )
    add = accounts_sub.add_parser("add", help="approve an account (or update one)")
    add.add_argument("handle", metavar="HANDLE")
    add.add_argument(
        "--user-id", metavar="ID", help="X's numeric id for the account (survives renames)"
    )
    add.add_argument("--visibility", choices=["public", "protected"], default="public")
    accounts_sub.add_parser("list", help="list the approved accounts")
    remove = accounts_sub.add_parser("remove", help="withdraw an account's approval")
    remove.add_argument("handle", metavar="HANDLE")

    rules = sub.add_parser("rules", help="list the rules with their severity and settings")
    rules.add_argument("--markdown", action="store_true", help="print the table for docs/rules.md")

    policy = sub.add_parser("policy", help="create or check the school's policy file")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True, parser_class=Parser)
    init = policy_sub.add_parser("init", help="write a commented example policy.toml")
    init.add_argument("--force", action="store_true", help="replace an existing policy file")
    policy_sub.add_parser("check", help="validate policy.toml and summarise it")

    for name, helptext in (
        ("install-host", "register the helper with this machine's browsers"),
        ("uninstall-host", "remove the helper's registration from browsers"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument(
            "--browser",
            action="append",
            metavar="NAME",
            help="chrome, chromium, edge, brave, vivaldi or firefox "
            "(repeatable; default: those installed)",
        )
        p.add_argument(
            "--user-data-dir",
            metavar="DIR",
            help="a Chromium profile started with --user-data-dir DIR",
        )
        p.add_argument(
            "--system",
            action="store_true",
            help="for every user of this machine (needs root/admin)",
        )
        if name == "install-host":
            p.add_argument(
                "--extension-id",
                action="append",
                metavar="ID",
                help="Chromium extension id to allow (default: tweetguard's)",
            )
            p.add_argument(
                "--firefox-id",
                metavar="ID",
                help="Firefox add-on id to allow (default: tweetguard's)",
            )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from tweetguard.stores.home import resolve_home

    home = resolve_home(args.home)
    command = args.command
    if command == "version":
        return cmd_version()
    if command == "host":
        from tweetguard.transport.native import run_host

        return run_host(home, args.origin, args.allow)
    if command == "check":
        return cmd_check(args, home)
    if command == "consent":
        if args.consent_command == "import":
            return cmd_consent_import(home, Path(args.file), strict=args.strict)
        return cmd_consent_list(home)
    if command == "accounts":
        return cmd_accounts(args, home)
    if command == "rules":
        return cmd_rules(home, markdown=args.markdown)
    if command == "policy":
        if args.policy_command == "init":
            return cmd_policy_init(home, force=args.force)
        return cmd_policy_check(home)
    if command in ("install-host", "uninstall-host"):
        return cmd_install_host(args, home, install=command == "install-host")
    raise AssertionError(command)


def cmd_version() -> int:
    from tweetguard import __version__
    from tweetguard.protocol.messages import PROTOCOL_VERSION

    print(f"tweetguard {__version__} (protocol {PROTOCOL_VERSION})")
    return 0


def _fail(code: int, message: str) -> int:
    print(f"tweetguard: {message}", file=sys.stderr)
    return code


def cmd_check(args: argparse.Namespace, home: Path) -> int:
    from tweetguard.checks.engine import Checker
    from tweetguard.protocol.handlers import Handler

    handler = Handler(Checker(home))
    if args.batch:
        if not args.json:
            return _fail(EX_USAGE, "--batch needs --json")
        return _check_batch(handler, Path(args.batch), account=args.account, user_id=args.user_id)
    if args.text is not None:
        text = args.text
    elif args.text_file is not None:
        try:
            text = Path(args.text_file).read_text(encoding="utf-8")
        except FileNotFoundError:
            return _fail(EX_NOINPUT, f"no such file: {args.text_file}")
        except (OSError, UnicodeDecodeError) as exc:
            return _fail(EX_DATAERR, f"cannot read {args.text_file} as UTF-8 text: {exc}")
    elif args.stdin == "-":
        try:
            text = sys.stdin.buffer.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            return _fail(EX_DATAERR, f"standard input is not UTF-8 text: {exc}")
    else:
        return _fail(
            EX_USAGE,
            "give the post with --text T, --text-file F, --batch FILE.jsonl or - for stdin",
        )
    request: dict[str, Any] = {"id": 1, "type": "check", "text": text}
    if args.account or args.user_id:
        request["account"] = {"handle": args.account, "user_id": args.user_id}
    reply = handler.handle(request)
    if args.json:
        print(json.dumps(reply, ensure_ascii=False))
    else:
        _print_human(reply)
    return _exit_for(reply)


def _exit_for(reply: dict[str, Any]) -> int:
    if reply.get("ok"):
        return VERDICT_EXIT[reply["verdict"]]
    return ERROR_EXIT.get(reply["error"]["code"], EX_DATAERR)


def _check_batch(handler: Any, path: Path, *, account: str | None, user_id: str | None) -> int:
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return _fail(EX_NOINPUT, f"no such file: {path}")
    except OSError as exc:
        return _fail(EX_NOINPUT, f"cannot read {path}: {exc.strerror}")
    worst = EXIT_ALLOW
    had_error = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except (ValueError, RecursionError):
            item = None
        if isinstance(item, dict):
            request = {"id": number, **item, "type": "check"}
            if (account or user_id) and "account" not in item:
                request["account"] = {"handle": account, "user_id": user_id}
            reply = handler.handle(request)
        else:
            reply = handler.handle_payload(line) if item is None else handler.handle(item)
            reply["id"] = number
        if reply.get("ok"):
            worst = max(worst, VERDICT_EXIT[reply["verdict"]])
        else:
            had_error = True
            print(
                f"tweetguard: line {number}: "
                + (reply["error"].get("detail") or reply["error"]["message"]),
                file=sys.stderr,
            )
        print(json.dumps(reply, ensure_ascii=False), flush=False)
    sys.stdout.flush()
    return EX_DATAERR if had_error else worst


_MARK = {"block": "BLOCK", "warn": "WARN ", "info": "INFO "}


def _print_human(reply: dict[str, Any]) -> None:
    if not reply.get("ok"):
        error = reply["error"]
        print(f"HELD: {error['message']}")
        if error.get("detail"):
            print(f"  ({error['detail']})")
        return
    length = reply["length"]
    findings = reply["findings"]
    print(
        f"{reply['verdict'].upper()}: {len(findings)} finding(s), "
        f"length {length['weighted']}/{length['max']}"
    )
    for finding in findings:
        print(f"  {_MARK[finding['severity']]} {finding['rule']}: {finding['message']}")
        if finding.get("fix"):
            print(f"         fix: replace with “{finding['fix']}”")


def cmd_consent_import(home: Path, path: Path, *, strict: bool) -> int:
    from tweetguard.stores.consent import ConsentRegister, RegisterRefused, parse_csv
    from tweetguard.stores.home import register_path

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return _fail(EX_NOINPUT, f"no such file: {path}")
    except OSError as exc:
        return _fail(EX_NOINPUT, f"cannot read {path}: {exc.strerror}")
    try:
        parsed = parse_csv(data)
    except RegisterRefused as exc:
        return _fail(EX_DATAERR, f"{path}: import refused, the register is unchanged: {exc}")
    for problem in parsed.problems:
        print(f"{path}:{problem.line}: {problem.message}", file=sys.stderr)
    if strict and parsed.problems:
        return _fail(
            EX_DATAERR,
            f"{path}: import refused (--strict): {len(parsed.problems)} problem(s); "
            "the register is unchanged",
        )
    register = ConsentRegister(register_path(home))
    try:
        summary = register.replace(parsed.pupils, source=str(path.absolute()))
    except OSError as exc:
        return _fail(EX_CANTCREAT, f"cannot write the register under {home}: {exc}")
    finally:
        register.close()
    skipped = sum(1 for p in parsed.problems if p.skipped)
    print(
        f"Imported {summary.pupils} pupil(s) into {register.path}"
        + (f"; {skipped} row(s) skipped" if skipped else "")
        + "."
    )
    # 1, not 65: the register did load; the listed rows need IT's attention.
    return 1 if parsed.problems else 0


def cmd_consent_list(home: Path) -> int:
    from tweetguard.stores.consent import ConsentRegister
    from tweetguard.stores.home import register_path

    register = ConsentRegister(register_path(home))
    try:
        summary = register.summary()
        for p in register.pupils():
            name = f"{p.first_name} {p.last_name}" + (
                f" ({p.preferred_name})" if p.preferred_name else ""
            )
            social = "yes" if p.social_media else "no"
            expiry = f" until {p.consent_expires}" if p.consent_expires else ""
            print(f"{name}\t{p.class_name or '-'}\tsocial media: {social}{expiry}")
    finally:
        register.close()
    print(
        f"{summary.pupils} pupil(s); imported {summary.imported_at or 'never'} "
        f"from {summary.source or '-'}",
        file=sys.stderr,
    )
    return 0


def cmd_install_host(args: argparse.Namespace, home: Path, *, install: bool) -> int:
    from tweetguard import identity
    from tweetguard.install import hosts

    browsers = args.browser or []
    unknown = [b for b in browsers if b not in hosts.BROWSERS]
    if unknown:
        return _fail(
            EX_USAGE,
            f"unknown browser(s) {', '.join(unknown)}; choose from {', '.join(hosts.BROWSERS)}",
        )
    user_data_dir = Path(args.user_data_dir).absolute() if args.user_data_dir else None
    if not browsers:
        browsers = ["chromium"] if user_data_dir else hosts.detect_browsers()
    if not browsers:
        print("No supported browser found; name one with --browser.", file=sys.stderr)
        return 0 if not install else EX_USAGE
    targets = hosts.targets(
        browsers, system=args.system, user_data_dir=user_data_dir, tweetguard_home=home
    )
    try:
        if not install:
            removed = hosts.uninstall(targets)
            for path in removed:
                print(f"removed {path}")
            if not removed:
                print("No tweetguard host manifest was installed there.")
            return 0
        allowed = [
            identity.chrome_origin(i) for i in (args.extension_id or [identity.CHROME_EXTENSION_ID])
        ]
        allowed.append(args.firefox_id or identity.FIREFOX_ADDON_ID)
        launcher = hosts.write_launcher(home, allowed)
        for path in hosts.install(targets, launcher, allowed):
            print(f"installed {path}")
    except PermissionError as exc:
        return _fail(EX_CANTCREAT, f"permission denied: {exc.filename} (use sudo for --system)")
    except OSError as exc:
        return _fail(EX_CANTCREAT, str(exc))
    print(f"The browser will start {launcher} (data directory {home}).")
    return 0


def cmd_rules(home: Path, *, markdown: bool) -> int:
    from tweetguard.checks.engine import all_rules, effective
    from tweetguard.stores.home import policy_path
    from tweetguard.stores.policy import Policy, PolicyError, load_policy

    try:
        policy = load_policy(policy_path(home))
    except PolicyError as exc:
        print(f"tweetguard: {exc}; listing the built-in rules only", file=sys.stderr)
        policy = Policy(school="")
    rows = []
    for rule in all_rules(policy):
        enabled, severity = effective(rule, policy)
        scope = "public accounts" if rule.public_only else "all accounts"
        rows.append((rule.id, severity.label, "on" if enabled else "off", scope, rule.description))
    if markdown:
        print("| rule | severity | default | applies to | what it catches |")
        print("|---|---|---|---|---|")
        for rule_id, level, state, scope, description in rows:
            print(f"| `{rule_id}` | {level} | {state} | {scope} | {description} |")
        return 0
    width = max(len(r[0]) for r in rows)
    for rule_id, level, state, scope, description in rows:
        print(f"{rule_id:<{width}}  {level:<5}  {state:<3}  {scope:<15}  {description}")
    return 0


def cmd_policy_init(home: Path, *, force: bool) -> int:
    from importlib import resources

    from tweetguard.stores.home import policy_path

    path = policy_path(home)
    if path.exists() and not force:
        return _fail(EX_CANTCREAT, f"{path} exists; edit it, or use --force to replace it")
    example = (
        resources.files("tweetguard.stores").joinpath("policy.example.toml").read_text("utf-8")
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(example, encoding="utf-8")
    except OSError as exc:
        return _fail(EX_CANTCREAT, f"cannot write {path}: {exc}")
    print(f"Wrote {path}. Edit the school name, accounts and allowlists, then run")
    print("`tweetguard policy check`.")
    return 0


def cmd_policy_check(home: Path) -> int:
    from tweetguard.checks.engine import validate
    from tweetguard.stores.home import policy_path
    from tweetguard.stores.policy import PolicyError, load_policy

    path = policy_path(home)
    try:
        policy = load_policy(path)
        validate(policy)
    except PolicyError as exc:
        print(f"tweetguard: policy is broken, so every post is held: {exc}", file=sys.stderr)
        return EX_CONFIG
    if not policy.exists:
        print(
            f"No policy file at {path}; built-in defaults apply. "
            "`tweetguard policy init` makes one."
        )
        return 0
    print(f"{path} is valid.")
    print(f"  school:   {policy.school}")
    accounts = ", ".join(f"@{a.handle} ({a.visibility})" for a in policy.accounts) or "none"
    print(f"  accounts: {accounts}")
    print(
        f"  allowed:  {len(policy.allow.phones)} phone(s), {len(policy.allow.domains)} domain(s), "
        f"{len(policy.allow.places)} place(s)"
    )
    print(f"  rules:    {len(policy.rules)} setting(s); lexicon: {len(policy.lexicon)} entr(y/ies)")
    return 0


def cmd_accounts(args: argparse.Namespace, home: Path) -> int:
    from tweetguard.stores.home import policy_path
    from tweetguard.stores.policy import PolicyError, load_policy
    from tweetguard.stores.policy_edit import add_account, remove_account

    path = policy_path(home)
    try:
        if args.accounts_command == "add":
            new = add_account(path, args.handle, args.user_id, args.visibility)
            verb = "Approved" if new else "Updated"
            print(f"{verb} @{args.handle.lstrip('@')} ({args.visibility}) in {path}.")
            return 0
        if args.accounts_command == "remove":
            if remove_account(path, args.handle):
                print(f"Removed @{args.handle.lstrip('@')} from {path}.")
                return 0
            return _fail(EX_DATAERR, f"@{args.handle.lstrip('@')} is not an approved account")
        policy = load_policy(path)
    except PolicyError as exc:
        return _fail(EX_CONFIG, str(exc))
    if not policy.accounts:
        print("No account is approved yet, so every post is held. Add one with:")
        print("  tweetguard accounts add HANDLE --user-id ID --visibility public")
        return 0
    for account in policy.accounts:
        user_id = account.user_id or "(no user id)"
        print(f"@{account.handle}\t{user_id}\t{account.visibility}")
    return 0
