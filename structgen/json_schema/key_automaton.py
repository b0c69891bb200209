"""Keys that are none of the listed names, as one byte automaton built straight from their trie.

An object whose additional members are unconstrained needs a key rule "any JSON string but the
listed names". :func:`not_listed_key_automaton` builds the content (between the quotes) of the
keys it accepts (see ``SchemaCompiler._not_listed_key`` for why this language):

- **raw trie exit**: written without escapes while inside the names' trie, the key stops at a
  node that ends no name, or leaves the trie by a raw character that is no child of the node
  reached — after which any JSON string content follows, in any spelling;
- **foreign character**: or it contains, in any spelling, a character that occurs in no name.

The DFA is built directly over bytes, in time linear in the names' length: one state per node of
the names' byte trie; a copy of the JSON-string content automaton ("the key is no name any more";
accepting); and a small automaton that reads escapes (entered by a ``\\`` inside the trie) until
a foreign character shows up, one state per node of the trie of the spellings of the characters
the names use. Every byte a node does not list goes where the string automaton goes from the
state it is in after the node's bytes — so leaving in the middle of a multi-byte character or an
escape completes that unit, and UTF-8 / escape validity is exactly the string's.

Compared with building the decoded-language expression, encoding it and running the Thompson
construction over it, this skips every intermediate form (≈4 ms → ≈0.4 ms for ten names) and
yields the same language, so the same minimized automaton and rule fingerprint.
"""
from __future__ import annotations

import functools
from typing import Iterable

import numpy as np

from ..automata.regex import compile_regex_dfa
from ..cfg import ir
from . import charsets as cs
from .encoding import ANY_UNIT_REGEX, RAW, SHORT_ESCAPES

_BACKSLASH = 0x5C
_SURROGATES = frozenset(range(cs.SURROGATE_LO, cs.SURROGATE_HI + 1))
_HEX_LETTERS = b"abcdef"


def string_content_table() -> tuple[np.ndarray, np.ndarray]:
    """Dense transition table ``int32 (m, 256)`` (-1: no edge) and accepting flags of the minimal
    DFA of JSON string content (any sequence of units, every spelling; start state 0, which is
    also the state after each complete unit). Compiled once (the regex compiler caches it)."""
    dfa = compile_regex_dfa("(?:" + ANY_UNIT_REGEX + ")*")
    return dfa.trans, dfa.accept


def _spellings(cp: int) -> list[bytes]:
    """Every spelling of ``cp`` inside a JSON string, hex digits in lower case (upper case is
    added per byte when the spellings are inserted)."""
    out = []
    if cs.contains(RAW, cp):
        out.append(chr(cp).encode("utf-8"))
    short = SHORT_ESCAPES.get(cp)
    if short is not None:
        out.append(b"\\" + short.encode())
    if cp <= 0xFFFF:
        out.append(b"\\u%04x" % cp)
    else:
        v = cp - 0x10000
        out.append(b"\\u%04x\\u%04x" % (0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF)))
    return out


class _Nodes:
    """States under construction: each copies the row of a string-automaton state (the one the
    string automaton is in after the bytes that lead to it) except for its own edges."""

    def __init__(self, s_table: np.ndarray) -> None:
        self.s_table = s_table
        self.str_state: list[int] = []
        self.accept: list[bool] = []
        self.edges: list[dict[int, int]] = []

    def new(self, str_state: int, accept: bool) -> int:
        self.str_state.append(str_state)
        self.accept.append(accept)
        self.edges.append({})
        return len(self.edges) - 1

    def child(self, node: int, b: int, accept: bool = False) -> int:
        """The node reached from ``node`` by byte ``b`` (made on first use)."""
        nxt = self.edges[node].get(b)
        if nxt is None:
            nxt = self.edges[node][b] = self.new(int(self.s_table[self.str_state[node], b]), accept)
        return nxt

    def edge_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The nodes' own edges as columns (src, byte, dst)."""
        src = np.array([n for n, e in enumerate(self.edges) for _ in e], np.int64)
        byte = np.array([b for e in self.edges for b in e], np.int64)
        dst = np.array([d for e in self.edges for d in e.values()], np.int32)
        return src, byte, dst


@functools.lru_cache(maxsize=4096)
def _escape_reader(used: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The escape reader for the characters ``used`` by the names: a trie of their spellings
    (hex digits in either case) whose node 0 ("home": no foreign character yet, between units) is
    returned to after each complete spelling; every other byte goes where the string automaton
    goes, i.e. a foreign character is read and the key can no longer be a name. Returns, with
    reader-relative node numbers: each node's string-automaton state, and the edges (src, byte,
    dst). Cached: objects of one schema family share their names' alphabet."""
    nodes = _Nodes(string_content_table()[0])
    home = nodes.new(0, False)
    for cp in used:
        for sp in _spellings(cp):
            node = home
            for i, b in enumerate(sp[:-1]):
                if b in _HEX_LETTERS and i >= 2 and sp[0] == _BACKSLASH:
                    up = nodes.child(node, b)
                    nodes.edges[node][b - 32] = up  # the other letter case
                    node = up
                else:
                    node = nodes.child(node, b)
            last = sp[-1]
            nodes.edges[node][last] = home
            if last in _HEX_LETTERS and len(sp) > 2 and sp[0] == _BACKSLASH:
                nodes.edges[node][last - 32] = home
    src, byte, dst = nodes.edge_arrays()
    state = np.array(nodes.str_state, np.int64)
    for a in (state, src, byte, dst):
        a.setflags(write=False)
    return state, src, byte, dst


def not_listed_key_automaton(names: Iterable[str]) -> ir.Automaton:
    """Content automaton of the keys that are none of ``names``: raw trie exit or foreign
    character (see the module docstring).

    Names are inserted into the trie up to their first character that has no raw spelling
    (``"``, ``\\``, controls, lone surrogates): such a name cannot be written raw, so it ends no
    node, and the escape it would need is refused inside the trie unless a foreign character
    follows."""
    names = list(names)
    s_table, s_accept = string_content_table()
    nodes = _Nodes(s_table)
    root = nodes.new(0, True)
    word_ends = []
    for name in names:
        node = root
        for ch in name:
            if not cs.contains(RAW, ord(ch)):
                break
            for b in ch.encode("utf-8"):
                node = nodes.child(node, b)
        else:
            word_ends.append(node)
    trie_nodes = len(nodes.edges)
    boundary = [nodes.str_state[n] == 0 for n in range(trie_nodes)]  # at a character boundary
    for n in range(trie_nodes):
        nodes.accept[n] = boundary[n]
    for n in word_ends:
        nodes.accept[n] = False
    # escapes inside the trie: read spellings of used characters until a foreign one shows up
    used = tuple(sorted({ord(c) for name in names for c in name} - _SURROGATES))
    r_state, r_src, r_byte, r_dst = _escape_reader(used)
    home = trie_nodes
    t = trie_nodes + r_state.shape[0]
    m = s_table.shape[0]
    shifted = np.where(s_table >= 0, s_table + t, -1).astype(np.int32)
    table = np.empty((t + m, 256), np.int32)
    table[t:] = shifted
    table[:trie_nodes] = shifted[np.array(nodes.str_state)]
    table[trie_nodes:t] = shifted[r_state]
    table[r_src + home, r_byte] = r_dst + home
    # a backslash inside the trie: into the escape reader (with no used character at all, every
    # escaped character is foreign: where the string goes)
    if used:
        escape_entry = int(table[home, _BACKSLASH])
        table[np.array([n for n in range(trie_nodes) if boundary[n]]), _BACKSLASH] = escape_entry
    src, byte, dst = nodes.edge_arrays()
    table[src, byte] = dst
    accept = np.zeros(t + m, np.uint8)
    accept[:trie_nodes] = nodes.accept
    accept[t:] = s_accept
    return ir.Automaton(table.tobytes(), accept.tobytes())
