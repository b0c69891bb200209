"""Regex masks: compile time and per-token mask time for ~10 regexes, structgen vs other engines.

For every regex and engine: first compile in the process (for structgen that is "cold" as far as the
grammar goes -- numba's on-disk kernel cache is expected to be warm, i.e. the kernels were compiled
by an earlier run; run twice if it was not), a repeated compile, TTFM (compile + first mask), and the
mask-fill time of every token while teacher-forcing a valid example, first pass separately from the
later passes (which see warm caches). One thread per engine.

    python -m benchmarks.regex_masks [--tokenizer llama3] [--engines all] [--passes 5] [--out FILE]
"""
from __future__ import annotations

import argparse
import re
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

_WORDS = (
    "the of and to in is was that for on with as by at from his her they this which but be are not have "
    "one all were when there can an their more if will would who so about out up them what some time "
    "into only could new other then these two may first any like over such our now most also after did "
    "many before must through back years where much your way well down should because each just those "
    "people how too little state good very make world still own see men work long get here between both "
    "life being under never day same another know while last might us great old year off come since "
    "against go came right used take three again"
).split()
_WORD_ALT = "(" + "|".join(_WORDS) + ")"

_IPV4_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"


def _regex_case(name: str, pattern: str, example: str, description: str) -> Case:
    if re.fullmatch(pattern, example) is None:  # the examples must be valid (checked with Python's re)
        raise AssertionError(f"example {example!r} does not match {pattern!r}")
    return Case(name=name, compile=lambda engine, p=pattern: engine.compile_regex(p), examples=[example],
                description=description)


# (name, pattern, valid example, description). Patterns stay inside the syntax every engine shares
# (no \d / \w: their meaning differs between Python, Rust and ECMAScript regex flavours).
REGEXES: tuple[tuple[str, str, str, str], ...] = (
    ("phone", r"\(?[0-9]{3}\)?[ -]?[0-9]{3}-[0-9]{4}", "(555) 867-5309", "US phone number"),
    ("email", r"[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}", "jane.doe+news@mail.example.co.uk",
     "email-like"),
    ("datetime", r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
                 r"(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})", "2024-02-29T13:45:07.123+01:00", "ISO 8601 date-time"),
    ("uuid", r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "123e4567-e89b-12d3-a456-426614174000",
     "lower-case UUID"),
    ("ipv4", rf"({_IPV4_OCTET}\.){{3}}{_IPV4_OCTET}", "192.168.100.254", "dotted-quad IPv4"),
    ("tfn", r"(true|false|null)", "false", "JSON literal"),
    ("greek", r"[α-ω]+", "καλημερακοσμε", "non-ASCII character class"),
    ("json_string", r'"([^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"',
     '"Hello, \\"world\\"! caf\\u00e9 \u00fcn\u00efc\u00f6d\u00e9 \u2603\\n\\ttab"', "JSON string literal"),
    ("float", r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?", "-12345.678901e+10", "JSON number"),
    ("iban20", r"[A-Z]{2}[0-9]{2}( [A-Z0-9]{4}){3}", "GB29 NWBK 6016 1331", "IBAN-like, minimal DFA of 20 states"),
    ("words", rf"{_WORD_ALT}( {_WORD_ALT})*",
     "the people of this world would come back after many years but never see the same day again",
     f"alternation of {len(_WORDS)} words, repeated"),
)


def regex_cases(names: Sequence[str] | None = None) -> list[Case]:
    """The benchmark regexes as :class:`Case` objects (all, or those named)."""
    chosen = [r for r in REGEXES if names is None or r[0] in names]
    if names is not None:
        missing = set(names) - {r[0] for r in chosen}
        if missing:
            raise ValueError(f"unknown regex case(s) {sorted(missing)}; choose from {[r[0] for r in REGEXES]}")
    return [_regex_case(*r) for r in chosen]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="benchmarks.regex_masks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tokenizer", default="llama3", help="fixture tokenizer name or HF tokenizer folder")
    p.add_argument("--engines", default="all", help="comma-separated: structgen,llguidance,xgrammar,outlines")
    p.add_argument("--cases", default=None, help="comma-separated regex case names (default: all)")
    p.add_argument("--passes", type=int, default=10, help="teacher-forcing passes per case (first reported apart)")
    p.add_argument("--out", type=Path, default=None, help="JSONL output (default benchmarks/results/...)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    force_single_thread()
    from benchmarks.engines import load_engines, parse_engine_list
    from benchmarks.tokens import encode_exact, token_table

    cases = regex_cases(args.cases.split(",") if args.cases else None)
    tokenizer = load_hf_tokenizer(args.tokenizer)
    table = token_table(tokenizer)
    engines, unavailable = load_engines(parse_engine_list(args.engines), tokenizer, reuse=True)
    for name, why in unavailable.items():
        print(f"[regex_masks] engine {name} unavailable: {why}", file=sys.stderr)
    records = []
    started = time.time()
    work = [(case, eng) for case in cases for eng in engines.values()]
    for case, engine in progress(work, desc="regex", unit="case"):
        tokens = [encode_exact(tokenizer, table, ex) for ex in case.examples]
        rec = measure_case(engine, case, tokens, args.passes)
        rec.update(kind="regex", tokenizer=tokenizer_label(args.tokenizer), description=case.description)
        records.append(rec)
    out = args.out or default_out("regex_masks", args.tokenizer)
    write_jsonl(out, records + [{"kind": "unavailable", "engine": k, "error": v} for k, v in unavailable.items()])
    title = (f"Regex masks -- tokenizer {tokenizer_label(args.tokenizer)}, {args.passes} passes, 1 thread; "
             f"times per mask fill; p50/p99/max over passes 2+; ratios = engine / structgen")
    print(case_table(records, list(engines), title))
    problems = error_lines(records)
    if problems:
        print("\nnot clean:")
        print("\n".join(problems))
    for name, why in unavailable.items():
        print(f"unavailable: {name}: {why}")
    print(f"\nstructgen compile is the first in this process (numba kernel cache on disk assumed warm). "
          f"{len(records)} measurements in {time.time() - started:.1f}s -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
