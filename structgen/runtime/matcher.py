"""Matcher: the per-sequence runtime state walked during decoding.

The contract follows XGrammar's ``GrammarMatcher`` and vLLM's structured-output backend
(``accept_tokens`` / ``validate_tokens`` / ``rollback`` / ``fill_bitmask`` / ``is_terminated``), so
engines can be swapped and samplers / speculative decoding can rely on it:

===============================  ==============================================================
call                             cost
===============================  ==============================================================
``advance(t)`` / ``is_allowed``  one Earley step per byte of ``t`` (no mask computation)
``validate_tokens(ids)``         the same for each id, then truncation back
``rollback(k)``                  O(1): truncate the chart to a remembered set index
``copy()``                       O(chart size) array copies (no Python object per item)
``fill_next_token_bitmask``      OR of cached per-state rows + walks of split subtrees
===============================  ==============================================================

Bitmask layout: int32 array ``(batch, ceil(V/32))``; bit ``j % 32`` of word ``j // 32`` is token
``j`` (LSB first), 1 = allowed. Stop tokens are allowed exactly when the text so far is a
complete member of the language; special tokens that are not stop tokens, tokens with no bytes
and ids ``>= vocab_size`` are never allowed.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, Sequence

import numpy as np

from ..errors import MatcherTerminatedError
from . import kernels as K
from .chart import Chart
from .compiled import CompiledGrammar

_INITIAL_SETS = 2  # virtual set 0 + the closure of the root item
MAX_FORCED_BYTES = 4096
_NO_ENTRIES = np.empty(0, np.int32)
_NO_FOLLOW = np.zeros(256, np.bool_)


class Matcher:
    """Walks a :class:`CompiledGrammar` token by token.

    ``max_rollback_tokens`` bounds how many past tokens :meth:`rollback` can undo (``None``:
    unbounded); it only limits bookkeeping, the chart keeps every set either way.
    """

    def __init__(self, compiled: CompiledGrammar, *, max_rollback_tokens: int | None = None) -> None:
        self.compiled = compiled
        self.max_rollback_tokens = max_rollback_tokens
        self._chart = Chart()
        self._chart.run(K.init_chart, compiled.g, compiled.start_state)
        self._history: list[int] = []  # chart size (n_sets) before each accepted token
        self._tokens: list[int] = []
        self._terminated = False
        self._kernel_buf = np.empty(64, np.int32)
        self._byte_buf = np.zeros(256, np.bool_)
        self._depth_set = np.zeros_like(compiled.depth_set)
        self._stop_set = frozenset(int(t) for t in compiled.stop_ids)
        self._stop_words = _stop_words(compiled.stop_ids)
        self._unique = compiled.unique_strings
        self._ustate = None       # structgen.runtime.unique state after the accepted tokens
        self._uhist: list = []    # that state before each accepted token (parallel to _history)

    # ------------------------------------------------------------------ basics
    @property
    def vocab_size(self) -> int:
        """Mask width in tokens (the model's logit width)."""
        return self.compiled.vocab_size

    @property
    def tokens(self) -> list[int]:
        """Token ids accepted so far (within the rollback window)."""
        return list(self._tokens)

    def _check_id(self, token_id: int) -> int:
        t = int(token_id)
        if t < 0 or t >= self.compiled.vocab_size:
            raise ValueError(f"token id {token_id} out of range [0, {self.compiled.vocab_size})")
        return t

    def can_stop(self) -> bool:
        """True when the text so far is a complete member (a stop token is allowed now)."""
        return self._terminated or bool(K.can_stop(self.compiled.g, self._chart.c))

    def is_terminated(self) -> bool:
        """True after a stop token was accepted."""
        return self._terminated

    def _scan_token(self, t: int, ustate):
        """Scan token ``t`` (not a stop token) into the chart. Returns ``(True, state after)`` for
        the run-time checks (:mod:`.unique`) or ``(False, None)`` with the chart unchanged."""
        comp = self.compiled
        lo = comp.token_offsets[t]
        hi = comp.token_offsets[t + 1]
        if lo == hi:
            return False, None
        active = self._unique.active
        n0 = self._chart.n_sets if active else 0
        if self._chart.run(K.scan_bytes, comp.g, comp.token_bytes_flat, lo, hi) != 1:
            return False, None
        if not active:
            return True, None
        after = self._unique.step(ustate, comp.vocab.token_bytes[t], self._chart, n0)
        if after is False:
            self._chart.truncate(n0)
            return False, None
        return True, after

    def _token_ok(self, t: int) -> bool:
        """Whether non-stop token ``t`` may come next (state unchanged)."""
        n0 = self._chart.n_sets
        ok, _ = self._scan_token(t, self._ustate)
        if ok:
            self._chart.truncate(n0)
        return ok

    # ------------------------------------------------------------------ queries
    def is_allowed(self, token_id: int) -> bool:
        """Whether ``token_id`` may come next (no mask computation; state unchanged)."""
        t = self._check_id(token_id)
        if self._terminated:
            return False
        if t in self._stop_set:
            return self.can_stop()
        return self._token_ok(t)

    def validate_tokens(self, token_ids: Iterable[int]) -> int:
        """Length of the longest prefix of ``token_ids`` that could be accepted in order.

        The state is left unchanged (speculative verification, rejection sampling).
        """
        n0 = self._chart.n_sets
        n = 0
        terminated = self._terminated
        ustate = self._ustate
        try:
            for tid in token_ids:
                t = self._check_id(tid)
                if terminated:
                    break
                if t in self._stop_set:
                    if not K.can_stop(self.compiled.g, self._chart.c):
                        break
                    terminated = True
                else:
                    ok, ustate = self._scan_token(t, ustate)
                    if not ok:
                        break
                n += 1
        finally:
            self._chart.truncate(n0)
        return n

    # ------------------------------------------------------------------ updates
    def advance(self, token_id: int) -> bool:
        """Accept ``token_id`` if allowed (True); else return False and leave the state as is.

        Accepting a stop token terminates the matcher. Raises :class:`MatcherTerminatedError`
        when already terminated, ``ValueError`` for an out-of-range id.
        """
        t = self._check_id(token_id)
        if self._terminated:
            raise MatcherTerminatedError("advance() on a terminated matcher (a stop token was accepted)")
        n0 = self._chart.n_sets
        ustate = self._ustate
        if t in self._stop_set:
            if not K.can_stop(self.compiled.g, self._chart.c):
                return False
            self._terminated = True
        else:
            ok, ustate = self._scan_token(t, ustate)
            if not ok:
                return False
        self._history.append(n0)
        self._tokens.append(t)
        self._uhist.append(self._ustate)
        self._ustate = ustate
        if self.max_rollback_tokens is not None and len(self._history) > self.max_rollback_tokens:
            del self._history[0]
            del self._tokens[0]
            del self._uhist[0]
        return True

    accept_token = advance

    def advance_many(self, token_ids: Iterable[int]) -> int:
        """Advance through ``token_ids`` until one is rejected; returns how many were accepted."""
        n = 0
        for t in token_ids:
            if self._terminated or not self.advance(t):
                break
            n += 1
        return n

    def rollback(self, k: int) -> None:
        """Undo the last ``k`` accepted tokens (stop tokens included)."""
        if k < 0 or k > len(self._history):
            raise ValueError(f"cannot roll back {k} tokens (history holds {len(self._history)})")
        if k == 0:
            return
        n_sets = self._history[-k]
        del self._history[-k:]
        del self._tokens[-k:]
        self._ustate = self._uhist[-k]
        del self._uhist[-k:]
        self._terminated = False
        self._chart.truncate(n_sets)

    def reset(self) -> None:
        """Back to the initial state."""
        self._chart.truncate(_INITIAL_SETS)
        self._history.clear()
        self._tokens.clear()
        self._ustate = None
        self._uhist.clear()
        self._terminated = False

    def copy(self) -> "Matcher":
        """An independent matcher in the same state (beam search, SMC particles)."""
        new = Matcher.__new__(Matcher)
        new.compiled = self.compiled
        new.max_rollback_tokens = self.max_rollback_tokens
        new._chart = self._chart.copy()
        new._history = list(self._history)
        new._tokens = list(self._tokens)
        new._terminated = self._terminated
        new._kernel_buf = np.empty_like(self._kernel_buf)
        new._byte_buf = np.zeros(256, np.bool_)
        new._depth_set = np.zeros_like(self._depth_set)
        new._stop_set = self._stop_set
        new._stop_words = self._stop_words
        new._unique = self._unique
        new._ustate = self._ustate
        new._uhist = list(self._uhist)
        return new

    # ------------------------------------------------------------------ masks
    def fill_next_token_bitmask(self, bitmask, index: int = 0) -> None:
        """Write the allowed-token mask into row ``index`` of ``bitmask``.

        ``bitmask``: int32 numpy array or CPU torch tensor shaped ``(batch, >= ceil(V/32))``.
        Words beyond the vocabulary are zeroed. After termination only stop tokens are set
        (so a finished row in a batch never produces an all ``-inf`` logit row).
        """
        row = _row_view(bitmask, index)
        comp = self.compiled
        words = comp.words
        out = row[:words]
        if row.shape[0] > words:
            row[words:] = 0
        if self._terminated:
            out[:] = 0
            can_stop = True
        else:
            can_stop = self._fill_tokens(out)
            if self._unique.active:
                self._unique.filter_mask(self._ustate, out, self._token_ok, self._chart)
        if can_stop:
            for w, bits in self._stop_words:
                out[w] |= bits

    def _fill_tokens(self, out: np.ndarray) -> bool:
        """Fill ``out`` with the allowed non-stop tokens; returns whether the text may stop."""
        comp = self.compiled
        chart = self._chart
        while True:
            r = K.kernel_states(comp.g, chart.c, self._kernel_buf)
            if r >= 0:
                break
            self._kernel_buf = np.empty(2 * self._kernel_buf.shape[0], np.int32)
        n, only_root, can_stop = r >> 2, bool(r & 2), bool(r & 1)
        states = self._kernel_buf[:n]
        masks = comp.masks
        if n == 1:
            row = masks.a_row[states[0]]
            if row < 0:
                masks.ensure(states)
                row = masks.a_row[states[0]]
            if only_root or masks.sfx_hi[row] <= masks.sfx_lo[row] + 1:
                np.copyto(out, masks.a_table[row])
                return can_stop
        else:
            masks.ensure(states)
        out[:] = 0
        chart.run(K.fill_mask, comp.g, masks.a_table, masks.a_row, masks.sfx, masks.sfx_lo, masks.sfx_hi,
                  out, self._depth_set, _NO_ENTRIES, _NO_FOLLOW)
        return can_stop

    def allowed_token_ids(self) -> np.ndarray:
        """The allowed token ids (stop tokens included when allowed), sorted."""
        bm = np.zeros((1, self.compiled.words), np.int32)
        self.fill_next_token_bitmask(bm)
        bits = np.unpackbits(bm.view(np.uint8), bitorder="little")
        return np.flatnonzero(bits[: self.compiled.vocab_size])

    # ------------------------------------------------------------------ jump-forward
    def forced_bytes(self) -> bytes:
        """The bytes every valid continuation starts with (deterministic continuation).

        Stops where more than one byte is possible or where the text could end.
        """
        if self._terminated:
            return b""
        comp = self.compiled
        chart = self._chart
        n0 = chart.n_sets
        out = bytearray()
        try:
            while len(out) < MAX_FORCED_BYTES and not K.can_stop(comp.g, chart.c):
                if K.next_byte_set(comp.g, chart.c, self._byte_buf) != 1:
                    break
                b = int(np.flatnonzero(self._byte_buf)[0])
                chart.run(K.scan_byte, comp.g, b)
                out.append(b)
        finally:
            chart.truncate(n0)
        return bytes(out)

    def forced_tokens(self) -> list[int]:
        """Tokens for a prefix of :meth:`forced_bytes`, safe to append without sampling.

        The forced bytes are tokenized canonically (the tokenizer's own encoding when the
        vocabulary carries one, else greedy longest match) and the last token is dropped unless
        the forced text ends the output: a longer token may span the boundary between forced
        and free text, and committing the shorter one would force a non-canonical split.
        """
        data = self.forced_bytes()
        if not data:
            return []
        chart = self._chart
        n0 = chart.n_sets
        chart.run(K.scan_bytes, self.compiled.g, np.frombuffer(data, np.uint8), 0, len(data))
        ends_output = bool(K.can_stop(self.compiled.g, chart.c)) and K.next_byte_set(
            self.compiled.g, chart.c, self._byte_buf) == 0
        chart.truncate(n0)
        ids = _tokenize_forced(self.compiled, data)
        if not ends_output and ids:
            ids = ids[:-1]
        n_ok = self.validate_tokens(ids)
        return ids[:n_ok]

    def consumed_bytes(self) -> bytes:
        """Bytes of the tokens accepted so far (within the rollback window)."""
        tb = self.compiled.vocab.token_bytes
        return b"".join(tb[t] for t in self._tokens if t not in self._stop_set)


def _stop_words(stop_ids: np.ndarray) -> list[tuple[int, np.uint32]]:
    """Stop ids grouped by bitmask word: ``[(word, bits), ...]``."""
    words: dict[int, int] = {}
    for t in stop_ids.tolist():
        words[t >> 5] = words.get(t >> 5, 0) | (1 << (t & 31))
    return [(w, np.uint32(b)) for w, b in sorted(words.items())]


def _row_view(bitmask, index: int) -> np.ndarray:
    if isinstance(bitmask, np.ndarray):
        arr = bitmask
    else:  # torch tensor (CPU); .numpy() shares memory
        if getattr(bitmask, "device", None) is not None and bitmask.device.type != "cpu":
            raise ValueError("fill_next_token_bitmask needs a CPU bitmask; copy it to the device afterwards "
                             "(structgen.masking.apply_token_bitmask_inplace does this)")
        arr = bitmask.numpy()
    if arr.dtype != np.int32 and arr.dtype != np.uint32:
        raise TypeError(f"bitmask must be int32, got {arr.dtype}")
    if arr.ndim == 1:
        if index != 0:
            raise IndexError("1-D bitmask has only row 0")
        row = arr
    else:
        row = arr[index]
    if not row.flags.c_contiguous:
        raise ValueError("bitmask rows must be contiguous")
    return row.view(np.uint32)


def _tokenize_forced(comp: CompiledGrammar, data: bytes) -> list[int]:
    encode = getattr(comp.vocab, "encode_canonical", None)
    ids = encode(data) if encode is not None else None
    if ids is not None and all(0 <= i < comp.vocab_size for i in ids) \
            and b"".join(comp.vocab.token_bytes[i] for i in ids) == data:
        return ids
    return _greedy_longest_match(comp, data)


def _greedy_longest_match(comp: CompiledGrammar, data: bytes) -> list[int]:
    byte, depth, subtree_end, tok_ptr, token_ids = comp.trie_arrays
    ids: list[int] = []
    pos = 0
    while pos < len(data):
        node, best, best_len = 0, -1, 0
        i = pos
        while i < len(data):
            child = node + 1
            end = subtree_end[node]
            found = -1
            while child < end:
                if byte[child] == data[i]:
                    found = child
                    break
                child = subtree_end[child]
            if found < 0:
                break
            node = found
            i += 1
            if tok_ptr[node + 1] > tok_ptr[node]:
                best, best_len = int(token_ids[tok_ptr[node]]), i - pos
        if best < 0:
            break
        ids.append(best)
        pos += best_len
    return ids


_POOL: ThreadPoolExecutor | None = None


def fill_next_token_bitmask_batch(matchers: Sequence[Matcher], bitmask, indices: Sequence[int] | None = None,
                                  *, max_threads: int | None = None) -> None:
    """Fill row ``indices[i]`` (default ``i``) of ``bitmask`` from ``matchers[i]`` for every i.

    The heavy work runs in numba kernels with the GIL released; with more than one matcher
    the rows are filled by a thread pool (``max_threads``, default: CPU count).
    """
    global _POOL
    if indices is None:
        indices = range(len(matchers))
    pairs = list(zip(matchers, indices))
    threads = max_threads if max_threads is not None else (os.cpu_count() or 1)
    if len(pairs) <= 1 or threads <= 1:
        for m, i in pairs:
            m.fill_next_token_bitmask(bitmask, i)
        return
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="structgen-fill")
    list(_POOL.map(lambda p: p[0].fill_next_token_bitmask(bitmask, p[1]), pairs))
