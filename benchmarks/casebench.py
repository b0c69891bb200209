"""Compile-and-walk measurement of one input on one engine, and the side-by-side table.

Shared by :mod:`benchmarks.regex_masks` and :mod:`benchmarks.cfg_masks`. For each (case, engine):

- compile time of the first compile in the process (``compile_ms``) and of a second compile of the
  same input (``recompile_ms``; engine-internal caches may make it cheap -- xgrammar's is disabled);
- TTFM (``ttfm_ms``): first compile + new matcher + first mask fill;
- mask-fill time per token while teacher-forcing the case's valid examples: the first pass (fresh
  compiled input, cold caches) separately from later passes (new matchers on the same compiled input);
- correctness: every valid example must be accepted and able to stop (else status ``rejected_valid``),
  every invalid example rejected or unable to stop (else ``accepted_invalid``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .engines.base import CompiledHandle, Engine, EngineCompileError, UnsupportedInputError
from .stats import fmt, fmt_ratio, format_table, geomean, ratio, summarize
from .walk import gc_paused, teacher_force

WALK_STATS = ("p50", "p99", "max", "avg")


@dataclass
class Case:
    """One benchmark input: ``name``, what to compile (engine-specific via ``compile``), valid ``examples``
    (teacher-forced and timed) and optional ``invalid_examples`` (checked once for rejection, not timed)."""

    name: str
    compile: Callable[[Engine], CompiledHandle]
    examples: Sequence[str]
    description: str = ""
    invalid_examples: Sequence[str] = ()


def measure_case(engine: Engine, case: Case, token_lists: Sequence[Sequence[int]], passes: int,
                 invalid_token_lists: Sequence[Sequence[int]] = ()) -> dict[str, Any]:
    """Compile ``case`` on ``engine`` and teacher-force ``token_lists`` ``passes`` times (then check that every
    sequence of ``invalid_token_lists`` is rejected or cannot stop); returns a JSON-able record."""
    rec: dict[str, Any] = {"case": case.name, "engine": engine.name, "status": "ok", "error": None,
                           "n_examples": len(token_lists), "n_tokens": sum(len(t) for t in token_lists)}
    clock = time.perf_counter_ns
    try:
        with gc_paused():
            t0 = clock()
            handle = case.compile(engine)
            t1 = clock()
            matcher = handle.new_matcher()
            bitmask = engine.allocate_bitmask()
            matcher.fill(bitmask)
            t2 = clock()
    except UnsupportedInputError as e:
        rec.update(status="unsupported", error=str(e))
        return rec
    except EngineCompileError as e:
        rec.update(status="compile_error", error=str(e))
        return rec
    rec["compile_ms"] = (t1 - t0) / 1e6
    rec["ttfm_ms"] = (t2 - t0) / 1e6
    try:
        with gc_paused():
            t0 = clock()
            case.compile(engine)
            rec["recompile_ms"] = (clock() - t0) / 1e6
    except EngineCompileError as e:  # pragma: no cover - compiled once already
        rec["recompile_ms"] = None
        rec["recompile_error"] = str(e)

    first: list[int] = []
    warm: list[int] = []
    commits: list[int] = []
    failures: list[dict[str, Any]] = []
    for p in range(passes):
        for i, tokens in enumerate(token_lists):
            with gc_paused():
                walk = teacher_force(handle.new_matcher(), bitmask, tokens, engine.stop_ids)
            (first if p == 0 else warm).extend(walk.fill_ns)
            commits.extend(walk.commit_ns)
            if p == 0 and not walk.accepted_and_stoppable:
                failures.append({"example": i, "accepted_tokens": walk.accepted, "n_tokens": walk.n_tokens,
                                 "rejected_by": walk.rejected_by, "can_stop": walk.can_stop})
    rec["first_pass_us"] = _us(summarize(first, WALK_STATS))
    rec["warm_us"] = _us(summarize(warm, WALK_STATS))
    rec["commit_us"] = _us(summarize(commits, WALK_STATS))
    invalid_accepted = []
    for i, tokens in enumerate(invalid_token_lists):
        if teacher_force(handle.new_matcher(), bitmask, tokens, engine.stop_ids).accepted_and_stoppable:
            invalid_accepted.append(i)
    rec["n_invalid"] = len(invalid_token_lists)
    rec["invalid_accepted"] = invalid_accepted
    if failures:
        rec.update(status="rejected_valid", error=f"{len(failures)} valid example(s) rejected", failures=failures)
    elif invalid_accepted:
        rec.update(status="accepted_invalid", error=f"{len(invalid_accepted)} invalid example(s) accepted")
    return rec


def _us(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: (v / 1000.0 if isinstance(v, float) and k != "n" else v) for k, v in stats.items()}


def _warm_or_first(rec: dict[str, Any], stat: str) -> float | None:
    stats = rec.get("warm_us") if (rec.get("warm_us") or {}).get("n") else rec.get("first_pass_us")
    return (stats or {}).get(stat)


def case_table(records: Sequence[dict[str, Any]], engine_names: Sequence[str], title: str,
               base: str = "structgen") -> str:
    """Side-by-side table: one row per (case, engine), ratios engine / ``base``; then geomean ratios per engine."""
    by_case: dict[str, dict[str, dict[str, Any]]] = {}
    for rec in records:
        by_case.setdefault(rec["case"], {})[rec["engine"]] = rec
    headers = ["case", "engine", "status", "valid ok", "invalid rej", "compile ms", "recompile ms", "TTFM ms", "tokens",
               "1st p50 us", "1st max us", "p50 us", "p99 us", "max us",
               f"compile/{base}", f"p50/{base}", f"p99/{base}"]
    rows = []
    ratios: dict[str, dict[str, list[float | None]]] = {e: {"c": [], "p50": [], "p99": []} for e in engine_names}
    for case_name, per_engine in by_case.items():
        base_rec = per_engine.get(base)
        base_ok = base_rec is not None and base_rec.get("status") == "ok"
        for eng in engine_names:
            rec = per_engine.get(eng)
            if rec is None:
                continue
            compiled = "compile_ms" in rec
            rc = r50 = r99 = None
            if base_ok and compiled and eng != base:
                rc = ratio(rec["compile_ms"], base_rec["compile_ms"])
                r50 = ratio(_warm_or_first(rec, "p50"), _warm_or_first(base_rec, "p50"))
                r99 = ratio(_warm_or_first(rec, "p99"), _warm_or_first(base_rec, "p99"))
                ratios[eng]["c"].append(rc)
                ratios[eng]["p50"].append(r50)
                ratios[eng]["p99"].append(r99)
            first = rec.get("first_pass_us") or {}
            valid_ok = (f"{rec['n_examples'] - len(rec.get('failures', []))}/{rec['n_examples']}"
                        if compiled else "-")
            invalid_rej = (f"{rec['n_invalid'] - len(rec['invalid_accepted'])}/{rec['n_invalid']}"
                           if compiled and rec.get("n_invalid") else "-")
            rows.append([
                case_name, eng, rec["status"], valid_ok, invalid_rej,
                rec.get("compile_ms"), rec.get("recompile_ms"), rec.get("ttfm_ms"),
                rec.get("n_tokens") if compiled else None,
                first.get("p50"), first.get("max"),
                _warm_or_first(rec, "p50") if compiled else None,
                _warm_or_first(rec, "p99") if compiled else None,
                _warm_or_first(rec, "max") if compiled else None,
                fmt_ratio(rc), fmt_ratio(r50), fmt_ratio(r99),
            ])
    for eng in engine_names:
        if eng == base or not any(v is not None for v in ratios[eng]["c"]):
            continue
        rows.append(["(geomean)", eng, "", "", "", None, None, None, None, None, None, None, None, None,
                     fmt_ratio(geomean(ratios[eng]["c"])), fmt_ratio(geomean(ratios[eng]["p50"])),
                     fmt_ratio(geomean(ratios[eng]["p99"]))])
    return format_table(headers, [[c if isinstance(c, str) else fmt(c) for c in r] for r in rows], title=title)


def error_lines(records: Sequence[dict[str, Any]]) -> list[str]:
    """One line per record that did not run cleanly (compile error, unsupported, valid example rejected)."""
    out = []
    for rec in records:
        if rec["status"] != "ok":
            msg = (rec.get("error") or "").splitlines()[0][:160] if rec.get("error") else ""
            out.append(f"  {rec['case']} / {rec['engine']}: {rec['status']}: {msg}")
    return out
