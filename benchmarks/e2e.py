"""End-to-end decoding speed: unconstrained vs constrained (JSON schema, regex, CFG) on a real model.

For each workload the embedded SmolLM2-135M-Instruct (or ``--model``) generates greedily on CPU
with the structgen decoding loop (``--device cuda`` for a GPU); reported per workload (median over ``--repeats`` runs):
output tokens, forward passes per output token (< 1 when jump-forward saves passes), TTFT,
time per output token (TPOT), tokens/s, mask time and the part of it not hidden behind the
forward pass, and the TPOT overhead versus the unconstrained run. Variants: jump-forward on/off
and mask/forward overlap on/off (``--variants``).

    python -m benchmarks.e2e --threads 1 --repeats 3
    structgen bench e2e -- --max-new-tokens 64
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Sequence

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS_DIR, JsonlWriter, progress  # noqa: E402
from benchmarks.stats import fmt, format_table  # noqa: E402

PERSON_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 40},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "email": {"type": "string", "maxLength": 60},
        "skills": {"type": "array", "items": {"type": "string", "maxLength": 30}, "maxItems": 4},
        "employed": {"type": "boolean"},
    },
    "required": ["name", "age", "email", "skills", "employed"],
    "additionalProperties": False,
}

ARITH_GRAMMAR = r"""
start: expr
expr: term (("+" | "-") term)*
term: factor (("*" | "/") factor)*
factor: NUMBER | "(" expr ")"
NUMBER: /[0-9]{1,4}/
"""

WORKLOADS: dict[str, dict[str, Any]] = {
    "unconstrained": {"prompt": "Write a short paragraph about the history of computing.", "kwargs": {}},
    "json_schema": {"prompt": "Invent a software engineer and describe them as JSON with the fields name, age, "
                              "email, skills and employed.", "kwargs": {"schema": PERSON_SCHEMA},
                    "min_tokens": 192},
    "regex": {"prompt": "List four dates from the 20th century, separated by commas, in ISO format.",
              "kwargs": {"regex": r"(19[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]), ){3}"
                                  r"19[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"}},
    "cfg": {"prompt": "Write a long arithmetic expression with parentheses that uses + - * and /.",
            "kwargs": {"grammar": ARITH_GRAMMAR}},
}

VARIANTS = {
    "default": {"jump_forward": True, "overlap": True},
    "no_jump": {"jump_forward": False, "overlap": True},
    "no_overlap": {"jump_forward": True, "overlap": False},
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="benchmarks.e2e", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="smollm2-135m-instruct", help="model name or local HF folder")
    p.add_argument("--workloads", default=",".join(WORKLOADS), help=f"comma-separated: {','.join(WORKLOADS)}")
    p.add_argument("--variants", default="default,no_jump,no_overlap", help=f"comma-separated: {','.join(VARIANTS)}")
    p.add_argument("--max-new-tokens", type=int, default=96,
                   help="token budget (the JSON workload gets at least 192 so the object can close)")
    p.add_argument("--repeats", type=int, default=3, help="runs per workload/variant (median reported)")
    p.add_argument("--device", default=None, help="torch device for the model, e.g. cuda (default: CPU)")
    p.add_argument("--dtype", default=None, choices=["float32", "bfloat16", "float16"],
                   help="model dtype (default: the checkpoint's)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    p.add_argument("--out", type=Path, default=None, help="JSONL output (default benchmarks/results/e2e.jsonl)")
    return p


def run_one(lm, workload: str, variant: str, max_new_tokens: int) -> dict[str, Any]:
    from structgen import api
    from structgen.errors import GenerationError

    spec = WORKLOADS[workload]
    opts = VARIANTS[variant]
    max_new_tokens = max(max_new_tokens, spec.get("min_tokens", 0)) if max_new_tokens > 8 else max_new_tokens
    t0 = time.perf_counter()
    try:
        out = api.generate(lm, spec["prompt"], max_new_tokens=max_new_tokens, details=True, **spec["kwargs"], **opts)
        stats, error = out.stats, None
    except GenerationError as exc:
        stats, error = None, str(exc)[:200]
    wall = time.perf_counter() - t0
    rec: dict[str, Any] = {"workload": workload, "variant": variant, "wall_s": wall, "error": error}
    if stats is not None:
        n = stats.output_tokens
        rec.update(stats.as_dict())
        rec["forward_per_token"] = stats.forward_passes / max(n, 1)
        rec["tokens_per_s"] = n / stats.total_s if stats.total_s > 0 else None
    return rec


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from structgen.generation.models import load_model

    workloads = [w for w in args.workloads.split(",") if w]
    variants = [v for v in args.variants.split(",") if v]
    for w in workloads:
        if w not in WORKLOADS:
            raise SystemExit(f"unknown workload {w!r}")
    for v in variants:
        if v not in VARIANTS:
            raise SystemExit(f"unknown variant {v!r}")
    t0 = time.perf_counter()
    lm = load_model(args.model, device=args.device, dtype=getattr(torch, args.dtype) if args.dtype else None)
    print(f"model {lm.name}: loaded in {time.perf_counter() - t0:.1f} s; torch threads {torch.get_num_threads()}",
          file=sys.stderr)
    # Warm-up: compile every constraint and JIT the kernels outside the timed runs.
    for w in progress(workloads, desc="warm-up"):
        run_one(lm, w, "default", 4)
    out_path = args.out or RESULTS_DIR / "e2e.jsonl"
    jobs = [(w, v) for w in workloads for v in (variants if w != "unconstrained" else ["default"])]
    records: dict[tuple[str, str], list[dict]] = {}
    with JsonlWriter(out_path) as writer:
        for w, v in progress(jobs, desc="e2e"):
            for rep in range(args.repeats):
                rec = run_one(lm, w, v, args.max_new_tokens)
                rec["repeat"] = rep
                writer.write(rec)
                records.setdefault((w, v), []).append(rec)

    def med(recs: list[dict], key: str):
        vals = [r[key] for r in recs if r.get(key) is not None]
        return statistics.median(vals) if vals else None

    base_tpot = med(records.get(("unconstrained", "default"), []), "time_per_output_token_s")
    rows = []
    for (w, v), recs in records.items():
        tpot = med(recs, "time_per_output_token_s")
        errors = sum(1 for r in recs if r["error"])
        rows.append([w, v, med(recs, "output_tokens"), med(recs, "forward_passes"), med(recs, "forward_per_token"),
                     med(recs, "forced_tokens"), None if med(recs, "ttft_s") is None else med(recs, "ttft_s") * 1e3,
                     None if tpot is None else tpot * 1e3, med(recs, "tokens_per_s"),
                     None if med(recs, "mask_s") is None else med(recs, "mask_s") * 1e3,
                     None if med(recs, "mask_wait_s") is None else med(recs, "mask_wait_s") * 1e3,
                     "-" if tpot is None or not base_tpot else f"{fmt(tpot / base_tpot)}x", errors])
    headers = ["workload", "variant", "tokens", "forwards", "fwd/token", "forced", "ttft_ms", "tpot_ms",
               "tok/s", "mask_ms", "mask_wait_ms", "tpot_vs_free", "errors"]
    print(format_table(headers, rows, title=f"end-to-end decoding, {lm.name}, {lm.device}, "
                                             f"{torch.get_num_threads()} threads, median of {args.repeats}"))
    print(f"\nrecords: {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
