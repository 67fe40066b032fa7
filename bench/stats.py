"""Percentiles for the benchmarks' printouts (nearest rank, no interpolation)."""

from __future__ import annotations


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]
