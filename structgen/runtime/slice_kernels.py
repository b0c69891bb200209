"""Numba kernels for vocabulary slices (see ``plain_slices.py`` and ``class_slices.py``)."""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def char_masks(flat, offsets, ids, words):
    """uint32[128, words]: row ``c`` has the bits of the tokens among ``ids`` containing ASCII byte ``c``."""
    out = np.zeros((128, words), np.uint32)
    for t in ids:
        bit = np.uint32(1) << np.uint32(t & 31)
        for i in range(offsets[t], offsets[t + 1]):
            b = flat[i]
            if b < 128:
                out[b, t >> 5] |= bit
    return out


@njit(cache=True, nogil=True, _nrt=False)
def class_row(out, base, limit, masks, excluded, scratch):
    """``out |= base & limit & ~(OR of masks[c] for c in excluded)`` (rows of packed bits)."""
    words = out.shape[0]
    for w in range(words):
        scratch[w] = 0
    for c in excluded:
        row = masks[c]
        for w in range(words):
            scratch[w] |= row[w]
    for w in range(words):
        out[w] |= base[w] & limit[w] & ~scratch[w]
