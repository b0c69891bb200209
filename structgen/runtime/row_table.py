"""A growable table of packed mask rows that grows without copying them.

Rows are 16 kB each for a 128k vocabulary; a grammar that outgrows its first 4096 rows would copy
64 MB (and fault in as many fresh pages) inside one mask fill -- tens of milliseconds. Here the
table lives in an anonymous memory file (``memfd_create``): growing extends the file and maps it
again, so the rows written so far are shared by the old and the new mapping instead of copied,
and arrays taken from the old mapping stay valid (kernels still running on them read the same
rows). The old mappings are kept until the table dies: unmapping one with thousands of touched
pages costs milliseconds, which would land on the fill that grew the table (address space is
cheap; the memory itself is shared). Pages are zero until written and cost nothing until
touched. Where memory files are not available, growing falls back to a copy.
"""
from __future__ import annotations

import mmap
import os
import weakref

import numpy as np


class RowTable:
    """``array``: a ``uint32[rows, words]`` view of the table, zero until written; :meth:`grow`
    replaces it by a larger view whose first rows are the same memory."""

    def __init__(self, rows: int, words: int, *, use_memfd: bool = True) -> None:
        self.words = words
        self._fd = -1
        self._retired: list[np.ndarray] = []  # earlier mappings of the memory file (see above)
        if use_memfd and hasattr(os, "memfd_create"):
            try:
                self._fd = os.memfd_create("structgen-rows", os.MFD_CLOEXEC)
            except OSError:  # e.g. out of file descriptors: copy on growth instead
                self._fd = -1
            else:
                weakref.finalize(self, os.close, self._fd)
        self.array = self._map(rows)

    @property
    def shares_on_growth(self) -> bool:
        """Whether growing keeps rows in place (a memory file) rather than copying them."""
        return self._fd >= 0

    def _map(self, rows: int) -> np.ndarray:
        size = max(1, rows * self.words * 4)
        if self._fd >= 0:
            os.ftruncate(self._fd, size)
            buf = mmap.mmap(self._fd, size)
        else:
            buf = mmap.mmap(-1, size)
        return np.frombuffer(buf, np.uint32, rows * self.words).reshape(rows, self.words)

    def grow(self, rows: int) -> None:
        """Make room for ``rows`` rows (more than now), keeping every row written so far."""
        old = self.array
        if rows <= old.shape[0]:
            raise ValueError(f"RowTable.grow: {rows} rows is not more than {old.shape[0]}")
        new = self._map(rows)
        if self._fd < 0:
            new[:old.shape[0]] = old
        else:
            self._retired.append(old)
        self.array = new
