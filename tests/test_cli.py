"""The structgen command line: demo, generate, compile, bench (in-process through main([...]))."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from structgen.cli import main
from tests.conftest import get_tokenizer, require_path
from structgen._shared import tokenizer_path
from tests.generation.tiny import tiny_model, torch_single_thread  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("torch_single_thread")


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-gpt2")
    tiny_model("gpt2").save_pretrained(folder)
    get_tokenizer("gpt2").save_pretrained(folder)
    return str(folder)


def test_compile_prints_stats(capsys):
    path = require_path(tokenizer_path("gpt2"), "tokenizer gpt2")
    assert main(["compile", "--tokenizer", str(path), "--regex", r"[0-9]{2,4}-[a-z]+", "--json", "--masks"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["states"] > 1 and stats["rules"] >= 1 and stats["vocab_size"] == 50257
    assert stats["compile_s"] >= 0 and stats["masks_timed"] >= 1
    assert main(["compile", "--tokenizer", "gpt2", "--grammar", "arithmetic"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^states\s+\d+", out, re.M) and re.search(r"^rules\s+\d+", out, re.M)
    assert main(["compile", "--tokenizer", "gpt2", "--choices", "red,green"]) == 0


def test_compile_schema_file(tmp_path, capsys):
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}))
    assert main(["compile", "--tokenizer", "gpt2", "--schema", str(schema), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["states"] > 1


def test_compile_errors_exit_1(capsys):
    assert main(["compile", "--tokenizer", "gpt2", "--regex", "(a"]) == 1
    assert "RegexError" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["compile", "--tokenizer", "gpt2"])  # no constraint
    assert exc.value.code == 2


def test_generate_on_a_local_model(tiny_dir, capsys):
    assert main(["generate", "--model", tiny_dir, "--regex", "[a-z]{3}[0-9]", "--prompt", "hi", "--stats"]) == 0
    cap = capsys.readouterr()
    assert re.fullmatch(r"[a-z]{3}[0-9]\n", cap.out) and "forward passes" in cap.err
    assert main(["generate", "--model", tiny_dir, "--choices", "yes,no", "--prompt", "?", "--stream"]) == 0
    assert capsys.readouterr().out.strip() in ("yes", "no")
    assert main(["generate", "--model", tiny_dir, "--regex", "[a-z]{60}", "--prompt", "x",
                 "--max-new-tokens", "2"]) == 1
    err = capsys.readouterr().err
    assert "GenerationError" in err and "partial output" in err


def test_demo_runs(tiny_dir, capsys):
    rc = main(["demo", "--model", tiny_dir, "--max-new-tokens", "24"])
    out = capsys.readouterr().out
    assert out.count("== ") == 4 and rc in (0, 1)
    assert "regex (ISO date)" in out


def test_bench_dispatches_to_the_scripts(capsys):
    for argv in (["bench", "e2e", "--", "--help"], ["bench", "jsonschemabench", "--help"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 0
        assert "usage" in capsys.readouterr().out


def test_jsonschemabench_end_to_end_on_a_tiny_model(tiny_dir, tmp_path, capsys):
    from structgen._shared import shared_dir

    data = require_path(shared_dir() / "data" / "maskbench", "maskbench data")
    out = tmp_path / "jsb.jsonl"
    assert main(["bench", "jsonschemabench", "--model", tiny_dir, "--data", str(data), "--limit", "3",
                 "--filter", "Github_trivial", "--max-new-tokens", "12", "--baseline", "2", "--out", str(out)]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 3
    assert all(r["status"] in ("valid", "generation_error", "compile_error") for r in records)
    assert "compile coverage" in capsys.readouterr().out


def test_console_script_is_installed():
    exe = shutil.which("structgen")
    if exe is None:
        pytest.skip("structgen console script not on PATH (package not pip-installed)")
    proc = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "compile" in proc.stdout and "bench" in proc.stdout


@pytest.mark.model
def test_demo_on_the_embedded_model(capsys):
    assert main(["demo", "--max-new-tokens", "40"]) == 0
    out = capsys.readouterr().out
    assert "smollm2-135m-instruct" in out
    date = re.search(r"output: (\d{4}-\d{2}-\d{2})", out)
    assert date
