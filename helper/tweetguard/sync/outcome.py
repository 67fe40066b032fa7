"""What one step of a sync round did, in one line for people (`tweetguard sync
--once` prints them; the host logs them)."""

from __future__ import annotations

from dataclasses import dataclass

OK, PROBLEM, REFUSED = "ok", "problem", "refused"


@dataclass(frozen=True)
class Step:
    name: str  # "server", "policy", "register", "audit"
    line: str  # one line: what happened, and what to do when it went wrong
    outcome: str = OK  # OK; PROBLEM: this machine could not apply it; REFUSED: the server said no

    def __str__(self) -> str:
        return f"{self.name}: {self.line}"
