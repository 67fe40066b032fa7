"""The Audit page."""

from __future__ import annotations

from flask import Blueprint, render_template_string

from tweetguard.console.auth import login_required

bp = Blueprint("audit", __name__)


@bp.route("/")
@login_required
def index() -> str:
    return render_template_string(
        '{% extends "base.html" %}{% block title %}Audit{% endblock %}'
        "{% block content %}<h1>Audit</h1>{% endblock %}"
    )
