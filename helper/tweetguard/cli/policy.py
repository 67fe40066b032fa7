"""`tweetguard rules` and `tweetguard policy init|check`: the school's rules and policy file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tweetguard.cli.exits import EX_CANTCREAT, EX_CONFIG, fail


def add(sub: Any, parser_class: type) -> None:
    rules = sub.add_parser("rules", help="list the rules with their severity and settings")
    rules.add_argument("--markdown", action="store_true", help="print the table for docs/rules.md")

    policy = sub.add_parser("policy", help="create or check the school's policy file")
    policy_sub = policy.add_subparsers(
        dest="policy_command", required=True, parser_class=parser_class
    )
    init = policy_sub.add_parser("init", help="write a commented example policy.toml")
    init.add_argument("--force", action="store_true", help="replace an existing policy file")
    policy_sub.add_parser("check", help="validate policy.toml and summarise it")


def run(args: argparse.Namespace, home: Path) -> int:
    if args.command == "rules":
        return cmd_rules(home, markdown=args.markdown)
    if args.policy_command == "init":
        return cmd_policy_init(home, force=args.force)
    return cmd_policy_check(home)


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
        return fail(EX_CANTCREAT, f"{path} exists; edit it, or use --force to replace it")
    example = (
        resources.files("tweetguard.stores").joinpath("policy.example.toml").read_text("utf-8")
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(example, encoding="utf-8")
    except OSError as exc:
        return fail(EX_CANTCREAT, f"cannot write {path}: {exc}")
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
    print(
        f"  staff:    {len(policy.staff)} name(s), {len(policy.staff_titles)} extra title(s); "
        f"register columns mapped: {len(policy.register_columns)}"
    )
    reposts = policy.reposts
    listed = ", ".join(f"@{h}" for h in reposts.from_) or "only the school's own accounts"
    print(
        "  reposts:  "
        + {
            "any": "anyone's posts (their text is checked)",
            "listed": f"listed accounts only: {listed}",
            "none": "none (no reposts or quotes)",
        }[reposts.allow]
    )
    photos = policy.photos
    if photos.matching:
        print(
            f"  photos:   face matching ON (DPIA signed {photos.dpia_signed}); thresholds "
            f"{photos.match_threshold} match, {photos.uncertain_threshold} ask the teacher"
        )
    else:
        print("  photos:   face matching off (faces are counted; teachers say who is pictured)")
    kept = {
        "never": "only a hash of each post's text (and the findings)",
        "overrides": "the text of posts that went out past a warning; others as a hash",
        "always": "the text of every check at posting, override and post",
    }[policy.audit.keep_text]
    print(f"  audit:    keep_text = {policy.audit.keep_text!r}: keeps {kept}")
    return 0
