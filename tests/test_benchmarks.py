"""Smoke tests of the benchmark scripts (tiny inputs, whichever engines are importable) and unit tests
of their support modules: statistics, token spelling, the EBNF translation, the isolated worker pool."""
from __future__ import annotations

import json
import os
import shutil
import time

import numpy as np
import pytest

from structgen._shared import shared_dir

from .conftest import require_path

from benchmarks.common import load_hf_tokenizer
from benchmarks.engines import ENGINE_NAMES, engine_installed, load_engines, token_allowed
from benchmarks.schema_data import category_of, load_items
from benchmarks.stats import fmt_ratio, format_table, geomean, ratio, summarize
from benchmarks.tokens import encode_exact, token_table
from benchmarks.worker_pool import WorkerPool

INSTALLED = [e for e in ENGINE_NAMES if engine_installed(e)]
SMOKE_TOKENIZER = "gpt2"  # the smallest fixture vocabulary keeps the smoke runs fast (scripts default to llama3)


def _tokenizer(name):
    """The fixture tokenizer through the scripts' own per-process cache (so the script runs reuse it)."""
    require_path(shared_dir() / "tokenizers" / name, f"tokenizer {name!r}")
    return load_hf_tokenizer(name)


def _records(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------------------
# support modules
# ---------------------------------------------------------------------------------------------------
def test_summarize_percentiles_and_ratios():
    s = summarize(range(1, 101), ("avg", "p50", "p99", "max"))
    assert s["n"] == 100 and s["avg"] == 50.5 and s["max"] == 100.0
    assert s["p50"] == pytest.approx(50.5) and s["p99"] == pytest.approx(99.01)
    assert summarize([], ("p50",)) == {"n": 0, "p50": None}
    assert ratio(3.0, 1.5) == 2.0 and ratio(1.0, None) is None and ratio(1.0, 0.0) is None
    assert geomean([1.0, 4.0, None]) == pytest.approx(2.0)
    assert fmt_ratio(None) == "-" and fmt_ratio(0.5) == "0.500x"


def test_format_table_aligns_columns():
    text = format_table(["name", "value"], [["a", 1.5], ["longer", 12345.0], ["c", None]], title="T")
    lines = text.splitlines()
    assert lines[0] == "T"
    assert len({len(line) for line in lines[1:3]}) == 1  # header and rule have the same width
    assert lines[3].endswith(" 1.50") and lines[4].endswith("12345") and lines[5].endswith(" -")
    with pytest.raises(ValueError):
        format_table(["a"], [["x", "y"]])


def test_maskbench_categories():
    assert category_of("BFCL_java_17") == "BFCL_java"
    assert category_of("BFCL_parallel_multiple_3") == "BFCL_parallel_multiple"
    assert category_of("Github_easy---o1234") == "Github_easy"
    assert category_of("Glaiveai2K---calculate_area_5920c69b") == "Glaiveai2K"
    assert category_of("WashingtonPost---wp_99_Normalized") == "WashingtonPost"


def test_load_items_both_formats(tmp_path):
    mb = tmp_path / "mb"
    mb.mkdir()
    for i in range(5):
        (mb / f"Cat_x_{i}.json").write_text(json.dumps(
            {"schema": {"type": "integer"}, "tests": [{"data": i, "valid": True}, {"data": "s", "valid": False}]}))
    items = load_items(mb, sample=3, seed=1)
    assert len(items) == 3 and all(it.category == "Cat_x" for it in items)
    assert items == load_items(mb, sample=3, seed=1)  # deterministic
    assert [it.id for it in load_items(mb, limit=2)] == ["Cat_x_0", "Cat_x_1"]
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "const.json").write_text(json.dumps([
        {"description": "g0", "schema": {"const": 1}, "tests": [{"description": "t", "data": 1, "valid": True}]},
        {"description": "g1", "schema": {"const": 2}, "tests": []},
    ]))
    items = load_items(suite)
    assert [it.id for it in items] == ["const#0", "const#1"]
    assert items[0].category == "const" and items[0].tests[0]["valid"] is True


