"""The ``structgen`` command line.

Commands::

    structgen demo [--model M]                         a few constrained generations on the embedded model
    structgen generate --model M (--schema FILE | --regex R | --grammar G | --choices A,B,...) --prompt P
    structgen compile --tokenizer PATH (--schema FILE | --regex R | --grammar G | --choices ...)
    structgen bench {regex,cfg,maskbench,e2e,jsonschemabench} [args...]   run a script of benchmarks/

``--grammar`` takes Lark text, a ``.lark`` file or the name of a bundled grammar. Exit status: 0 on
success, 1 for a structgen error (printed as ``error: ...``), 2 for bad usage.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from structgen.errors import StructgenError

BENCHMARKS = {
    # command -> candidate modules in benchmarks/ (first existing one runs)
    "regex": ("regex_masks", "regex"),
    "cfg": ("cfg_masks", "cfg"),
    "maskbench": ("maskbench", "maskbench_masks"),
    "e2e": ("e2e",),
    "jsonschemabench": ("jsonschemabench",),
}


def _add_constraint_args(p: argparse.ArgumentParser, required: bool) -> None:
    g = p.add_mutually_exclusive_group(required=required)
    g.add_argument("--schema", metavar="FILE", help="JSON Schema file (or '-' for stdin)")
    g.add_argument("--regex", metavar="REGEX", help="regular expression (full match)")
    g.add_argument("--grammar", metavar="GRAMMAR", help="Lark grammar: text, a .lark file, or a bundled name")
    g.add_argument("--choices", metavar="A,B,...", help="comma-separated list of allowed outputs")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="structgen", description="Structured (constrained) generation.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    d = sub.add_parser("demo", help="run a few constrained generations on the embedded model")
    d.add_argument("--model", default="smollm2-135m-instruct", help="model name or local HF folder")
    d.add_argument("--max-new-tokens", type=int, default=96)

    g = sub.add_parser("generate", help="generate under a constraint")
    g.add_argument("--model", default="smollm2-135m-instruct", help="model name or local HF folder")
    _add_constraint_args(g, required=False)
    g.add_argument("--prompt", required=True, help="prompt text ('-' reads stdin)")
    g.add_argument("--system", default=None, help="system prompt")
    g.add_argument("--max-new-tokens", type=int, default=256)
    g.add_argument("--temperature", type=float, default=0.0)
    g.add_argument("--top-k", type=int, default=None)
    g.add_argument("--top-p", type=float, default=None)
    g.add_argument("--seed", type=int, default=None)
    g.add_argument("--no-chat-template", action="store_true", help="feed the prompt as raw text")
    g.add_argument("--no-jump-forward", action="store_true", help="do not batch forced tokens")
    g.add_argument("--stream", action="store_true", help="print text as it is generated")
    g.add_argument("--stats", action="store_true", help="print generation statistics to stderr")

    c = sub.add_parser("compile", help="compile a constraint for a tokenizer and print statistics")
    c.add_argument("--tokenizer", required=True, help="HF tokenizer folder (or a fixture name: llama3, qwen2...)")
    c.add_argument("--vocab-size", type=int, default=None, help="mask width (the model's logits width)")
    _add_constraint_args(c, required=True)
    c.add_argument("--masks", action="store_true", help="also time the first masks (a short greedy walk)")
    c.add_argument("--json", action="store_true", help="print the statistics as JSON")

    b = sub.add_parser("bench", help="run a benchmark script from benchmarks/")
    b.add_argument("name", choices=sorted(BENCHMARKS), help="which benchmark")
    b.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the benchmark (see its --help)")
    return parser


def _read_text(value: str) -> str:
    if value == "-":
        return sys.stdin.read()
    return value


def _constraint_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    if getattr(args, "schema", None) is not None:
        text = sys.stdin.read() if args.schema == "-" else Path(args.schema).read_text()
        try:
            return {"schema": json.loads(text)}
        except ValueError as exc:
            raise SystemExit(f"error: {args.schema} is not JSON: {exc}")
    if getattr(args, "regex", None) is not None:
        return {"regex": args.regex}
    if getattr(args, "grammar", None) is not None:
        g = args.grammar
        if g.endswith(".lark") and Path(g).is_file():
            g = Path(g).read_text()
        return {"grammar": g}
    if getattr(args, "choices", None) is not None:
        return {"choices": [c for c in args.choices.split(",")]}
    return {}


def _cmd_generate(args: argparse.Namespace) -> int:
    from structgen import api
    from structgen.generation.models import load_model

    lm = load_model(args.model)
    kwargs = dict(_constraint_kwargs(args), max_new_tokens=args.max_new_tokens, temperature=args.temperature,
                  top_k=args.top_k, top_p=args.top_p, seed=args.seed, chat_template=not args.no_chat_template,
                  system_prompt=args.system, jump_forward=not args.no_jump_forward)
    prompt = _read_text(args.prompt)
    if args.stream:
        for chunk in api.stream(lm, prompt, **kwargs):
            sys.stdout.write(chunk)
            sys.stdout.flush()
        sys.stdout.write("\n")
        return 0
    out = api.generate(lm, prompt, details=True, **kwargs)
    value = out.value
    if isinstance(value, (dict, list)):
        print(json.dumps(value, ensure_ascii=False, indent=2))
    else:
        print(out.text)
    if args.stats:
        s = out.stats
        print(f"[{s.output_tokens} tokens, {s.forward_passes} forward passes, {s.forced_tokens} forced, "
              f"ttft {s.ttft_s * 1e3:.0f} ms, {s.time_per_output_token_s * 1e3:.1f} ms/token]", file=sys.stderr)
    return 0


def _cmd_compile(args: argparse.Namespace) -> int:
    from transformers import AutoTokenizer

    from structgen.generation.constraints import make_constraint
    from structgen.generation.models import vocabulary_for

    path = Path(args.tokenizer)
    if not path.is_dir():
        from structgen._shared import tokenizer_path

        path = tokenizer_path(args.tokenizer)
    t0 = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    vocab = vocabulary_for(None, tokenizer, vocab_size=args.vocab_size)
    _ = vocab.trie
    t_vocab = time.perf_counter() - t0
    constraint = make_constraint(**_constraint_kwargs(args))
    t1 = time.perf_counter()
    compiled = constraint.compile(vocab)
    t_compile = time.perf_counter() - t1
    stats: dict[str, Any] = {
        "constraint": constraint.description,
        "tokenizer": str(path),
        "vocab_size": vocab.vocab_size,
        "vocab_s": round(t_vocab, 4),
        "compile_s": round(t_compile, 4),
        "states": int(compiled.automaton.n_states),
        "rules": int(compiled.automaton.n_rules),
    }
    for k, v in compiled.stats.items():
        if k not in stats and isinstance(v, (int, float, str, bool)):
            stats[k] = v
    if args.masks:
        stats.update(_time_masks(compiled))
    if args.json:
        print(json.dumps(stats))
    else:
        width = max(len(k) for k in stats)
        for k, v in stats.items():
            print(f"{k:<{width}}  {v}")
    return 0


def _time_masks(compiled, steps: int = 32) -> dict[str, Any]:
    """Walk ``steps`` tokens (lowest allowed non-stop id each time), timing each mask fill."""
    import numpy as np

    from structgen.runtime.matcher import Matcher

    m = Matcher(compiled)
    bitmask = np.zeros((1, compiled.words), np.int32)
    times = []
    stops = set(int(t) for t in compiled.stop_ids)
    for _ in range(steps):
        t0 = time.perf_counter()
        m.fill_next_token_bitmask(bitmask, 0)
        times.append(time.perf_counter() - t0)
        allowed = np.flatnonzero(np.unpackbits(bitmask.view(np.uint8), bitorder="little"))
        allowed = [int(t) for t in allowed if int(t) not in stops]
        if not allowed:
            break
        m.advance(allowed[len(allowed) // 2])
    arr = np.asarray(times) * 1e3
    return {"first_mask_ms": round(float(arr[0]), 3), "mask_ms_median": round(float(np.median(arr)), 3),
            "mask_ms_max": round(float(arr.max()), 3), "masks_timed": int(arr.size)}


_DEMOS = [
    ("JSON schema", "Describe a fictional person named Ada as JSON with her name, age and city.",
     {"schema": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 20},
                                                  "age": {"type": "integer", "minimum": 0, "maximum": 120},
                                                  "city": {"type": "string", "maxLength": 20}},
                 "required": ["name", "age", "city"], "additionalProperties": False}}),
    ("regex (ISO date)", "When did the first human land on the Moon? Answer with the date.",
     {"regex": r"(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"}),
    ("choices", "Is the sentiment of 'I loved this film!' positive, negative or neutral?",
     {"choices": ["positive", "negative", "neutral"]}),
    ("Lark grammar (arithmetic)", "Write an arithmetic expression that equals 12, using + and *.",
     {"grammar": 'start: expr\nexpr: term ("+" term)*\nterm: NUMBER ("*" NUMBER)*\nNUMBER: /[1-9][0-9]?/\n'}),
]


def _cmd_demo(args: argparse.Namespace) -> int:
    from structgen import api
    from structgen.generation.models import load_model

    t0 = time.perf_counter()
    lm = load_model(args.model)
    print(f"model {lm.name} loaded in {time.perf_counter() - t0:.1f} s (vocab {lm.vocab_size})\n")
    from structgen.errors import GenerationError

    failures = 0
    for title, prompt, kwargs in _DEMOS:
        t1 = time.perf_counter()
        try:
            out = api.generate(lm, prompt, max_new_tokens=args.max_new_tokens, details=True, **kwargs)
        except GenerationError as exc:
            failures += 1
            print(f"== {title}\nprompt: {prompt}\nno complete output within --max-new-tokens "
                  f"{args.max_new_tokens}; partial: {exc.partial_text!r}\n")
            continue
        dt = time.perf_counter() - t1
        value = json.dumps(out.value, ensure_ascii=False) if isinstance(out.value, (dict, list)) else out.text
        s = out.stats
        print(f"== {title}\nprompt: {prompt}\noutput: {value}\n"
              f"({s.output_tokens} tokens in {dt:.2f} s incl. compile; {s.forward_passes} forward passes, "
              f"{s.forced_tokens} forced tokens)\n")
    return 1 if failures == len(_DEMOS) else 0


def _cmd_bench(args: argparse.Namespace) -> int:
    root = Path(__file__).resolve().parent.parent
    bench_dir = root / "benchmarks"
    if not bench_dir.is_dir():
        print(f"error: benchmarks/ not found next to the structgen package ({root}); "
              "benchmarks run from a source checkout", file=sys.stderr)
        return 1
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    for name in BENCHMARKS[args.name]:
        if (bench_dir / f"{name}.py").is_file():
            module = importlib.import_module(f"benchmarks.{name}")
            rest = list(args.args)
            if rest[:1] == ["--"]:
                rest = rest[1:]
            rc = module.main(rest)
            return int(rc or 0)
    print(f"error: no benchmark script for {args.name!r} in {bench_dir} "
          f"(looked for {', '.join(n + '.py' for n in BENCHMARKS[args.name])})", file=sys.stderr)
    return 1


_COMMANDS = {"demo": _cmd_demo, "generate": _cmd_generate, "compile": _cmd_compile, "bench": _cmd_bench}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``structgen`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        return _COMMANDS[args.command](args)
    except StructgenError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        partial = getattr(exc, "partial_text", "")
        if partial:
            print(f"partial output: {partial}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
