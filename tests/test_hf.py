"""structgen.hf: the LogitsProcessor with model.generate (greedy, sampling, beams, batches, reuse)."""
from __future__ import annotations

import re

import pytest
import torch
from transformers import LogitsProcessorList

from structgen.generation.loop import decode
from structgen.hf import StructgenLogitsProcessor, make_logits_processor
from tests.conftest import get_tokenizer
from tests.generation.tiny import tiny_lm, torch_single_thread  # noqa: F401 (fixture)

EMAIL = r"[a-z]{1,8}@[a-z]{2,5}\.(com|org)"

pytestmark = pytest.mark.usefixtures("torch_single_thread")


@pytest.fixture(scope="module")
def setup():
    lm = tiny_lm("gpt2")
    return lm, lm.model, get_tokenizer("gpt2")


def _left_padded(tok, texts, pad):
    ids = [tok(t)["input_ids"] for t in texts]
    width = max(map(len, ids))
    input_ids = torch.full((len(ids), width), pad, dtype=torch.long)
    attn = torch.zeros((len(ids), width), dtype=torch.long)
    for i, seq in enumerate(ids):
        input_ids[i, width - len(seq):] = torch.tensor(seq)
        attn[i, width - len(seq):] = 1
    return input_ids, attn


def _texts(lm, sequences, width):
    out = []
    for row in sequences[:, width:].tolist():
        cut = next((i for i, t in enumerate(row) if t in lm.stop_ids), len(row))
        out.append(lm.vocab.decode(row[:cut]).decode("utf-8"))
    return out


def _generate(lm, model, proc, input_ids, attn, **kw):
    return model.generate(input_ids=input_ids, attention_mask=attn, logits_processor=LogitsProcessorList([proc]),
                          pad_token_id=lm.pad_id, eos_token_id=lm.stop_ids, **kw)


def test_greedy_batch_matches_the_structgen_loop(setup):
    lm, model, tok = setup
    proc = make_logits_processor(regex=EMAIL, tokenizer=tok, model=model)
    texts = ["first prompt", "the second, longer prompt here", "3"]
    input_ids, attn = _left_padded(tok, texts, lm.pad_id)
    seqs = _generate(lm, model, proc, input_ids, attn, max_new_tokens=30, do_sample=False)
    got = _texts(lm, seqs, input_ids.shape[1])
    from structgen.runtime.matcher import Matcher

    compiled = proc.compiled
    ours = decode(lm, [tok(t)["input_ids"] for t in texts], [Matcher(compiled) for _ in texts], max_new_tokens=30)
    for g, o in zip(got, ours):
        assert re.fullmatch(EMAIL, g)
        assert g == o.text


def test_sampling_and_reuse_across_calls(setup):
    lm, model, tok = setup
    proc = make_logits_processor(regex=EMAIL, tokenizer=tok, model=model)
    for seed in range(3):
        torch.manual_seed(seed)
        input_ids, attn = _left_padded(tok, ["a", "bb cc"][: 1 + seed % 2], lm.pad_id)
        seqs = _generate(lm, model, proc, input_ids, attn, max_new_tokens=30, do_sample=True, temperature=1.5,
                         top_k=0, top_p=1.0)
        for t in _texts(lm, seqs, input_ids.shape[1]):
            assert re.fullmatch(EMAIL, t), t


def test_beam_search_outputs_are_valid(setup):
    lm, model, tok = setup
    pattern = r"(alpha|beta|gamma)-[0-9]{1,3}"
    proc = make_logits_processor(regex=pattern, tokenizer=tok, model=model)
    input_ids, attn = _left_padded(tok, ["x", "a longer one"], lm.pad_id)
    seqs = _generate(lm, model, proc, input_ids, attn, max_new_tokens=12, num_beams=4, num_return_sequences=2,
                     do_sample=False, early_stopping=True)
    texts = _texts(lm, seqs, input_ids.shape[1])
    assert len(texts) == 4
    for t in texts:
        assert re.fullmatch(pattern, t), t
    assert proc.copies > 0  # beams were duplicated and their matchers copied, not replayed


def test_processor_unit_resync_and_masking(setup):
    lm, model, tok = setup
    proc = make_logits_processor(choices=["ab", "abc", "b"], tokenizer=tok)
    ids_a, ids_b, ids_c = (tok.convert_tokens_to_ids(x) for x in ("a", "b", "c"))
    prompt = torch.tensor([[5, 6], [5, 6]])
    s = proc(prompt, torch.zeros(2, len(tok)))
    allowed = torch.isfinite(s[0]).nonzero().flatten().tolist()
    assert ids_a in allowed and ids_b in allowed and ids_c not in allowed
    # rows swap and both continue with "a" / "b": matchers follow the rows
    s = proc(torch.tensor([[5, 6, ids_b], [5, 6, ids_a]]), torch.zeros(2, len(tok)))
    assert torch.isfinite(s[0]).nonzero().flatten().tolist() == lm.stop_ids  # "b" is complete
    assert ids_b in torch.isfinite(s[1]).nonzero().flatten().tolist()
    # a token the constraint rejects kills the row (beam search only): all -inf
    s = proc(torch.tensor([[5, 6, ids_b, ids_a], [5, 6, ids_a, ids_b]]), torch.zeros(2, len(tok)))
    assert not torch.isfinite(s[0]).any() and proc.row_status(0) == "dead"
    assert torch.isfinite(s[1, lm.stop_ids]).all()
    # wider scores (padded embeddings): extra columns disallowed
    proc.reset()
    s = proc(prompt, torch.zeros(2, len(tok) + 40))
    assert not torch.isfinite(s[:, len(tok):]).any()
    assert isinstance(proc, StructgenLogitsProcessor)


def test_constructor_forms(setup):
    lm, model, tok = setup
    from structgen.generation.constraints import make_constraint

    c = make_constraint(regex="[0-9]{2}")
    compiled = c.compile(lm.vocab)
    assert make_logits_processor(compiled).compiled is compiled
    assert make_logits_processor(c, tok, model=model).compiled is compiled
    with pytest.raises(ValueError):
        make_logits_processor(tokenizer=tok)
    with pytest.raises(ValueError):
        make_logits_processor(compiled, regex="a")
