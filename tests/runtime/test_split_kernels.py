"""Split nodes → (token, position) pairs → suffix trie, against plain-Python references."""
from __future__ import annotations

import numpy as np

from structgen.runtime.compiled import _flatten_tokens
from structgen.runtime.plain_slices import plain_slices
from structgen.runtime.split_kernels import split_suffix_trie, suffix_trie_splits, trie_splits
from structgen.vocab import TokenTrie
from tests.conftest import get_vocab


def test_splits_and_suffix_trie_match_references():
    vocab = get_vocab("gpt2")
    main = vocab.trie
    rest = plain_slices(vocab, (vocab.vocab_size + 31) // 32).rest
    flat, offsets = _flatten_tokens(vocab)
    tb = vocab.token_bytes
    rng = np.random.default_rng(1)
    main_nodes = rng.choice(np.flatnonzero(main.subtree_end > np.arange(main.n_nodes) + 1), 30, replace=False)
    rest_nodes = rng.choice(np.flatnonzero(rest.subtree_end > np.arange(rest.n_nodes) + 1), 10, replace=False)
    nodes = np.concatenate([main_nodes, -1 - rest_nodes]).astype(np.int32)
    ids, pos = trie_splits(main.kernel_arrays(), rest.kernel_arrays(), nodes)
    expect = []
    for x in nodes.tolist():
        tr, v = (main, x) if x >= 0 else (rest, -1 - x)
        prefix = tr.node_bytes(v)
        below = tr.token_ids[tr.tok_ptr[v + 1]:tr.tok_ptr[tr.subtree_end[v]]]
        assert all(tb[t].startswith(prefix) and len(tb[t]) > len(prefix) for t in below.tolist())
        expect += [(t, len(prefix)) for t in below.tolist()]
    assert list(zip(ids.tolist(), pos.tolist())) == expect

    follow = np.zeros(256, np.bool_)
    follow[[ord(c) for c in ',:}] "']] = True
    sfx = split_suffix_trie(flat, offsets, ids, pos, follow)
    kept = [(t, p) for t, p in expect if follow[tb[t][p]]]
    ref = TokenTrie.build([tb[t][p:] for t, p in kept])
    assert sfx[0].tolist() == ref.byte.tolist() and sfx[2].tolist() == ref.subtree_end.tolist()
    assert sfx[4].tolist() == [kept[i][0] for i in ref.token_ids.tolist()]

    # split nodes inside that suffix trie: positions count from the token's start
    sub_nodes = np.flatnonzero(sfx[2] > np.arange(sfx[0].shape[0]) + 1)[:20].astype(np.int32)
    ids2, pos2 = suffix_trie_splits(sfx, offsets, sub_nodes)
    expect2 = []
    for v in sub_nodes.tolist():
        path = ref.node_bytes(v)
        for (t, p) in kept:
            suffix = tb[t][p:]
            if suffix.startswith(path) and len(suffix) > len(path):
                expect2.append((t, p + len(path)))
    assert sorted(zip(ids2.tolist(), pos2.tolist())) == sorted(expect2)
