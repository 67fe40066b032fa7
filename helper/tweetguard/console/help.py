"""The help page: what staff do on x.com when something goes wrong, and how the
school's profile should look. Static guidance, kept in one template, served as is
by the school console and the server (console/site.py says who may open it)."""

from __future__ import annotations

from flask import Blueprint, render_template

from tweetguard.console.site import HELP, page

bp = Blueprint("help", __name__)


@bp.route("/")
@page(HELP)
def index() -> str:
    return render_template("help.html")
