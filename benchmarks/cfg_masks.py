"""CFG masks: compile time and per-token mask time for the library's Lark grammars (json, sql).

Grammars come from ``structgen.grammars.load(name)`` with their valid/invalid examples
(``structgen.grammars.examples(name)``). structgen and llguidance take the Lark text; xgrammar takes
an EBNF translation generated from the same Lark rules (:mod:`benchmarks.grammars_ebnf`); outlines-core
has no CFG support (reported as unsupported). For each grammar and engine: first and repeated compile,
TTFM, and the mask-fill time of every token while teacher-forcing all valid examples (first pass
reported apart from later passes: p50/p99/max); every invalid example must be rejected. One thread.
For reference, xgrammar's builtin (hand-tuned) JSON grammar is also run on the json examples
(row ``json:xgr-builtin``; its whitespace rules differ from json.lark, so some examples may be rejected).

    python -m benchmarks.cfg_masks [--grammars json,sql] [--tokenizer llama3] [--engines all] [--passes 3]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Sequence

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.casebench import Case, case_table, error_lines, measure_case  # noqa: E402
from benchmarks.common import (  # noqa: E402
    default_out, force_single_thread, load_hf_tokenizer, progress, tokenizer_label, write_jsonl,
)

DEFAULT_GRAMMARS = ("json", "sql")


def grammar_case(name: str, max_examples: int | None = None) -> Case:
    """A :class:`Case` for library grammar ``name``: Lark text for engines that take Lark, EBNF otherwise."""
    from structgen.grammars import examples, load

    lark_text = load(name)
    ex = examples(name)
    ebnf_cache: dict[str, str] = {}

    def ebnf() -> str:
        if "text" not in ebnf_cache:
            from benchmarks.grammars_ebnf import lark_to_ebnf

            ebnf_cache["text"] = lark_to_ebnf(lark_text)
        return ebnf_cache["text"]

    def compile_for(engine):
        syntax = engine.cfg_syntax(lark_text, "ebnf")
        return engine.compile_cfg(lark_text if syntax == "lark" else None, ebnf() if syntax == "ebnf" else None)

    valid = list(ex["valid"])[:max_examples]
    invalid = list(ex["invalid"])[:max_examples]
    if not valid:
        raise ValueError(f"library grammar {name!r} has no valid examples to teacher-force")
    return Case(name=name, compile=compile_for, examples=valid, invalid_examples=invalid,
                description=f"grammars/{name}.lark: {len(valid)} valid, {len(invalid)} invalid examples")


def xgrammar_builtin_json_case(json_case: Case) -> Case:
    """The json examples against xgrammar's builtin JSON grammar (run on xgrammar only, for reference)."""
    return Case(name="json:xgr-builtin", compile=lambda engine: engine.compile_builtin_json(),
                examples=json_case.examples, invalid_examples=json_case.invalid_examples,
                description="xgrammar's builtin JSON grammar on the json examples (its whitespace rules differ)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="benchmarks.cfg_masks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tokenizer", default="llama3", help="fixture tokenizer name or HF tokenizer folder")
    p.add_argument("--engines", default="all", help="comma-separated: structgen,llguidance,xgrammar,outlines")
    p.add_argument("--grammars", default=",".join(DEFAULT_GRAMMARS), help="library grammar names")
    p.add_argument("--max-examples", type=int, default=None, help="use at most N valid/invalid examples each")
    p.add_argument("--passes", type=int, default=3, help="teacher-forcing passes (first reported apart)")
    p.add_argument("--no-xgrammar-builtin", action="store_true",
                   help="skip the reference row: xgrammar's builtin JSON grammar on the json examples")
    p.add_argument("--out", type=Path, default=None, help="JSONL output (default benchmarks/results/...)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    force_single_thread()
    from benchmarks.engines import load_engines, parse_engine_list
    from benchmarks.tokens import encode_exact, token_table

    cases = [grammar_case(n.strip(), args.max_examples) for n in args.grammars.split(",") if n.strip()]
    tokenizer = load_hf_tokenizer(args.tokenizer)
    table = token_table(tokenizer)
    engines, unavailable = load_engines(parse_engine_list(args.engines), tokenizer, reuse=True)
    for name, why in unavailable.items():
        print(f"[cfg_masks] engine {name} unavailable: {why}", file=sys.stderr)
    records = []
    started = time.time()
    work = [(case, eng) for case in cases for eng in engines.values()]
    json_case = next((c for c in cases if c.name == "json"), None)
    if json_case is not None and "xgrammar" in engines and not args.no_xgrammar_builtin:
        work.append((xgrammar_builtin_json_case(json_case), engines["xgrammar"]))
    for case, engine in progress(work, desc="cfg", unit="case"):
        valid = [encode_exact(tokenizer, table, ex) for ex in case.examples]
        invalid = [encode_exact(tokenizer, table, ex) for ex in case.invalid_examples]
        rec = measure_case(engine, case, valid, args.passes, invalid)
        rec.update(kind="cfg", tokenizer=tokenizer_label(args.tokenizer), description=case.description,
                   syntax=engine.cfg_syntax("lark", "ebnf"))
        records.append(rec)
    out = args.out or default_out("cfg_masks", args.tokenizer)
    write_jsonl(out, records + [{"kind": "unavailable", "engine": k, "error": v} for k, v in unavailable.items()])
    title = (f"CFG masks -- tokenizer {tokenizer_label(args.tokenizer)}, {args.passes} passes, 1 thread; "
             f"times per mask fill; p50/p99/max over passes 2+; ratios = engine / structgen; "
             f"xgrammar gets an EBNF translation of the Lark grammar")
    print(case_table(records, list(engines), title))
    problems = error_lines(records)
    if problems:
        print("\nnot clean:")
        print("\n".join(problems))
    for name, why in unavailable.items():
        print(f"unavailable: {name}: {why}")
    print(f"\n{len(records)} measurements in {time.time() - started:.1f}s -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
