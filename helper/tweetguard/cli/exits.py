"""Exit codes and error output shared by every command.

Exit codes are a contract for IT scripts, documented in README: `check` exits
0 allow, 1 warn, 2 block; `consent import` 0 loaded, 1 loaded with problem rows;
64 and up are the BSD sysexits numbers for what went wrong.
"""

from __future__ import annotations

import sys

EXIT_ALLOW, EXIT_WARN, EXIT_BLOCK = 0, 1, 2
EX_USAGE = 64  # the command line is wrong
EX_DATAERR = 65  # the input is wrong: a file refused as a whole, a post that cannot be read
EX_NOINPUT = 66  # an input file, or the register to list, does not exist or cannot be opened
EX_UNAVAILABLE = 69  # X's API refused or cannot be reached; a port the console needs is taken
EX_SOFTWARE = 70  # a bug: the details are in the log
EX_CANTCREAT = 73  # cannot write: a read-only or missing data folder, a full disk
EX_IOERR = 74  # the consent register is damaged and cannot be read
EX_TEMPFAIL = 75  # X's API rate limit: try again after the time given
EX_NOPERM = 77  # the school's server refused this machine (enrolment, revoked, audit chain)
EX_CONFIG = 78  # the policy file is broken; no X API credentials stored

VERDICT_EXIT = {"allow": EXIT_ALLOW, "warn": EXIT_WARN, "block": EXIT_BLOCK}
# The protocol's error codes as exit codes; anything else about the input is 65.
ERROR_EXIT = {
    "policy_invalid": EX_CONFIG,
    "register_unavailable": EX_IOERR,
    "internal": EX_SOFTWARE,
}


def fail(code: int, message: str) -> int:
    print(f"tweetguard: {message}", file=sys.stderr)
    return code
