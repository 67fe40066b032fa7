"""What a shared console page asks of the app serving it: may this request open
it, what frames it (the product's name, the nav, who is signed in), and whose X
accounts it shows.

The school console (one data folder, one admin) and the server (many schools,
users with roles) serve the same blueprints (help, accounts) and the same base
template. Each app installs its own `Site` here, so a page is written once and
asks the app, never a data folder or a role table of its own: the console
answers from its folder and its single sign-in, the server from the database and
`tenancy.can` for the school in the path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from flask import Flask, current_app

if TYPE_CHECKING:
    from tweetguard.stores.audit import AuditRow
    from tweetguard.stores.policy import Policy
    from tweetguard.xapi.accounts import VerifyResult
    from tweetguard.xapi.client import XClient
    from tweetguard.xapi.sweep import SweepResult

F = TypeVar("F", bound=Callable[..., Any])

# What a shared page needs, in the site's terms: "help" (anyone signed in) and
# "accounts" (whoever may change the approved accounts and the X credentials).
HELP = "help"
ACCOUNTS = "accounts"


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    current: bool = False


@dataclass(frozen=True)
class Frame:
    """The header of a signed-in page."""

    items: tuple[NavItem, ...]
    logout_url: str
    user: str = ""  # who is signed in, when there is more than one admin


class Accounts(Protocol):
    """One set of approved X accounts and its X API credentials: the console's data
    folder, or one school on the server."""

    @property
    def key(self) -> str:
        """Whose accounts these are; the page's last verify is kept per key, so one
        school never sees another's results."""
        ...

    @property
    def home(self) -> Path:
        """The folder `stores/secrets.py` keeps the X API credentials under (the
        keyring entry's name includes it) and xapi keeps its state in."""
        ...

    @property
    def can_sweep(self) -> bool: ...

    @property
    def results_file(self) -> Path | None:
        """Where the page keeps the last verify and sweep for every process of the
        app to show; None: in this process's memory (one process serves them all)."""
        ...

    def policy(self) -> Policy:
        """The policy whose accounts are listed (raises PolicyError)."""
        ...

    def policy_url(self) -> str:
        """Where the accounts are added and removed."""
        ...

    def verify(self, client: XClient) -> VerifyResult:
        """xapi's verify, with every id it resolves stored where this policy lives."""
        ...

    def sweep(self, client: XClient, since: date | None) -> SweepResult: ...

    def outside(self, limit: int) -> list[AuditRow]:
        """Posts a sweep found made outside tweetguard, newest first."""
        ...

    def record(self, action: str, kind: str | None) -> None:
        """Notes a stored or deleted set of credentials (never the secret); raises
        AuditError when it cannot."""
        ...


class Site(Protocol):
    product: str  # "console" | "server", beside the brand and in every title

    def admit(self, need: str) -> Any | None:
        """None lets the request open a page needing `need`; otherwise the response
        to send instead (the sign-in page, or an abort)."""
        ...

    def frame(self) -> Frame | None:
        """The nav for a signed-in page; None: nobody signed in (no nav)."""
        ...

    def accounts(self) -> Accounts:
        """The accounts this request is about."""
        ...


def install_site(app: Flask, found: Site) -> None:
    app.extensions["tweetguard_site"] = found

    @app.context_processor
    def frame_context() -> dict[str, Any]:
        # A function, so only pages that draw the header ask for it.
        return {"site_product": found.product, "page_frame": found.frame}


def site() -> Site:
    return cast(Site, current_app.extensions["tweetguard_site"])


def page(need: str) -> Callable[[F], F]:
    """The view opens only when the site admits `need`."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            refused = site().admit(need)
            if refused is not None:
                return refused
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorate
