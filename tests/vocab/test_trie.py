"""TokenTrie: array invariants on real vocabularies and against a naive trie on random ones."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structgen._shared import TOKENIZER_NAMES
from structgen.vocab import TokenTrie, Vocabulary
from tests.conftest import get_vocab


def node_strings(trie: TokenTrie) -> list[bytes]:
    """Every node's byte string, reconstructed from parent links (parents precede children)."""
    strings = [b""] * trie.n_nodes
    parent = trie.parent.tolist()
    byte = trie.byte.tolist()
    for n in range(1, trie.n_nodes):
        strings[n] = strings[parent[n]] + bytes((byte[n],))
    return strings


def reference_subtree_end(depth: np.ndarray) -> np.ndarray:
    """First later node with depth <= depth[n] (stack algorithm), n_nodes if none."""
    n_nodes = depth.shape[0]
    end = np.full(n_nodes, n_nodes, dtype=np.int64)
    stack: list[int] = []
    for n, d in enumerate(depth.tolist()):
        while stack and depth[stack[-1]] >= d:
            end[stack.pop()] = n
        stack.append(n)
    return end


def check_trie(trie: TokenTrie, token_bytes, include: np.ndarray) -> None:
    """All documented invariants of the array contract."""
    n_nodes = trie.n_nodes
    assert trie.byte.dtype == np.uint8
    for arr in (trie.depth, trie.parent, trie.subtree_end, trie.tok_ptr, trie.token_ids, trie.node_of_token):
        assert arr.dtype == np.int32
    assert trie.byte.shape == trie.depth.shape == trie.parent.shape == trie.subtree_end.shape == (n_nodes,)
    assert trie.tok_ptr.shape == (n_nodes + 1,)
    assert trie.node_of_token.shape == (len(token_bytes),) and trie.n_tokens == len(token_bytes)
    assert trie.depth[0] == 0 and trie.parent[0] == -1 and trie.byte[0] == 0 and trie.subtree_end[0] == n_nodes

    # parents precede children, depth increases by one
    if n_nodes > 1:
        par = trie.parent[1:]
        assert (par >= 0).all() and (par < np.arange(1, n_nodes)).all()
        assert (trie.depth[1:] == trie.depth[par] + 1).all()
    assert trie.max_depth == int(trie.depth.max())

    # preorder with byte-sorted children == node strings strictly increasing; no duplicate children
    strings = node_strings(trie)
    assert all(strings[i] < strings[i + 1] for i in range(n_nodes - 1))

    # subtree ranges: exactly the nodes whose string extends the node's string
    assert (trie.subtree_end == reference_subtree_end(trie.depth)).all()
    for n in range(0, n_nodes, max(1, n_nodes // 2000)):
        end = int(trie.subtree_end[n])
        assert all(strings[m].startswith(strings[n]) for m in range(n, end))
        if end < n_nodes:
            assert not strings[end].startswith(strings[n])

    # tokens: CSR in node order, ascending ids per node, bytes == path bytes
    assert trie.tok_ptr[0] == 0 and trie.tok_ptr[-1] == trie.token_ids.shape[0]
    assert (np.diff(trie.tok_ptr) >= 0).all()
    expected_ids = sorted(i for i, b in enumerate(token_bytes) if b and include[i])
    assert sorted(trie.token_ids.tolist()) == expected_ids
    counts = np.diff(trie.tok_ptr)
    owner = np.repeat(np.arange(n_nodes), counts)
    assert (trie.node_of_token[trie.token_ids] == owner).all()
    for k, tid in enumerate(trie.token_ids.tolist()):
        assert strings[owner[k]] == token_bytes[tid]
        if k and owner[k] == owner[k - 1]:
            assert trie.token_ids[k - 1] < tid
    not_in = np.ones(len(token_bytes), dtype=bool)
    not_in[trie.token_ids] = False
    assert (trie.node_of_token[not_in] == -1).all()

    # no dangling nodes: every leaf ends at least one token
    leaves = np.flatnonzero(trie.subtree_end == np.arange(n_nodes) + 1)
    leaves = leaves[leaves > 0]
    assert (counts[leaves] > 0).all()
    # subtree token ranges (every node of small tries, ~40 nodes of large ones)
    for n in range(0, n_nodes, max(1, n_nodes // 40)):
        sub = set(trie.subtree_tokens(n).tolist())
        assert sub == {t for t in expected_ids if token_bytes[t].startswith(strings[n])}


@pytest.mark.parametrize("name", TOKENIZER_NAMES)
def test_trie_invariants_real_vocab(name):
    vocab = get_vocab(name)
    trie = vocab.trie
    check_trie(trie, vocab.token_bytes, vocab.text_token_mask)
    assert trie.n_trie_tokens == int(vocab.text_token_mask.sum())
    for sid in vocab.special_ids:
        assert trie.node_of_token[sid] == -1


def test_llama2_shared_bytes():
    """``▁`` and ``<0x20>`` are both b" ": one node, two ids."""
    vocab = get_vocab("llama2")
    trie = vocab.trie
    node = trie.find(b" ")
    ids = trie.tokens_at(node).tolist()
    assert len(ids) >= 2 and all(vocab.token_bytes[i] == b" " for i in ids)
    assert ids == sorted(ids)


def test_queries():
    tb = [b"ab", b"a", b"abc", b"b", b"", b"ab", b"\x00", b"\xff\x00"]
    trie = TokenTrie.build(tb)
    assert trie.node_bytes(trie.find(b"ab")) == b"ab"
    assert trie.tokens_at(trie.find(b"ab")).tolist() == [0, 5]
    assert sorted(trie.subtree_tokens(trie.find(b"a")).tolist()) == [0, 1, 2, 5]
    assert trie.find(b"abd") == -1 and trie.find(b"c") == -1 and trie.find(b"") == 0
    assert trie.node_of_token[4] == -1
    assert trie.find(b"\xff") > 0 and trie.tokens_at(trie.find(b"\xff")).size == 0
    assert trie.node_bytes(trie.node_of_token[7]) == b"\xff\x00"
    assert trie.max_depth == 3
    check_trie(trie, tb, np.ones(len(tb), dtype=bool))


def test_empty_trie():
    trie = TokenTrie.build([b"", b""])
    assert trie.n_nodes == 1 and trie.n_trie_tokens == 0 and trie.max_depth == 0
    assert trie.node_of_token.tolist() == [-1, -1]
    vocab = Vocabulary.from_token_bytes([b"x", b"y"], stop_ids=[0], special_ids=[1])
    assert vocab.trie.n_nodes == 1
    with pytest.raises(ValueError):
        TokenTrie.build([b"a"], include=np.ones(2, dtype=bool))


token_lists = st.lists(st.binary(max_size=6).map(lambda b: bytes(x % 5 * 60 for x in b))
                       | st.binary(max_size=4), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(token_lists, st.data())
def test_random_vocabularies(token_bytes, data):
    n = len(token_bytes)
    include = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    trie = TokenTrie.build(token_bytes, include=include)
    check_trie(trie, token_bytes, include)
    # naive trie: nodes = all non-empty prefixes of included tokens
    prefixes = {b""} | {t[:k] for i, t in enumerate(token_bytes) if include[i] for k in range(1, len(t) + 1)}
    assert node_strings(trie) == sorted(prefixes)


@settings(max_examples=50, deadline=None)
@given(token_lists, st.integers(0, 45), st.lists(st.integers(0, 39), max_size=4),
       st.lists(st.integers(0, 39), max_size=4))
def test_random_vocabulary_objects(token_bytes, vocab_size, stops, specials):
    n = len(token_bytes)
    stops = [s for s in stops if s < min(n, vocab_size)]
    specials = [s for s in specials if s < n]
    if vocab_size == 0:
        with pytest.raises(ValueError):
            Vocabulary.from_token_bytes(token_bytes, vocab_size=0)
        return
    vocab = Vocabulary.from_token_bytes(token_bytes, stop_ids=stops, special_ids=specials, vocab_size=vocab_size)
    expected = [i < vocab_size and bool(token_bytes[i]) and i not in stops and i not in specials for i in range(n)]
    assert vocab.text_token_mask.tolist() == expected
    check_trie(vocab.trie, vocab.token_bytes, vocab.text_token_mask)