@pytest.mark.parametrize("name", ["gpt2", "llama2"])
def test_token_table_spells_text_exactly(name):
    tok = _tokenizer(name)
    table = token_table(tok)
    assert table.size == len(tok)
    assert tok.eos_token_id in table.special_ids or table.token_bytes[tok.eos_token_id] is None
    for text in ['{"a": [1, 2.5e-3, null], "b": "caf\u00e9 \u2603"}', "  leading spaces", "x"]:
        ids = encode_exact(tok, table, text)
        assert table.spell(ids) == text.encode("utf-8")


def test_token_allowed_reads_lsb_first_bits():
    mask = np.zeros((1, 2), dtype=np.int32)
    mask[0, 0] = np.int32(-2147483648)  # bit 31 -> token 31
    mask[0, 1] = 1 << 3  # token 35
    assert token_allowed(mask, 31) and token_allowed(mask, 35)
    assert not token_allowed(mask, 0) and not token_allowed(mask, 34) and not token_allowed(mask, 64)


@pytest.mark.skipif(not engine_installed("xgrammar"), reason="xgrammar not installed")
@pytest.mark.parametrize("grammar", ["json", "sql"])
def test_ebnf_translation_matches_library_examples(grammar):
    """The generated EBNF accepts every valid example and rejects every invalid one (in xgrammar)."""
    import xgrammar as xgr

    from benchmarks.grammars_ebnf import library_ebnf
    from structgen.grammars import examples

    tok = _tokenizer("gpt2")
    compiler = xgr.GrammarCompiler(xgr.TokenizerInfo.from_huggingface(tok), max_threads=1, cache_enabled=False)
    compiled = compiler.compile_grammar(library_ebnf(grammar))
    ex = examples(grammar)
    assert ex["valid"] and ex["invalid"]
    for text in ex["valid"]:
        m = xgr.GrammarMatcher(compiled)
        assert m.accept_string(text) and m.is_completed(), text
    for text in ex["invalid"]:
        m = xgr.GrammarMatcher(compiled)
        assert not (m.accept_string(text) and m.is_completed()), text


# ---------------------------------------------------------------------------------------------------
# worker pool: timeouts and crashes are outcomes, and the pool keeps going
# ---------------------------------------------------------------------------------------------------
def pool_init(tag):
    return {"tag": tag}


def pool_task(state, task):
    kind, arg = task
    if kind == "sleep":
        time.sleep(arg)
        return {"outcome": "done", "tag": state["tag"], "pid": os.getpid()}
    if kind == "exit":
        os._exit(arg)
    if kind == "raise":
        raise KeyError(arg)
    if kind == "alloc":
        return {"outcome": "done", "size": len(bytearray(arg))}
    if kind == "hog":  # memory kept by the worker after the task, like a cache
        state.setdefault("hog", []).append(bytearray(arg))
        return {"outcome": "done", "pid": os.getpid()}
    raise AssertionError(kind)


def test_worker_pool_timeout_crash_and_memory_cap():
    tasks = [("sleep", 0.0), ("sleep", 30.0), ("exit", 3), ("raise", "boom"), ("alloc", 4 << 30), ("sleep", 0.0)]
    pool = WorkerPool("tests.test_benchmarks:pool_init", ("t",), "tests.test_benchmarks:pool_task", jobs=1,
                      timeout=3.0, mem_limit_bytes=2 << 30)
    started = time.monotonic()
    results = dict(pool.run(tasks))
    assert time.monotonic() - started < 60
    assert results[0]["outcome"] == "done" and results[0]["tag"] == "t"
    assert results[1]["outcome"] == "timeout"
    assert results[2]["outcome"] == "crash" and "exit code 3" in results[2]["error"]
    assert results[3]["outcome"] == "crash" and "KeyError" in results[3]["error"]
    assert results[4]["outcome"] == "crash" and "MemoryError" in results[4]["error"]
    assert results[5]["outcome"] == "done"
    # after the timeout, the exit, and the MemoryError (twice: it failed on a worker that had run
    # "raise" first, so it ran once more on a fresh worker, where it failed again)
    assert pool.restarts == 4 and pool.retries == 1


