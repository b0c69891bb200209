"""Rows stored in chunks of doubling size: growing the table never changes a mask."""
from __future__ import annotations

import numpy as np

from structgen.json_schema import compile_json_schema
from structgen.runtime import kernels as K
from structgen.runtime import masks as masks_mod
from structgen.runtime.masks import MaskStore
from structgen.runtime.matcher import Matcher
from tests.conftest import get_vocab

SCHEMA = {"type": "object", "properties": {
    "id": {"type": "string", "pattern": "^[a-f0-9]{8}$"}, "n": {"type": "integer", "minimum": 3},
    "tags": {"type": "array", "items": {"enum": ["red", "green", "blue"]}},
    "sub": {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "string", "maxLength": 5}}}}}
TEXTS = ['{"id": "0a1b2c3d", "n": 12, "tags": ["red", "blue"], "sub": {"x": -1.5e3, "y": "hé"}}',
         '{"n": 3, "sub": {"y": ""}}']


def _masks_along(cg, vocab, text):
    """The mask before each token of ``text`` and after the last."""
    out = []
    bm = np.zeros((1, cg.words), np.int32)
    m = Matcher(cg)
    for t in vocab.encode_canonical(text.encode()) + [None]:
        m.fill_next_token_bitmask(bm)
        out.append(bm.copy())
        assert t is None or m.advance(t)
    return out


def test_chunk_of_covers_every_row_once():
    c0 = 8
    seen = []
    for r in range(c0 * (2 ** K.N_ROW_CHUNKS + 5)):
        i, j = K.chunk_of(r, c0)
        size = c0 << i if i < K.N_ROW_CHUNKS - 1 else 10 ** 9
        assert 0 <= j < size
        seen.append((i, j))
    assert len(set(seen)) == len(seen)
    assert seen[c0] == (1, 0) and seen[3 * c0] == (2, 0)


def test_growing_by_chunks_keeps_every_row(monkeypatch):
    vocab = get_vocab("gpt2")
    cg = compile_json_schema(SCHEMA, vocab)
    cg.masks = MaskStore(cg)
    expect = [_masks_along(cg, vocab, t) for t in TEXTS]
    monkeypatch.setattr(masks_mod, "_INITIAL_ROWS", 2)
    cg.masks = small = MaskStore(cg)
    got = [_masks_along(cg, vocab, t) for t in TEXTS]
    assert small._n_chunks >= 3 and small.n_rows > 3 * small.chunk0  # rows in the third chunk
    for a, b in zip(expect, got):
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
    # every stored row reads back as the row of its state
    for s in np.flatnonzero(small.a_row >= 0).tolist():
        assert np.array_equal(small.row(int(small.a_row[s])), small._get(s)[0])
