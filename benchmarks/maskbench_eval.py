"""MaskBench evaluation of one schema on one engine (runs inside a :mod:`benchmarks.worker_pool` worker).

Method: compile the schema (TTFM = compile + new matcher + first mask fill). For each test instance,
``json.dumps(data, indent=None, ensure_ascii=False)``, tokenize without special tokens (tokens spell the
text's bytes exactly), and teacher-force it (:func:`benchmarks.walk.teacher_force`): every token's
mask fill is timed (TBM), a token the mask forbids or ``advance`` refuses is a rejection, and after the
last token the text must be able to stop.

- valid instance: must be accepted entirely and able to stop (else: validation error);
- invalid instance: must be rejected at some token or unable to stop (else: invalidation error).

Outcome per schema: ``passing``, ``compile_error``, ``validation_error`` (a valid instance rejected;
takes precedence), ``invalidation_error`` (an invalid instance accepted); the parent adds
``timeout`` and ``crash``. A schema without test instances passes when it compiles. Instances whose
text the tokenizer cannot spell exactly are skipped and counted (``n_skipped``).

Timing hygiene, the same for every engine: the garbage collector runs before and is off during each
timed region (:func:`benchmarks.walk.gc_paused`), and the worker's set-up heap is frozen
(``gc.freeze``) once its engines are loaded, so that collection only walks objects tasks created.
"""
from __future__ import annotations

import gc
import json
import time
from dataclasses import dataclass, field
from typing import Any

from .common import force_single_thread, load_hf_tokenizer
from .engines import load_engines
from .engines.base import Engine, EngineCompileError
from .tokens import TokenizationMismatch, TokenTable, encode_exact, token_table
from .walk import gc_paused, teacher_force


@dataclass
class WorkerState:
    tokenizer: Any
    table: TokenTable
    engines: dict[str, Engine]
    unavailable: dict[str, str] = field(default_factory=dict)

    @property
    def ready_info(self) -> dict[str, Any]:
        return {"engines": list(self.engines), "unavailable": dict(self.unavailable)}


def init_worker(tokenizer_name: str, engine_names: list[str]) -> WorkerState:
    """Worker initializer: one thread, the HF tokenizer, its token table and the requested engines."""
    force_single_thread()
    tokenizer = load_hf_tokenizer(tokenizer_name)
    engines, unavailable = load_engines(list(engine_names), tokenizer)
    state = WorkerState(tokenizer=tokenizer, table=token_table(tokenizer), engines=engines, unavailable=unavailable)
    # The set-up heap (torch, transformers, every engine's tokenizer tables: ~300k objects) lives as
    # long as the worker. Frozen, it is left out of the collection `gc_paused` runs before each timed
    # region, which then walks only what tasks created -- as a server does after start-up. Without
    # this, each timed compile starts with the CPU caches flushed by a walk over the whole heap.
    gc.collect()
    gc.freeze()
    return state


def run_task(state: WorkerState, task: dict[str, Any]) -> dict[str, Any]:
    """Worker task: ``{"engine": name, "item": SchemaItem.to_task()}`` -> result dict (see :func:`evaluate_schema`)."""
    engine = state.engines.get(task["engine"])
    if engine is None:
        return {"outcome": "unavailable", "error": state.unavailable.get(task["engine"], "engine not loaded")}
    return evaluate_schema(engine, task["item"], state.tokenizer, state.table)


def instance_text(data: Any) -> str:
    """The instance as MaskBench serializes it."""
    return json.dumps(data, indent=None, ensure_ascii=False)


def evaluate_schema(engine: Engine, item: dict[str, Any], tokenizer: Any, table: TokenTable) -> dict[str, Any]:
    """Compile ``item["schema"]`` on ``engine`` and teacher-force every test instance; JSON-able result."""
    clock = time.perf_counter_ns
    result: dict[str, Any] = {"outcome": None, "error": None}
    bitmask = engine.allocate_bitmask()
    try:
        with gc_paused():
            t0 = clock()
            handle = engine.compile_json(item["schema"])
            t1 = clock()
            first = handle.new_matcher()
            first.fill(bitmask)
            t2 = clock()
    except EngineCompileError as e:
        result.update(outcome="compile_error", error=str(e))
        return result
    result["compile_us"] = (t1 - t0) / 1e3
    result["ttfm_us"] = (t2 - t0) / 1e3

    tbm_ns: list[int] = []
    commit_ns: list[int] = []
    tests: list[dict[str, Any]] = []
    valid_rejected = invalid_accepted = skipped = 0
    for t in item["tests"]:
        rec: dict[str, Any] = {"valid": t["valid"]}
        try:
            tokens = encode_exact(tokenizer, table, instance_text(t["data"]))
        except (TokenizationMismatch, UnicodeEncodeError, ValueError, TypeError) as e:
            rec.update(skipped=f"{type(e).__name__}: {str(e)[:200]}")
            skipped += 1
            tests.append(rec)
            continue
        matcher = handle.new_matcher()
        with gc_paused():
            walk = teacher_force(matcher, bitmask, tokens, engine.stop_ids)
        tbm_ns.extend(walk.fill_ns)
        commit_ns.extend(walk.commit_ns)
        accepted = walk.accepted_and_stoppable
        rec.update(n_tokens=walk.n_tokens, accepted_tokens=walk.accepted, rejected_by=walk.rejected_by,
                   can_stop=walk.can_stop, stop_in_mask=walk.stop_in_mask, accepted=accepted,
                   ok=accepted if t["valid"] else not accepted)
        if walk.can_stop is not None and walk.stop_in_mask is not None and walk.can_stop != walk.stop_in_mask:
            rec["stop_disagrees"] = True  # engine's can_stop() and its final mask's stop bit differ
        if t["valid"] and not accepted:
            valid_rejected += 1
        elif not t["valid"] and accepted:
            invalid_accepted += 1
        tests.append(rec)

    if valid_rejected:
        result["outcome"] = "validation_error"
    elif invalid_accepted:
        result["outcome"] = "invalidation_error"
    else:
        result["outcome"] = "passing"
    result.update(
        n_tests=len(item["tests"]), n_skipped=skipped, valid_rejected=valid_rejected,
        invalid_accepted=invalid_accepted, tests=tests,
        tbm_us=[round(x / 1e3, 3) for x in tbm_ns],
        commit_us_total=round(sum(commit_ns) / 1e3, 3),
    )
    return result
