"""Chart: the growable arrays of an Earley chart, and retry-on-overflow around the kernels.

The numba kernels (``kernels.py``) never allocate. When one runs out of room it reports an
``OVERFLOW_*`` status and restores the chart; :meth:`Chart.run` then doubles the array that
overflowed and calls the kernel again.
"""
from __future__ import annotations

import os
from typing import Callable

import numpy as np

from ..errors import CompileLimitError
from . import kernels as K


# Resource bounds: a grammar whose parse would need more than this fails with CompileLimitError
# instead of exhausting memory. Override with the environment variables.
MAX_ITEMS = int(os.environ.get("STRUCTGEN_MAX_CHART_ITEMS", str(64_000_000)))
MAX_SET_ITEMS = int(os.environ.get("STRUCTGEN_MAX_SET_ITEMS", str(1_000_000)))


class Chart:
    """Item sets of one parse (or of a scratch walk). ``c`` is the tuple the kernels take.

    Growth is bounded by ``max_items`` (all sets together) and ``max_set_items`` (one set, i.e.
    one parser step); exceeding either raises :class:`~structgen.errors.CompileLimitError`.
    """

    __slots__ = ("items_s", "items_o", "set_ptr", "meta", "ht_key", "ht_stamp", "c", "max_items", "max_set_items")

    def __init__(self, cap_items: int = 1024, cap_sets: int = 256, hash_size: int = 256, *,
                 max_items: int | None = None, max_set_items: int | None = None):
        self.max_items = MAX_ITEMS if max_items is None else max_items
        self.max_set_items = MAX_SET_ITEMS if max_set_items is None else max_set_items
        self.items_s = np.empty(cap_items, np.int32)
        self.items_o = np.empty(cap_items, np.int32)
        self.set_ptr = np.zeros(cap_sets + 1, np.int32)
        self.meta = np.zeros(4, np.int64)
        self.ht_key = np.zeros(hash_size, np.int64)
        self.ht_stamp = np.zeros(hash_size, np.int64)
        self._pack()

    def _pack(self) -> None:
        self.c = (self.items_s, self.items_o, self.set_ptr, self.meta, self.ht_key, self.ht_stamp)

    @property
    def n_sets(self) -> int:
        return int(self.meta[0])

    def grow(self, status: int) -> None:
        """Double whichever array ``status`` says overflowed."""
        if status == K.OVERFLOW_ITEMS:
            n = self.items_s.shape[0] * 2
            if self.items_s.shape[0] >= self.max_items:
                raise CompileLimitError(f"the parse needs more than {self.max_items} Earley items "
                                        "(STRUCTGEN_MAX_CHART_ITEMS); the grammar is too ambiguous or the output too long")
            self.items_s = np.resize(self.items_s, n)
            self.items_o = np.resize(self.items_o, n)
        elif status == K.OVERFLOW_SETS:
            old = self.set_ptr
            self.set_ptr = np.zeros(old.shape[0] * 2, np.int32)
            self.set_ptr[: old.shape[0]] = old
        elif status == K.OVERFLOW_HASH:
            n = self.ht_key.shape[0] * 2
            if n > 2 * self.max_set_items:
                raise CompileLimitError(f"one parser step needs more than {self.max_set_items} Earley items "
                                        "(STRUCTGEN_MAX_SET_ITEMS); the grammar is too ambiguous")
            self.ht_key = np.zeros(n, np.int64)
            self.ht_stamp = np.zeros(n, np.int64)
        else:  # pragma: no cover - kernels only report the codes above here
            raise RuntimeError(f"unexpected kernel status {status}")
        self._pack()

    def run(self, kernel: Callable, g: tuple, *args):
        """Call ``kernel(g, self.c, *args)``, growing and retrying until it fits."""
        while True:
            r = kernel(g, self.c, *args)
            status = int(self.meta[3])
            if status == K.STATUS_OK:
                return r
            self.meta[3] = K.STATUS_OK
            self.grow(status)

    def truncate(self, n_sets: int) -> None:
        K.truncate(self.c, n_sets)

    def copy(self) -> "Chart":
        new = Chart.__new__(Chart)
        new.max_items = self.max_items
        new.max_set_items = self.max_set_items
        n_items = int(self.meta[1])
        n_sets = int(self.meta[0])
        new.items_s = np.empty_like(self.items_s)
        new.items_o = np.empty_like(self.items_o)
        new.items_s[:n_items] = self.items_s[:n_items]
        new.items_o[:n_items] = self.items_o[:n_items]
        new.set_ptr = np.empty_like(self.set_ptr)
        new.set_ptr[: n_sets + 1] = self.set_ptr[: n_sets + 1]
        new.meta = self.meta.copy()
        new.ht_key = np.zeros_like(self.ht_key)
        new.ht_stamp = np.zeros_like(self.ht_stamp)
        new._pack()
        return new

    def last_set(self) -> list[tuple[int, int]]:
        """The items of the last set (debugging and tests)."""
        k = self.n_sets - 1
        lo, hi = self.set_ptr[k], self.set_ptr[k + 1]
        return list(zip(self.items_s[lo:hi].tolist(), self.items_o[lo:hi].tolist()))
