"""Token selection: greedy, temperature, top-k, top-p, seeds, and masked (-inf) logits."""
from __future__ import annotations

import pytest
import torch

from structgen.errors import GenerationError
from structgen.generation.sampling import SamplingParams, filter_logits, sample_next
from tests.generation.tiny import torch_single_thread  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("torch_single_thread")

NEG = float("-inf")


def test_greedy_is_argmax_lowest_id_on_ties():
    logits = torch.tensor([[0.0, 3.0, 3.0, NEG], [NEG, NEG, -1.0, -2.0]])
    assert sample_next(logits, SamplingParams()).tolist() == [1, 2]
    assert SamplingParams(temperature=None).greedy and SamplingParams(temperature=0).greedy


def test_top_k_keeps_the_k_best():
    logits = torch.tensor([[1.0, 5.0, 3.0, 4.0, NEG]])
    out = filter_logits(logits, SamplingParams(temperature=1.0, top_k=2))
    assert torch.isfinite(out).tolist() == [[False, True, False, True, False]]


def test_top_p_keeps_the_smallest_nucleus():
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    logits = probs.log()
    keep = lambda p: torch.isfinite(filter_logits(logits, SamplingParams(temperature=1.0, top_p=p)))[0].tolist()  # noqa: E731
    assert keep(0.5) == [True, False, False, False]
    assert keep(0.6) == [True, True, False, False]
    assert keep(0.8) == [True, True, False, False]
    assert keep(0.81) == [True, True, True, False]
    assert keep(1.0) == [True, True, True, True]


def test_masked_tokens_are_never_sampled():
    logits = torch.full((4, 1000), NEG)
    allowed = [3, 500, 999]
    logits[:, allowed] = torch.tensor([0.1, 0.2, 0.3])
    params = SamplingParams(temperature=5.0, seed=0)
    gen = params.make_generator()
    seen = set()
    for _ in range(50):
        seen.update(sample_next(logits, params, gen).tolist())
    assert seen == set(allowed)


def test_seed_reproducible_and_independent_of_global_rng():
    logits = torch.randn(2, 100)
    params = SamplingParams(temperature=1.0, seed=123)
    a = [sample_next(logits, params, g).tolist() for g in [params.make_generator()] for _ in range(5)]
    torch.manual_seed(999)
    b = [sample_next(logits, params, g).tolist() for g in [params.make_generator()] for _ in range(5)]
    assert a == b


def test_all_masked_row_raises():
    with pytest.raises(GenerationError):
        sample_next(torch.full((1, 8), NEG), SamplingParams())


@pytest.mark.parametrize("kwargs", [{"temperature": -1.0}, {"top_k": -1}, {"top_p": 0.0}, {"top_p": 1.5}])
def test_invalid_params(kwargs):
    with pytest.raises(ValueError):
        SamplingParams(**kwargs)


def test_sampling_follows_the_distribution():
    probs = torch.tensor([0.0, 0.1, 0.0, 0.6, 0.3, 0.0])
    logits = probs.log().unsqueeze(0).repeat(4000, 1)
    params = SamplingParams(temperature=1.0, seed=11)
    ids = sample_next(logits, params, params.make_generator())
    counts = torch.bincount(ids, minlength=6).double() / ids.numel()
    assert counts[[0, 2, 5]].sum() == 0
    assert torch.allclose(counts, probs.double(), atol=0.03)
