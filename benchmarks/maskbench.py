"""MaskBench: per-token mask speed and correctness over real-world JSON Schemas, engine by engine.

For every schema and engine (engine by engine, each engine in its own pool of worker processes
that load only that engine; each (schema, engine) pair runs in a worker with a timeout and an
address-space cap; workers are reused until one times out or dies): compile
(TTFM, µs: compile + first mask), then teacher-force every test instance token by token, timing
each mask fill (TBM, µs per token); see :mod:`benchmarks.maskbench_eval` for the exact rules.
Outcomes: passing, compile error, validation error (a valid instance rejected), invalidation error
(an invalid instance accepted), timeout, crash.

Prints: the MaskBench table per engine (outcome counts, TBM and TTFM percentiles with ratios to
structgen), an apples-to-apples table over the schemas every engine passed, and passing rates per
category. Writes one JSONL record per (schema, engine) plus a summary record; the workers' stderr (engines'
warnings) goes to ``<out>.workers.log``.

    python -m benchmarks.maskbench [--data DIR] [--engines structgen,llguidance,xgrammar,outlines]
        [--sample N --seed S] [--limit N] [--jobs J] [--timeout SEC] [--mem-gb GB] [--out FILE]
        [--structgen-property-order {schema,any}]
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Sequence

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    JsonlWriter, default_out, force_single_thread, progress, resolve_tokenizer_path, tokenizer_label,
)
from benchmarks.stats import TBM_STATS, TTFM_STATS, fmt_ratio, format_table, ratio, summarize  # noqa: E402

OUTCOMES = ("passing", "compile_error", "validation_error", "invalidation_error", "timeout", "crash")
BASE = "structgen"


def default_data_dir() -> Path:
    from structgen._shared import shared_dir

    return shared_dir() / "data" / "maskbench"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="benchmarks.maskbench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tokenizer", default="llama3", help="fixture tokenizer name or HF tokenizer folder")
    p.add_argument("--data", type=Path, nargs="+", default=None,
                   help="MaskBench folder (default: fixtures data/maskbench), JSON Schema Test Suite folder "
                        "(e.g. data/json-schema-test-suite/tests/draft2020-12), or single files; several may be "
                        "given (--sample/--limit then apply to each)")
    p.add_argument("--engines", default="all", help="comma-separated subset of structgen,llguidance,xgrammar,outlines")
    p.add_argument("--sample", type=int, default=None, help="random sample of N schemas (MaskBench: N files)")
    p.add_argument("--seed", type=int, default=0, help="seed of --sample")
    p.add_argument("--limit", type=int, default=None, help="first N schemas (after --sample)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (each measures single-threaded)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per (schema, engine): compile + all tests")
    p.add_argument("--mem-gb", type=float, default=8.0, help="address-space cap per worker in GiB (0 = none)")
    p.add_argument("--out", type=Path, default=None, help="JSONL output (default benchmarks/results/...)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--structgen-property-order", choices=("schema", "any"), default="schema",
                   help="structgen's JSON Schema property_order: listed properties in schema order (default) or in "
                        "any order (exact; objects with too many listed properties are compile errors)")
    p.add_argument("--from-jsonl", type=Path, nargs="+", default=None, metavar="FILE",
                   help="run nothing: print the tables from earlier runs' JSONL files (e.g. one run per engine)")
    return p


def records_from_jsonl(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """Schema records of earlier runs (later files win for a repeated (schema, engine) pair)."""
    import json

    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                if rec.get("type") == "schema":
                    by_key[(rec["id"], rec["engine"])] = rec
    return list(by_key.values())


# --------------------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------------------
def run_maskbench(items, engine_names: Sequence[str], *, tokenizer: str, jobs: int, timeout: float,
                  mem_gb: float, writer: JsonlWriter | None, show_progress: bool = True,
                  worker_log: Path | None = None
                  ) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, Any]]:
    """Run every (item, engine) pair in isolated workers; returns (records, unavailable engines, worker info).

    Engine-major: each engine gets its own worker pool whose processes load only that engine, and
    runs every item before the next engine starts. Workers that host one engine keep that
    engine's caches warm the way a serving process does; workers shared by all engines would run
    the other engines' compiles (seconds of memory traffic for some) between two tasks of one engine,
    and restart whenever any engine times out.
    """
    from benchmarks.worker_pool import WorkerPool

    mem = int(mem_gb * (1 << 30)) if mem_gb and mem_gb > 0 else None
    records: list[dict[str, Any]] = []
    unavailable: dict[str, str] = {}
    memory_kib: dict[str, Any] = {}
    restarts = retries = 0
    bar = progress(total=len(items) * len(engine_names), desc="maskbench", unit="task", disable=not show_progress)
    try:
        for eng in engine_names:
            tasks = [{"engine": eng, "item": it.to_task()} for it in items]
            pool = WorkerPool("benchmarks.maskbench_eval:init_worker", (tokenizer, [eng]),
                              "benchmarks.maskbench_eval:run_task", jobs=jobs, timeout=timeout,
                              mem_limit_bytes=mem, stderr_path=worker_log)
            for idx, res in pool.run(tasks):
                item = tasks[idx]["item"]
                if res.get("outcome") == "unavailable":
                    unavailable[eng] = res.get("error", "")
                else:
                    rec = {"type": "schema", "id": item["id"], "category": item["category"], "engine": eng,
                           "n_tests": len(item["tests"]), **res}
                    records.append(rec)
                    if writer is not None:
                        writer.write(rec)
                if bar is not None:
                    bar.update(1)
            info = pool.ready_info if isinstance(pool.ready_info, dict) else {}
            unavailable.update(info.get("unavailable", {}))
            memory_kib[eng] = info.get("memory_kib")
            restarts += pool.restarts
            retries += pool.retries
    finally:
        if bar is not None:
            bar.close()
    return records, unavailable, {"memory_kib": memory_kib, "worker_restarts": restarts, "worker_retries": retries}


# --------------------------------------------------------------------------------------------------
# reporting
# --------------------------------------------------------------------------------------------------
def _tbm_values(records: Sequence[dict[str, Any]]) -> list[float]:
    return [v for r in records for v in r.get("tbm_us") or ()]


def _ttfm_values(records: Sequence[dict[str, Any]]) -> list[float]:
    return [r["ttfm_us"] for r in records if r.get("ttfm_us") is not None]


def summarize_engines(records: Sequence[dict[str, Any]], engines: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per engine: outcome counts, TBM and TTFM statistics (µs)."""
    out: dict[str, dict[str, Any]] = {}
    for eng in engines:
        recs = [r for r in records if r["engine"] == eng]
        counts = Counter(r["outcome"] for r in recs)
        out[eng] = {
            "schemas": len(recs),
            "outcomes": {o: counts.get(o, 0) for o in OUTCOMES},
            "tbm_us": summarize(_tbm_values(recs), TBM_STATS),
            "ttfm_us": summarize(_ttfm_values(recs), TTFM_STATS),
        }
    return out


