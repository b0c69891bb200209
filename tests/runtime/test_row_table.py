"""Row tables grow without copying rows, and growing never changes a mask."""
from __future__ import annotations

import numpy as np
import pytest

from structgen.json_schema import compile_json_schema
from structgen.runtime import masks as masks_mod
from structgen.runtime.masks import MaskStore
from structgen.runtime.matcher import Matcher
from structgen.runtime.row_table import RowTable
from tests.conftest import get_vocab

SCHEMA = {"type": "object", "properties": {
    "id": {"type": "string", "pattern": "^[a-f0-9]{8}$"}, "n": {"type": "integer", "minimum": 3},
    "tags": {"type": "array", "items": {"enum": ["red", "green", "blue"]}},
    "sub": {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "string", "maxLength": 5}}}}}
TEXTS = ['{"id": "0a1b2c3d", "n": 12, "tags": ["red", "blue"], "sub": {"x": -1.5e3, "y": "hé"}}',
         '{"n": 3, "sub": {"y": ""}}']


@pytest.mark.parametrize("use_memfd", [True, False])
def test_growing_keeps_rows_and_old_views(use_memfd):
    table = RowTable(4, 3, use_memfd=use_memfd)
    table.array[:] = np.arange(12, dtype=np.uint32).reshape(4, 3)
    old = table.array
    table.grow(9)
    assert table.array.shape == (9, 3)
    assert table.array[:4].tolist() == old.tolist() == np.arange(12).reshape(4, 3).tolist()
    assert not table.array[4:].any()
    table.array[6] = 7
    if use_memfd and table.shares_on_growth:  # one memory: a write through either view shows in both
        table.array[1, 1] = 99
        assert old[1, 1] == 99
    with pytest.raises(ValueError):
        table.grow(9)


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


def test_growing_store_keeps_every_mask(monkeypatch):
    vocab = get_vocab("gpt2")
    cg = compile_json_schema(SCHEMA, vocab)
    cg.masks = MaskStore(cg)
    expect = [_masks_along(cg, vocab, t) for t in TEXTS]
    monkeypatch.setattr(masks_mod, "_INITIAL_ROWS", 2)
    cg.masks = small = MaskStore(cg)
    got = [_masks_along(cg, vocab, t) for t in TEXTS]
    assert small.n_rows > 32  # grew from 8 rows at least twice
    for a, b in zip(expect, got):
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
