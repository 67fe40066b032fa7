"""The help page: what staff do on x.com when something goes wrong, and how the
school's profile should look. Static guidance, kept in one template."""

from __future__ import annotations

from flask import Blueprint, render_template

from tweetguard.console.auth import login_required

bp = Blueprint("help", __name__)


@bp.route("/")
@login_required
def index() -> str:
    return render_template("help.html")
