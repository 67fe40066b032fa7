"""The Consent register page."""

from __future__ import annotations

from flask import Blueprint, render_template_string

from tweetguard.console.auth import login_required

bp = Blueprint("register", __name__)


@bp.route("/")
@login_required
def index() -> str:
    return render_template_string(
        '{% extends "base.html" %}{% block title %}Consent register{% endblock %}'
        "{% block content %}<h1>Consent register</h1>{% endblock %}"
    )
