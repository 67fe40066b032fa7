"""The Accounts page (session C's X API work plugs in here)."""

# C replaces this: a placeholder so the console's nav and url_for("accounts.index")
# work before the X API page lands.

from __future__ import annotations

from flask import Blueprint, render_template_string

from tweetguard.console.auth import login_required

bp = Blueprint("accounts", __name__)


@bp.route("/")
@login_required
def index() -> str:
    return render_template_string(
        '{% extends "base.html" %}{% block title %}Accounts{% endblock %}'
        "{% block content %}<h1>Accounts</h1><p>Approved accounts are listed on the "
        "Policy page.</p>{% endblock %}"
    )