def outcome_table(summary: dict[str, dict[str, Any]]) -> str:
    headers = ["engine", "schemas", "passing", "compile err", "validation err", "invalidation err", "timeout",
               "crash", "passing %"]
    rows = []
    for eng, s in summary.items():
        o = s["outcomes"]
        rows.append([eng, s["schemas"], *(o[k] for k in OUTCOMES),
                     f"{100.0 * o['passing'] / s['schemas']:.1f}" if s["schemas"] else "-"])
    return format_table(headers, rows, title="Outcomes per engine (schemas)")


def _stat_table(summary: dict[str, dict[str, Any]], key: str, stats: Sequence[str], title: str) -> str:
    headers = ["engine", "n", *stats, f"p50/{BASE}", f"avg/{BASE}"]
    base = summary.get(BASE, {}).get(key, {})
    rows = []
    for eng, s in summary.items():
        st = s[key]
        rows.append([eng, st["n"], *(st[k] for k in stats),
                     fmt_ratio(ratio(st["p50"], base.get("p50")) if eng != BASE else None),
                     fmt_ratio(ratio(st["avg"], base.get("avg")) if eng != BASE else None)])
    return format_table(headers, rows, title=title)


def apples_to_apples(records: Sequence[dict[str, Any]], engines: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """TBM/TTFM over the schemas every engine passed."""
    passed: dict[str, set[str]] = {e: {r["id"] for r in records if r["engine"] == e and r["outcome"] == "passing"}
                                   for e in engines}
    common = set.intersection(*passed.values()) if passed else set()
    summary = summarize_engines([r for r in records if r["id"] in common], engines)
    headers = ["engine", "schemas", "masks", "TBM avg", "TBM p50", "TBM p99", "TBM max", "TTFM avg", "TTFM p50",
               "TTFM p99", f"TBM p50/{BASE}", f"TTFM p50/{BASE}"]
    base = summary.get(BASE)
    rows = []
    for eng, s in summary.items():
        tb, tf = s["tbm_us"], s["ttfm_us"]
        rows.append([eng, s["schemas"], tb["n"], tb["avg"], tb["p50"], tb["p99"], tb["max"], tf["avg"], tf["p50"],
                     tf["p99"],
                     fmt_ratio(ratio(tb["p50"], base["tbm_us"]["p50"]) if base and eng != BASE else None),
                     fmt_ratio(ratio(tf["p50"], base["ttfm_us"]["p50"]) if base and eng != BASE else None)])
    title = f"Apples to apples: {len(common)} schemas passed by every engine ({', '.join(engines)}); µs"
    return format_table(headers, rows, title=title), {"schemas": sorted(common), "summary": summary}


def category_table(records: Sequence[dict[str, Any]], engines: Sequence[str]) -> str:
    per: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    ids: dict[str, set[str]] = defaultdict(set)
    for r in records:
        per[r["category"]][r["engine"]].append(r["outcome"])
        ids[r["category"]].add(r["id"])
    headers = ["category", "schemas", *(f"{e} pass %" for e in engines)]
    rows = []
    for cat in sorted(per):
        cells: list[Any] = [cat, len(ids[cat])]
        for e in engines:
            outs = per[cat].get(e, [])
            cells.append(f"{100.0 * outs.count('passing') / len(outs):.1f}" if outs else "-")
        rows.append(cells)
    return format_table(headers, rows, title="Passing rate per category (%)")


def report(records: Sequence[dict[str, Any]], engines: Sequence[str], title: str) -> tuple[str, dict[str, Any]]:
    """All the tables as text, and the summary dict written to the JSONL."""
    summary = summarize_engines(records, engines)
    a2a_text, a2a = apples_to_apples(records, engines)
    parts = [
        title,
        outcome_table(summary),
        _stat_table(summary, "tbm_us", TBM_STATS, "TBM: time per token mask, µs (all masks of compiled schemas)"),
        _stat_table(summary, "ttfm_us", TTFM_STATS, "TTFM: time to first mask (compile + first fill), µs"),
        a2a_text,
        category_table(records, engines),
    ]
    return "\n\n".join(parts), {"type": "summary", "engines": summary, "apples_to_apples": a2a}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    force_single_thread()
    from benchmarks.engines import ENGINE_NAMES, engine_installed, parse_engine_list
    from benchmarks.schema_data import load_items

    if args.from_jsonl:
        records = records_from_jsonl(args.from_jsonl)
        present = [e for e in ENGINE_NAMES if any(r["engine"] == e for r in records)]
        ids = {r["id"] for r in records}
        text, _ = report(records, present, f"MaskBench -- {len(ids)} schemas from "
                                           f"{', '.join(str(p) for p in args.from_jsonl)}")
        print(text)
        return 0

    import os

    from benchmarks.engines.structgen_engine import PROPERTY_ORDER_ENV

    os.environ[PROPERTY_ORDER_ENV] = args.structgen_property_order  # read by the structgen adapter in workers
    sources = args.data or [default_data_dir()]
    resolve_tokenizer_path(args.tokenizer)  # fail early on a bad tokenizer
    requested = parse_engine_list(args.engines)
    not_installed = {e: "package not installed" for e in requested if not engine_installed(e)}
    engines = [e for e in requested if e not in not_installed]
    items = [it for src in sources for it in load_items(src, sample=args.sample, seed=args.seed, limit=args.limit)]
    data = ", ".join(str(s) for s in sources)
    out = args.out or default_out("maskbench", args.tokenizer)
    started = time.time()
    worker_log = out.with_suffix(".workers.log")
    with JsonlWriter(out) as writer:
        worker_log.write_text("")
        records: list[dict[str, Any]] = []
        unavailable: dict[str, str] = {}
        worker_info: dict[str, Any] = {}
        if engines and items:
            records, unavailable, worker_info = run_maskbench(
                items, engines, tokenizer=args.tokenizer, jobs=args.jobs, timeout=args.timeout, mem_gb=args.mem_gb,
                writer=writer, show_progress=not args.no_progress, worker_log=worker_log)
        unavailable = {**not_installed, **unavailable}
        ran = [e for e in engines if e not in unavailable]
        title = (f"MaskBench -- {len(items)} schemas from {data}, tokenizer {tokenizer_label(args.tokenizer)}, "
                 f"engines {', '.join(ran) or '(none)'}; 1 thread per engine, timeout {args.timeout:g}s, "
                 f"memory cap {args.mem_gb:g} GiB; structgen property_order={args.structgen_property_order}")
        text, summary = report([r for r in records if r["engine"] in ran], ran, title)
        summary.update(structgen_property_order=args.structgen_property_order, unavailable=unavailable, n_items=len(items), data=str(data), tokenizer=args.tokenizer,
                       seconds=round(time.time() - started, 1), worker=worker_info)
        writer.write(summary)
    print(text)
    for eng, why in unavailable.items():
        print(f"unavailable: {eng}: {why}")
    rss = ", ".join(f"{eng} {m['VmHWM'] / 1024:.0f}" for eng, m in (worker_info.get("memory_kib") or {}).items()
                    if m and m.get("VmHWM"))
    print(f"\n{len(records)} results in {time.time() - started:.1f}s -> {out} (worker stderr: {worker_log}; "
          f"worker restarts {worker_info.get('worker_restarts', 0)}"
          + (f"; worker RSS after set-up, MiB: {rss}" if rss else "") + ")")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
