"""Percentiles, ratios and plain-text aligned tables for the benchmark reports."""
from __future__ import annotations

import math
import re
from typing import Any, Iterable, Sequence

import numpy as np

_NUMERIC = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?[x%]?$")

TBM_STATS = ("avg", "p25", "p50", "p75", "p90", "p95", "p99", "p99.9", "max")
TTFM_STATS = ("avg", "p50", "p75", "p90", "p99", "max")


def summarize(values: Iterable[float], stats: Sequence[str] = TBM_STATS) -> dict[str, float | int | None]:
    """``{"n": count, stat: value}`` for stats named ``avg``, ``min``, ``max`` or ``pNN[.N]``.

    Percentiles use linear interpolation (numpy's default). Empty input gives ``None`` values.
    """
    arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=np.float64)
    out: dict[str, float | int | None] = {"n": int(arr.size)}
    for stat in stats:
        if arr.size == 0:
            out[stat] = None
        elif stat == "avg":
            out[stat] = float(arr.mean())
        elif stat == "max":
            out[stat] = float(arr.max())
        elif stat == "min":
            out[stat] = float(arr.min())
        elif stat.startswith("p"):
            out[stat] = float(np.percentile(arr, float(stat[1:])))
        else:
            raise ValueError(f"unknown statistic {stat!r}")
    return out


def ratio(value: float | None, base: float | None) -> float | None:
    """``value / base``, or ``None`` when either is missing or the base is not positive."""
    if value is None or base is None or base <= 0:
        return None
    return value / base


def geomean(values: Iterable[float | None]) -> float | None:
    """Geometric mean of the positive values given (``None`` if there are none)."""
    logs = [math.log(v) for v in values if v is not None and v > 0]
    return math.exp(sum(logs) / len(logs)) if logs else None


def fmt(value: Any, digits: int = 3) -> str:
    """Human-friendly number: ``digits`` significant digits, integers as is, ``-`` for missing."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if value == 0:
            return "0"
        magnitude = abs(value)
        if magnitude >= 10 ** digits:
            return f"{value:.0f}"
        decimals = max(0, digits - 1 - int(math.floor(math.log10(magnitude))))
        return f"{value:.{decimals}f}"
    return str(value)


def fmt_ratio(value: float | None) -> str:
    """A ratio as ``1.23x`` (``-`` when missing)."""
    return "-" if value is None else f"{fmt(value)}x"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> str:
    """An aligned plain-text table; numeric-looking cells right-aligned, text left-aligned."""
    cells = [[c if isinstance(c, str) else fmt(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        if len(row) != len(headers):
            raise ValueError(f"row has {len(row)} cells, table has {len(headers)} columns: {row}")
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))

    def numeric(c: str) -> bool:
        return c == "-" or _NUMERIC.match(c) is not None

    right = [all(numeric(row[i]) for row in cells) and bool(cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right)).rstrip()

    out = []
    if title:
        out.append(title)
    out.append(line(headers))
    out.append("  ".join("-" * w for w in widths))
    out.extend(line(row) for row in cells)
    return "\n".join(out)
