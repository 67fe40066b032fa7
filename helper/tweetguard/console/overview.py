"""The Overview page."""

from __future__ import annotations

from flask import Blueprint, render_template_string

from tweetguard.console.auth import login_required

bp = Blueprint("overview", __name__)


@bp.route("/")
@login_required
def index() -> str:
    return render_template_string(
        '{% extends "base.html" %}{% block title %}Overview{% endblock %}'
        "{% block content %}<h1>Overview</h1>{% endblock %}"
    )
