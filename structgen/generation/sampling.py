"""Choosing the next token from (already masked) logits: greedy, temperature, top-k, top-p.

Disallowed tokens arrive as ``-inf`` logits; every rule here keeps them at probability 0, so a
sampled token is always one the constraint allows. A row with no finite logit cannot be sampled
and raises :class:`~structgen.errors.GenerationError` (the constraint allowed nothing: a bug).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from structgen.errors import GenerationError


@dataclass(frozen=True)
class SamplingParams:
    """How to pick tokens. ``temperature`` 0 (or None) means greedy (argmax, lowest id on ties).

    ``top_k``: keep the k most likely tokens (None/0: all). ``top_p``: keep the smallest set of most
    likely tokens whose probability reaches ``top_p`` (None/1.0: all). ``seed`` seeds a private
    :class:`torch.Generator`, so results do not depend on (or disturb) the global RNG.
    """

    temperature: float | None = 0.0
    top_k: int | None = None
    top_p: float | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.temperature is not None and self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if self.top_k is not None and self.top_k < 0:
            raise ValueError(f"top_k must be >= 0, got {self.top_k}")
        if self.top_p is not None and not (0.0 < self.top_p <= 1.0):
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")

    @property
    def greedy(self) -> bool:
        return not self.temperature

    def make_generator(self, device="cpu") -> torch.Generator | None:
        if self.greedy:
            return None
        gen = torch.Generator(device=device)
        if self.seed is not None:
            gen.manual_seed(int(self.seed))
        else:
            gen.seed()
        return gen


def filter_logits(logits: torch.Tensor, params: SamplingParams) -> torch.Tensor:
    """Temperature-scaled logits with top-k / top-p filtered entries set to ``-inf`` (new tensor)."""
    out = logits.float() / float(params.temperature)
    vocab = out.shape[-1]
    if params.top_k and params.top_k < vocab:
        kth = torch.topk(out, params.top_k, dim=-1).values[..., -1:]
        out = out.masked_fill(out < kth, float("-inf"))
    if params.top_p is not None and params.top_p < 1.0:
        sorted_logits, sorted_idx = torch.sort(out, dim=-1, descending=True)
        probs = torch.softmax(sorted_logits, dim=-1)
        cum = torch.cumsum(probs, dim=-1)
        # Drop a token when the mass of the strictly more likely tokens already reaches top_p;
        # the most likely token is always kept.
        drop_sorted = (cum - probs) >= params.top_p
        drop_sorted[..., 0] = False
        drop = torch.zeros_like(drop_sorted).scatter(-1, sorted_idx, drop_sorted)
        out = out.masked_fill(drop, float("-inf"))
    return out


def sample_next(logits: torch.Tensor, params: SamplingParams,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """One token id per row of ``logits`` ([batch, vocab]) -> int64 tensor [batch] (same device).

    Sampling draws one uniform number per row and inverts the CDF of the softmax (the same
    distribution as ``torch.multinomial``, several times cheaper on a CPU for a large vocabulary);
    tokens with probability 0 (``-inf`` logits) are never returned.
    """
    best = torch.max(logits, dim=-1)
    if bool(torch.isneginf(best.values).any()) or bool(torch.isnan(best.values).any()):
        bad = torch.nonzero(~torch.isfinite(best.values)).flatten().tolist()
        raise GenerationError(f"no token is allowed for batch rows {bad} (all logits are -inf)")
    if params.greedy:
        return best.indices
    filtered = filter_logits(logits, params)
    probs = torch.softmax(filtered.double(), dim=-1)
    cdf = torch.cumsum(probs, dim=-1)
    u = torch.rand((logits.shape[0], 1), generator=generator, dtype=torch.float64, device=logits.device)
    total = cdf[:, -1:]
    # strictly below the total mass, so the first cdf entry above it is a token with p > 0
    target = torch.minimum(u * total, torch.nextafter(total, torch.zeros_like(total)))
    return torch.searchsorted(cdf, target, right=True).squeeze(-1)
