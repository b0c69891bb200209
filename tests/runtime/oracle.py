"""Brute-force oracles for mask tests: what the mask *should* be, computed the slow way."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from structgen.runtime import reference as R


def bitmask_to_set(bitmask_row: np.ndarray, vocab_size: int) -> set[int]:
    bits = np.unpackbits(np.ascontiguousarray(bitmask_row).view(np.uint8), bitorder="little")
    return set(np.flatnonzero(bits[:vocab_size]).tolist())


def reference_allowed(aut, vocab, prefix: bytes, token_ids: Iterable[int] | None = None) -> set[int]:
    """Tokens t with prefix+bytes(t) viable (non-stop, with bytes) plus stop ids iff prefix complete.

    Uses the pure-Python Earley recognizer: set-up once for ``prefix``, then each token's bytes
    are fed from a shallow copy of the chart.
    """
    sets = R.initial_sets(aut)
    assert R.feed(aut, sets, prefix), f"prefix {prefix!r} is not viable"
    stop = set(vocab.stop_ids)
    special = set(getattr(vocab, "special_ids", ()))
    ids = range(min(vocab.vocab_size, len(vocab.token_bytes))) if token_ids is None else token_ids
    out = set()
    complete = R.can_stop(aut, sets)
    for t in ids:
        if t in stop:
            if complete:
                out.add(t)
            continue
        b = vocab.token_bytes[t]
        if not b or t in special:
            continue
        if R.feed(aut, list(sets), b):
            out.add(t)
    return out


class DfaOracle:
    """For a single-rule (pure regex) automaton: which tokens stay alive from a DFA state.

    Vectorized over the whole vocabulary: walks every token's bytes through ``trans`` column by
    column (no trie, no Earley) — an independent check of the trie-walk kernels.
    """

    def __init__(self, vocab):
        tb = vocab.token_bytes
        n = min(vocab.vocab_size, len(tb))
        excluded = set(getattr(vocab, "special_ids", ())) | set(vocab.stop_ids)
        self.lengths = np.array([0 if i in excluded else len(tb[i]) for i in range(n)])
        maxlen = int(self.lengths.max()) if n else 0
        flat = np.frombuffer(b"".join(tb[i] if self.lengths[i] else b"" for i in range(n)), np.uint8)
        self.mat = np.zeros((n, maxlen), np.int64)
        rows = np.repeat(np.arange(n), self.lengths)
        cols = np.arange(flat.shape[0]) - np.repeat(np.cumsum(self.lengths) - self.lengths, self.lengths)
        self.mat[rows, cols] = flat

    def allowed(self, trans: np.ndarray, state: int) -> set[int]:
        n, maxlen = self.mat.shape
        states = np.full(n, state, np.int64)
        alive = self.lengths > 0
        for d in range(maxlen):
            active = alive & (self.lengths > d)
            if not active.any():
                break
            nxt = trans[np.maximum(states, 0), self.mat[:, d]]
            dead = active & (nxt < 0)
            alive &= ~dead
            states = np.where(active, nxt, states)
        return set(np.flatnonzero(alive).tolist())
