"""Teacher forcing: walk a token sequence through a matcher, timing every mask fill.

At each step the mask is filled (timed), the token's bit is checked (a token the mask forbids is a
rejection, even if the engine's ``advance`` would take it), then the token is committed (timed;
``advance`` returning ``False`` is also a rejection). After the last token one more mask is filled
(the mask a decoder would sample the stop token from; it is timed and counted like the others),
and the engine is asked whether the text can stop.
"""
from __future__ import annotations

import gc
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np

from .engines.base import EngineMatcher, token_allowed


@dataclass
class WalkResult:
    n_tokens: int
    fill_ns: list[int] = field(default_factory=list)
    commit_ns: list[int] = field(default_factory=list)
    accepted: int = 0                 # tokens committed before a rejection (== n_tokens if none)
    rejected_by: str | None = None    # "mask" | "commit" | None
    can_stop: bool | None = None      # engine's can_stop() after the last token (None if rejected)
    stop_in_mask: bool | None = None  # a stop token is allowed by the final mask (None if rejected)

    @property
    def fully_accepted(self) -> bool:
        return self.rejected_by is None

    @property
    def accepted_and_stoppable(self) -> bool:
        """The whole sequence was taken and the engine says the text is complete."""
        return self.rejected_by is None and bool(self.can_stop)

    @property
    def mask_commit_disagree(self) -> bool:
        """The mask allowed a token that ``advance`` then refused (an engine inconsistency)."""
        return self.rejected_by == "commit"


@contextmanager
def gc_paused() -> Iterator[None]:
    """Collect garbage, then keep the collector off for the timed region."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def teacher_force(matcher: EngineMatcher, bitmask: np.ndarray, tokens: Sequence[int],
                  stop_ids: Sequence[int], *, final_fill: bool = True) -> WalkResult:
    """Walk ``tokens`` through ``matcher`` (see module docstring); ``bitmask`` is the engine's (1, words) int32 mask."""
    clock = time.perf_counter_ns
    result = WalkResult(n_tokens=len(tokens))
    fills = result.fill_ns
    commits = result.commit_ns
    for token in tokens:
        t0 = clock()
        matcher.fill(bitmask)
        t1 = clock()
        fills.append(t1 - t0)
        if not token_allowed(bitmask, token):
            result.rejected_by = "mask"
            return result
        t0 = clock()
        ok = matcher.advance(token)
        t1 = clock()
        commits.append(t1 - t0)
        if not ok:
            result.rejected_by = "commit"
            return result
        result.accepted += 1
    if final_fill:
        t0 = clock()
        matcher.fill(bitmask)
        t1 = clock()
        fills.append(t1 - t0)
        result.stop_in_mask = any(token_allowed(bitmask, s) for s in stop_ids)
    result.can_stop = bool(matcher.can_stop())
    return result
