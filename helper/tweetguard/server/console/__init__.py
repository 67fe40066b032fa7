"""The server's pages: sign-in per user, trust and schools, users, devices, policy
layers, registers and audit, each route asking `tenancy.can` first."""

from __future__ import annotations

from pathlib import Path

from flask import Flask


def install(app: Flask, data_dir: Path) -> None:
    """Adds the pages to the server app (filled in after the device API)."""
