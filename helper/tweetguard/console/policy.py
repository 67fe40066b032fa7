"""The Policy page."""

from __future__ import annotations

from flask import Blueprint, render_template_string

from tweetguard.console.auth import login_required

bp = Blueprint("policy", __name__)


@bp.route("/")
@login_required
def index() -> str:
    return render_template_string(
        '{% extends "base.html" %}{% block title %}Policy{% endblock %}'
        "{% block content %}<h1>Policy</h1>{% endblock %}"
    )
