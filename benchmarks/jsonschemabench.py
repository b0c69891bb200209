"""JSONSchemaBench end to end: compile each schema, generate under it with a real model, validate.

For each schema (a folder of JSON files in the maskbench/JSONSchemaBench layout — ``{"schema": ...}``
— or bare schema files), the model gets a chat prompt containing the schema and generates greedily
under the compiled constraint; the output is validated with ``jsonschema`` (format checking on).
Reported: compile coverage (schemas structgen compiles vs rejects as unsupported/invalid),
compliance (valid outputs / compiled schemas), GenerationError rate (``max_new_tokens`` reached
before the JSON could end), TTFT, time per output token constrained vs unconstrained (overhead
ratio, on the same prompt), forward passes saved by jump-forward. One JSONL record per schema
plus a summary table.

    structgen bench jsonschemabench --model smollm2-135m-instruct --data ../shared/data/maskbench --limit 20
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS_DIR, JsonlWriter, progress  # noqa: E402
from benchmarks.stats import fmt, format_table  # noqa: E402

SYSTEM_PROMPT = "You are a helpful assistant that answers only with JSON."
PROMPT_TEMPLATE = ("Generate a JSON value that satisfies the following JSON Schema. "
                   "Answer with the JSON only.\n\nSchema:\n{schema}")


def default_data_dir() -> Path:
    from structgen._shared import shared_dir

    return shared_dir() / "data" / "maskbench"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="benchmarks.jsonschemabench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="smollm2-135m-instruct", help="model name or local HF folder")
    p.add_argument("--data", type=Path, default=None, help="folder of schema JSON files (default: fixtures maskbench)")
    p.add_argument("--limit", type=int, default=20, help="number of schemas (0 = all)")
    p.add_argument("--filter", default="", help="only files whose name contains this substring")
    p.add_argument("--shuffle", action="store_true", help="sample schemas at random (with --seed)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--max-prompt-tokens", type=int, default=2048, help="skip schemas whose prompt is longer")
    p.add_argument("--baseline", type=int, default=16,
                   help="unconstrained tokens generated per schema for the TPOT baseline (0: skip)")
    p.add_argument("--no-jump-forward", action="store_true")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    p.add_argument("--out", type=Path, default=None, help="JSONL output (default benchmarks/results/jsonschemabench.jsonl)")
    return p


def iter_schemas(data: Path, limit: int, name_filter: str, shuffle: bool, seed: int) -> list[tuple[str, Any]]:
    """``(name, schema)`` pairs from a folder of JSON files (or one .json / .jsonl file)."""
    if data.is_file():
        files = [data]
    else:
        files = sorted(p for p in data.iterdir() if p.suffix in (".json", ".jsonl"))
    files = [f for f in files if name_filter in f.name]
    if shuffle:
        random.Random(seed).shuffle(files)
    out: list[tuple[str, Any]] = []
    for f in files:
        for name, schema in _read_schemas(f):
            out.append((name, schema))
            if limit and len(out) >= limit:
                return out
    return out


def _read_schemas(path: Path) -> Iterator[tuple[str, Any]]:
    if path.suffix == ".jsonl":
        for i, line in enumerate(path.read_text().splitlines()):
            if line.strip():
                obj = json.loads(line)
                yield f"{path.stem}:{i}", obj.get("schema", obj) if isinstance(obj, dict) else obj
        return
    obj = json.loads(path.read_text())
    if isinstance(obj, dict) and "schema" in obj and ("tests" in obj or "description" in obj or "meta" in obj):
        yield path.stem, obj["schema"]
    else:
        yield path.stem, obj


def run_schema(lm, name: str, schema: Any, args: argparse.Namespace) -> dict[str, Any]:
    import jsonschema

    from structgen.errors import GenerationError, StructgenError
    from structgen.generation.constraints import json_schema_constraint
    from structgen.generation.loop import decode
    from structgen.generation.sampling import SamplingParams
    from structgen.runtime.matcher import Matcher

    rec: dict[str, Any] = {"name": name, "status": None}
    prompt = PROMPT_TEMPLATE.format(schema=json.dumps(schema, ensure_ascii=False))
    ids = lm.encode_prompt(prompt, system_prompt=SYSTEM_PROMPT)
    rec["prompt_tokens"] = len(ids)
    if len(ids) > args.max_prompt_tokens:
        rec["status"] = "skipped_prompt_too_long"
        return rec
    t0 = time.perf_counter()
    try:
        constraint = json_schema_constraint(schema)
        compiled = constraint.compile(lm.vocab)
    except StructgenError as exc:
        rec.update(status="compile_error", error_type=type(exc).__name__, error=str(exc)[:300],
                   compile_s=time.perf_counter() - t0)
        return rec
    except Exception as exc:  # noqa: BLE001 - a crash is a finding, not a reason to stop the run
        rec.update(status="compile_crash", error_type=type(exc).__name__, error=str(exc)[:300],
                   compile_s=time.perf_counter() - t0)
        return rec
    rec["compile_s"] = time.perf_counter() - t0
    rec["states"] = int(compiled.automaton.n_states)
    sampling = SamplingParams()
    try:
        [res] = decode(lm, [ids], [Matcher(compiled)], max_new_tokens=args.max_new_tokens, sampling=sampling,
                       jump_forward=not args.no_jump_forward)
    except GenerationError as exc:
        rec.update(status="generation_error", error=str(exc)[:300])
        return rec
    s = res.stats
    rec.update(output=res.text, output_tokens=s.output_tokens, forward_passes=s.forward_passes,
               forced_tokens=s.forced_tokens, rejected_drafts=s.rejected_drafts,
               forward_passes_saved=s.forward_passes_saved, ttft_s=s.ttft_s,
               tpot_s=s.time_per_output_token_s if s.output_tokens > 1 else None, mask_s=s.mask_s,
               mask_wait_s=s.mask_wait_s, total_s=s.total_s)
    if not res.complete:
        rec["status"] = "generation_error"
        rec["error"] = f"max_new_tokens={args.max_new_tokens} reached before the JSON could end"
        return rec
    try:
        value = json.loads(res.text)
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        errors = list(cls(schema, format_checker=cls.FORMAT_CHECKER).iter_errors(value))
        rec["status"] = "valid" if not errors else "invalid"
        if errors:
            rec["error"] = errors[0].message[:300]
    except ValueError as exc:
        rec.update(status="invalid", error=f"not JSON: {exc}"[:300])
    if args.baseline:
        [free] = decode(lm, [ids], [None], max_new_tokens=args.baseline, sampling=sampling)
        fs = free.stats
        rec["free_tokens"] = fs.output_tokens
        rec["free_tpot_s"] = fs.time_per_output_token_s if fs.output_tokens > 1 else None
        if rec.get("tpot_s") and rec["free_tpot_s"]:
            rec["overhead"] = rec["tpot_s"] / rec["free_tpot_s"]
    return rec


def summarize(records: list[dict[str, Any]]) -> list[list[Any]]:
    n = len(records)
    by = lambda st: sum(1 for r in records if r["status"] == st)  # noqa: E731
    skipped = by("skipped_prompt_too_long")
    considered = n - skipped
    compiled = sum(1 for r in records if r["status"] in ("valid", "invalid", "generation_error"))
    valid, invalid, gen_err = by("valid"), by("invalid"), by("generation_error")

    def pct(a: int, b: int) -> str:
        return f"{100.0 * a / b:.1f}%" if b else "-"

    def med(key: str, scale: float = 1.0):
        vals = [r[key] for r in records if r.get(key) is not None]
        return statistics.median(vals) * scale if vals else None

    fwd = sum(r.get("forward_passes", 0) for r in records if r["status"] == "valid")
    saved = sum(r.get("forward_passes_saved", 0) for r in records if r["status"] == "valid")
    toks = sum(r.get("output_tokens", 0) for r in records if r["status"] == "valid")
    return [
        ["schemas", n],
        ["skipped (prompt too long)", skipped],
        ["compile coverage", f"{compiled}/{considered} ({pct(compiled, considered)})"],
        ["  compile errors", by("compile_error")],
        ["  compile crashes", by("compile_crash")],
        ["compliance (valid / compiled)", f"{valid}/{compiled} ({pct(valid, compiled)})"],
        ["invalid outputs (soundness bugs)", invalid],
        ["GenerationError (max_new_tokens)", f"{gen_err} ({pct(gen_err, compiled)})"],
        ["compile ms (median)", fmt(med("compile_s", 1e3))],
        ["TTFT ms (median)", fmt(med("ttft_s", 1e3))],
        ["TPOT ms constrained (median)", fmt(med("tpot_s", 1e3))],
        ["TPOT ms unconstrained (median)", fmt(med("free_tpot_s", 1e3))],
        ["TPOT overhead (median ratio)", fmt(med("overhead"))],
        ["output tokens (valid runs)", toks],
        ["forward passes (valid runs)", fwd],
        ["forward passes saved", f"{saved} ({pct(saved, saved + fwd)} of passes step-by-step would need)"],
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from structgen.generation.models import load_model

    data = args.data or default_data_dir()
    if not data.exists():
        print(f"error: data folder {data} not found (use --data)", file=sys.stderr)
        return 1
    schemas = iter_schemas(data, args.limit, args.filter, args.shuffle, args.seed)
    if not schemas:
        print(f"error: no schemas in {data} matching {args.filter!r}", file=sys.stderr)
        return 1
    lm = load_model(args.model)
    out_path = args.out or RESULTS_DIR / "jsonschemabench.jsonl"
    records = []
    with JsonlWriter(out_path) as writer:
        bar = progress(schemas, desc="jsonschemabench")
        for name, schema in bar:
            rec = run_schema(lm, name, schema, args)
            writer.write(rec)
            records.append(rec)
            if hasattr(bar, "set_postfix"):
                ok = sum(1 for r in records if r["status"] == "valid")
                bar.set_postfix(valid=ok, last=rec["status"])
    rows = summarize(records)
    print(format_table(["metric", "value"], [[k, str(v)] for k, v in rows],
                       title=f"JSONSchemaBench end to end: {lm.name}, {data.name}, greedy, "
                             f"max_new_tokens={args.max_new_tokens}"))
    failures = [r for r in records if r["status"] in ("invalid", "compile_crash")]
    for r in failures[:10]:
        print(f"  {r['status']}: {r['name']}: {r.get('error', '')}")
    print(f"\nrecords: {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