def test_worker_pool_retries_a_task_that_hit_memory_left_by_earlier_tasks():
    tasks = [("hog", 1 << 30), ("alloc", 3 << 29), ("sleep", 0.0)]
    pool = WorkerPool("tests.test_benchmarks:pool_init", ("t",), "tests.test_benchmarks:pool_task", jobs=1,
                      timeout=20.0, mem_limit_bytes=2 << 30)
    results = dict(pool.run(tasks))
    assert results[0]["outcome"] == "done"
    assert results[1] == {"outcome": "done", "size": 3 << 29}  # 1.5 GiB fits in a fresh worker
    assert results[2]["outcome"] == "done" and results[2]["pid"] != results[0]["pid"]
    assert pool.retries == 1


# ---------------------------------------------------------------------------------------------------
# the scripts, end to end on tiny inputs
# ---------------------------------------------------------------------------------------------------
def _engines_arg():
    if not INSTALLED:
        pytest.skip("no engine importable")
    return ",".join(INSTALLED)


def test_regex_masks_script(tmp_path, capsys):
    from benchmarks import regex_masks

    require_path(shared_dir() / "tokenizers" / SMOKE_TOKENIZER, f"tokenizer {SMOKE_TOKENIZER!r}")
    out = tmp_path / "regex.jsonl"
    assert regex_masks.main(["--tokenizer", SMOKE_TOKENIZER, "--engines", _engines_arg(), "--cases", "uuid,tfn",
                             "--passes", "2",
                             "--out", str(out)]) == 0
    text = capsys.readouterr().out
    recs = [r for r in _records(out) if r.get("kind") == "regex"]
    assert {r["case"] for r in recs} == {"uuid", "tfn"}
    assert "Regex masks" in text and "uuid" in text
    loaded = {r["engine"] for r in recs}
    for rec in recs:
        assert rec["status"] in ("ok", "compile_error", "rejected_valid", "unsupported")
        if rec["status"] == "ok":
            assert rec["compile_ms"] > 0 and rec["warm_us"]["n"] > 0 and rec["first_pass_us"]["p50"] > 0
    if "structgen" in loaded:
        assert all(r["status"] == "ok" for r in recs if r["engine"] == "structgen"), recs


def test_cfg_masks_script(tmp_path, capsys):
    from benchmarks import cfg_masks

    require_path(shared_dir() / "tokenizers" / SMOKE_TOKENIZER, f"tokenizer {SMOKE_TOKENIZER!r}")
    out = tmp_path / "cfg.jsonl"
    assert cfg_masks.main(["--tokenizer", SMOKE_TOKENIZER, "--engines", _engines_arg(), "--grammars", "json",
                           "--max-examples", "3",
                           "--passes", "2", "--out", str(out)]) == 0
    recs = [r for r in _records(out) if r.get("kind") == "cfg"]
    assert {r["case"] for r in recs} <= {"json", "json:xgr-builtin"}
    if "xgrammar" in INSTALLED:  # the reference row runs on xgrammar only
        assert [r["engine"] for r in recs if r["case"] == "json:xgr-builtin"] == ["xgrammar"]
    by_engine = {r["engine"]: r for r in recs if r["case"] == "json"}
    if "outlines" in by_engine:
        assert by_engine["outlines"]["status"] == "unsupported"
    for eng in ("structgen", "xgrammar"):  # both read the grammar scannerless: every example must behave
        if eng in by_engine:
            assert by_engine[eng]["status"] == "ok", by_engine[eng]
            assert by_engine[eng]["n_invalid"] == 3 and by_engine[eng]["invalid_accepted"] == []
    assert "CFG masks" in capsys.readouterr().out


def _small_corpora(tmp_path):
    """Two small MaskBench files and one JSON Schema Test Suite file, copied to a temporary folder."""
    src = require_path(shared_dir() / "data" / "maskbench", "MaskBench data")
    suite = require_path(shared_dir() / "data" / "json-schema-test-suite" / "tests" / "draft2020-12",
                         "JSON Schema Test Suite")
    dst = tmp_path / "mb"
    dst.mkdir()
    for name in ("Github_easy---o10065.json", "BFCL_simple_0.json"):
        shutil.copy(src / name, dst / name)
    return dst, suite / "enum.json"


