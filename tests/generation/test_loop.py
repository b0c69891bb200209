"""The decoding loop on tiny random-weight Llama models with the real fixture tokenizers.

Covers: constrained outputs always in the language (fake finite-language matcher and the real
regex runtime, greedy and sampling), jump-forward drafts == step-by-step decoding (greedy and
seeded sampling), accepted drafts saving forward passes, batch with left padding == one by one
(and == HF generate unconstrained), GenerationError on max_new_tokens, streaming, overlap.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from structgen.errors import GenerationError
from structgen.generation.loop import BatchDecoder, decode, stream_text
from structgen.generation.sampling import SamplingParams
from tests.generation.tiny import FiniteMatcher, LengthBiasedModel, tiny_lm, torch_single_thread  # noqa: F401 (fixture)

LANGUAGE = ([b'{"name": "alice", "age": 3' + d for d in (b"1", b"2", b"5")]
            + [b'{"name": "bob", "city": "paris", "zip": ' + d for d in (b"1", b"2")])

pytestmark = pytest.mark.usefixtures("torch_single_thread")


def _matcher(lm, pattern: str):
    from structgen.runtime.compiled import compile_regex
    from structgen.runtime.matcher import Matcher

    return Matcher(compile_regex(pattern, lm.vocab))


@pytest.fixture(scope="module")
def lm():
    return tiny_lm("gpt2")


@pytest.fixture(scope="module")
def prompts(lm):
    return [lm.encode_prompt(p) for p in ("hello", "a somewhat longer prompt than the first one", "x y")]


def test_fake_language_outputs_and_jump_forward_equals_step_by_step(lm, prompts):
    fast = decode(lm, prompts, [FiniteMatcher(LANGUAGE, lm.vocab) for _ in prompts], max_new_tokens=40)
    slow = decode(lm, prompts, [FiniteMatcher(LANGUAGE, lm.vocab) for _ in prompts], max_new_tokens=40,
                  jump_forward=False)
    for f, s in zip(fast, slow):
        assert f.data in LANGUAGE and f.complete and f.finish_reason == "stop"
        assert f.token_ids == s.token_ids  # token for token, not only the same text
        assert s.stats.forced_tokens == 0 and s.stats.rejected_drafts == 0
        # every draft was either accepted or rejected and re-decided by the model
        assert f.stats.forced_tokens + f.stats.rejected_drafts > 0
        assert f.stats.forward_passes == s.stats.forward_passes - f.stats.forced_tokens


def test_jump_forward_equals_step_by_step_under_seeded_sampling(lm, prompts):
    params = SamplingParams(temperature=1.3, top_k=50, seed=7)
    a = decode(lm, prompts[:1], [FiniteMatcher(LANGUAGE, lm.vocab)], max_new_tokens=40, sampling=params)[0]
    b = decode(lm, prompts[:1], [FiniteMatcher(LANGUAGE, lm.vocab)], max_new_tokens=40, sampling=params,
               jump_forward=False)[0]
    assert a.token_ids == b.token_ids and a.data in LANGUAGE


def test_accepted_drafts_save_forward_passes():
    from structgen.generation.models import as_lm
    from tests.generation.tiny import tiny_model
    from tests.conftest import get_tokenizer

    base = tiny_lm("gpt2")
    lengths = np.asarray([len(b) for b in base.vocab.token_bytes], np.float32)
    biased = as_lm(LengthBiasedModel(tiny_model("gpt2"), lengths), get_tokenizer("gpt2"))
    ids = [biased.encode_prompt("q")]
    fast = decode(biased, ids, [FiniteMatcher(LANGUAGE, biased.vocab)], max_new_tokens=40)[0]
    slow = decode(biased, ids, [FiniteMatcher(LANGUAGE, biased.vocab)], max_new_tokens=40, jump_forward=False)[0]
    assert fast.data == slow.data and fast.data in LANGUAGE
    assert fast.stats.forced_tokens >= 3
    assert fast.stats.forward_passes + fast.stats.forced_tokens == slow.stats.forward_passes
    assert fast.stats.forward_passes < slow.stats.forward_passes


@pytest.mark.parametrize("pattern", [r"[a-z]{1,8}@[a-z]{2,5}\.(com|org)", r"(-?[1-9][0-9]{0,3}|0)",
                                     r"(yes|no|maybe)!{0,3}", r"[αβγ中文é]{2,5}"])
def test_regex_outputs_fullmatch_over_seeds_and_settings(lm, prompts, pattern):
    settings = [SamplingParams(), SamplingParams(temperature=1.0, seed=1),
                SamplingParams(temperature=2.0, top_p=0.9, seed=2), SamplingParams(temperature=0.7, top_k=5, seed=3)]
    for params in settings:
        results = decode(lm, prompts, [_matcher(lm, pattern) for _ in prompts], max_new_tokens=32, sampling=params)
        for r in results:
            assert r.complete
            assert re.fullmatch(pattern, r.text), (pattern, r.text)
            assert r.data.decode("utf-8") == r.text


def test_real_regex_jump_forward_equals_step_by_step(lm, prompts):
    pattern = r"(user|admin)_id=[0-9]{2,4};role=(reader|writer)"
    fast = decode(lm, prompts, [_matcher(lm, pattern) for _ in prompts], max_new_tokens=40)
    slow = decode(lm, prompts, [_matcher(lm, pattern) for _ in prompts], max_new_tokens=40, jump_forward=False)
    for f, s in zip(fast, slow):
        assert f.text == s.text and re.fullmatch(pattern, f.text)
        assert f.stats.forced_tokens + f.stats.rejected_drafts > 0


def test_batch_with_left_padding_equals_one_by_one(lm, prompts):
    pattern = r"[a-z ]{3,20}\."
    batch = decode(lm, prompts, [_matcher(lm, pattern) for _ in prompts], max_new_tokens=24)
    for ids, b in zip(prompts, batch):
        one = decode(lm, [ids], [_matcher(lm, pattern)], max_new_tokens=24)[0]
        assert one.token_ids == b.token_ids
    free = decode(lm, prompts, None, max_new_tokens=12)
    for ids, b in zip(prompts, free):
        one = decode(lm, [ids], None, max_new_tokens=12)[0]
        ref = lm.model.generate(torch.tensor([ids]), max_new_tokens=12, do_sample=False, eos_token_id=lm.stop_ids,
                                pad_token_id=lm.pad_id)[0, len(ids):].tolist()
        ref = ref[:next((i for i, t in enumerate(ref) if t in lm.stop_ids), len(ref))]
        assert b.token_ids == one.token_ids == ref


def test_mixed_batch_constrained_and_free_rows(lm, prompts):
    results = decode(lm, prompts[:2], [_matcher(lm, r"[0-9]{4}"), None], max_new_tokens=8)
    assert re.fullmatch(r"[0-9]{4}", results[0].text)
    assert results[1].token_ids == decode(lm, prompts[1:2], None, max_new_tokens=8)[0].token_ids


def test_max_new_tokens_before_the_constraint_can_stop_is_incomplete(lm, prompts):
    r = decode(lm, prompts[:1], [_matcher(lm, r"[a-z]{40}")], max_new_tokens=5)[0]
    assert not r.complete and r.finish_reason == "length" and len(r.token_ids) == 5
    with pytest.raises(GenerationError) as exc:
        r.check_complete()
    assert exc.value.partial_text == r.text and r.text
    # Complete at the limit: a valid output, not an error.
    ok = decode(lm, prompts[:1], [_matcher(lm, r"[0-9]+")], max_new_tokens=3)[0]
    assert ok.complete and re.fullmatch(r"[0-9]+", ok.text)


def test_stream_chunks_concatenate_to_the_output(lm, prompts):
    pattern = r"[αβγ中文é ]{6,12}"
    whole = decode(lm, prompts[:1], [_matcher(lm, pattern)], max_new_tokens=40)[0]
    chunks = list(stream_text(lm, prompts[0], _matcher(lm, pattern), max_new_tokens=40))
    assert "".join(chunks) == whole.text and len(chunks) > 1
    assert all("\ufffd" not in c for c in chunks)  # characters split across tokens arrive whole
    with pytest.raises(GenerationError):
        list(stream_text(lm, prompts[0], _matcher(lm, r"[a-z]{40}"), max_new_tokens=4))


def test_overlap_off_gives_the_same_output(lm, prompts):
    pattern = r"(ab|cd|ef){2,6}"
    a = decode(lm, prompts, [_matcher(lm, pattern) for _ in prompts], max_new_tokens=16)
    b = decode(lm, prompts, [_matcher(lm, pattern) for _ in prompts], max_new_tokens=16, overlap=False)
    assert [x.token_ids for x in a] == [x.token_ids for x in b]


def test_stop_shortcut_skips_the_final_forward(lm, prompts):
    r = decode(lm, prompts[:1], [_matcher(lm, r"(red|green|blue)")], max_new_tokens=8)[0]
    assert r.text in ("red", "green", "blue") and r.stats.stop_shortcuts == 1
    assert r.finish_reason == "stop"


def test_unconstrained_rows_stop_at_a_stop_token(lm):
    d = BatchDecoder(lm, [lm.encode_prompt("x")], None, max_new_tokens=3)
    res = d.run()[0]
    assert res.finish_reason in ("stop", "length") and res.complete
    assert all(t not in lm.stop_ids for t in res.token_ids)


def test_bad_arguments(lm, prompts):
    with pytest.raises(ValueError):
        decode(lm, [], None)
    with pytest.raises(ValueError):
        decode(lm, [[]], None)
    with pytest.raises(ValueError):
        decode(lm, prompts, [None], max_new_tokens=4)
    with pytest.raises(ValueError):
        decode(lm, prompts[:1], None, max_new_tokens=0)