def test_maskbench_script(tmp_path, capsys):
    """MaskBench over two MaskBench files and the first two groups of a JSON Schema Test Suite file."""
    from benchmarks import maskbench

    mb_dir, suite_file = _small_corpora(tmp_path)
    out = tmp_path / "mb.jsonl"
    assert maskbench.main(["--tokenizer", SMOKE_TOKENIZER, "--engines", _engines_arg(),
                           "--data", str(mb_dir), str(suite_file), "--limit", "2", "--timeout", "60",
                           "--out", str(out), "--no-progress"]) == 0
    recs = _records(out)
    summary = recs[-1]
    assert summary["type"] == "summary" and summary["n_items"] == 4
    schema_recs = [r for r in recs if r.get("type") == "schema"]
    ran = set(summary["engines"])
    assert len(schema_recs) == 4 * len(ran)
    assert {r["id"] for r in schema_recs} == {"Github_easy---o10065", "BFCL_simple_0", "enum#0", "enum#1"}
    assert {r["category"] for r in schema_recs} == {"Github_easy", "BFCL_simple", "enum"}
    for rec in schema_recs:
        assert rec["outcome"] in maskbench.OUTCOMES
        if rec["outcome"] not in ("compile_error", "timeout", "crash"):
            assert rec["n_tests"] == len(rec["tests"]) > 0 and rec["ttfm_us"] > 0 and rec["tbm_us"]
        if rec["outcome"] == "passing":
            assert all(t["ok"] for t in rec["tests"])
    text = capsys.readouterr().out
    for heading in ("Outcomes per engine", "TBM", "TTFM", "Apples to apples", "Passing rate per category"):
        assert heading in text
    assert "Github_easy" in text and "enum" in text


def test_engines_agree_on_a_regex_mask():
    """Every loaded engine allows exactly the same tokens at the start of a simple regex."""
    tok = _tokenizer(SMOKE_TOKENIZER)
    engines, _ = load_engines(INSTALLED, tok, reuse=True)
    if len(engines) < 2:
        pytest.skip("needs two engines")
    counts = {}
    for name, engine in engines.items():
        m = engine.compile_regex("[0-9]{3}-[0-9]{4}").new_matcher()
        mask = engine.allocate_bitmask()
        m.fill(mask)
        allowed = np.unpackbits(mask[0].view(np.uint8), bitorder="little")[: len(tok)]
        counts[name] = int(allowed.sum())
        assert token_allowed(mask, tok.convert_tokens_to_ids("1"))
        assert not token_allowed(mask, tok.convert_tokens_to_ids("-"))
    assert len(set(counts.values())) == 1, counts


def test_structgen_measures_an_unsatisfiable_schema_as_the_empty_language():
    """``UnsatisfiableSchemaError`` becomes a handle of the empty language: every instance is
    rejected at its first token, so all-invalid tests pass, and a valid instance (a wrong
    verdict) would show as a validation error."""
    from benchmarks.maskbench_eval import evaluate_schema

    tok = _tokenizer(SMOKE_TOKENIZER)
    engines, _ = load_engines(["structgen"], tok, reuse=True)
    engine = engines["structgen"]
    m = engine.compile_json({"not": {}}).new_matcher()
    mask = engine.allocate_bitmask()
    mask[:] = -1
    m.fill(mask)
    assert not mask.any() and not m.can_stop() and not m.advance(tok.convert_tokens_to_ids("1"))
    item = {"schema": {"type": "object", "required": ["a"], "properties": {"a": False}},
            "tests": [{"valid": False, "data": {"a": 1}}, {"valid": False, "data": {}}]}
    assert evaluate_schema(engine, item, tok, token_table(tok))["outcome"] == "passing"
    item["tests"].append({"valid": True, "data": {"a": 1}})   # a (wrongly labelled) valid instance
    assert evaluate_schema(engine, item, tok, token_table(tok))["outcome"] == "validation_error"
