"""Run-time distinctness of JSON strings in marked arrays (``uniqueItems`` beyond the grammar).

A grammar marks arrays whose string elements must be pairwise distinct by rule name
(:data:`~structgen.cfg.ir.UNIQUE_STRINGS_PREFIX`; the contract is stated there). The grammar lets
duplicates through; :class:`UniqueStrings` follows the accepted bytes and rejects a token that
*closes* a string equal (as a decoded value, escapes resolved: ``"a"`` = ``"\\u0061"``) to an
earlier element of the same array. It reads the chart at a ``[`` — the array is marked when
some item of a marked rule has just consumed that ``[`` — and at the end of each token inside the
array. An unmarked parse of the same ``[``
(an ``anyOf`` of a unique and a plain array) is then held to distinctness too while the marked
parse lives — sound, and the only incompleteness; once it dies (no item of it, or called from
it, is left in the chart) the array is no longer followed.

State (:class:`InArray`, or ``None`` outside marked arrays) is immutable, so the matcher keeps
one per accepted token for rollback and shares it on copy.

Masks: every proper prefix of a marked element has infinitely many completions (a compiler
guarantee), so with finitely many strings seen a token is dead only if it closes a duplicate.
:meth:`UniqueStrings.filter_mask` finds those tokens in per-vocabulary tables keyed by the decoded
text a token closes a string with (:class:`_Closers`); when the element so far ends inside a
character or escape, by walking the token trie along the seen strings' spellings instead (any
spelling: literal characters, short escapes, ``\\uXXXX`` in either hex case, surrogate pairs),
clearing whole subtrees below a duplicate's closing quote. Tokens that could close two strings
(three or more quotes, or a ``[`` and four) are checked one by one.

Elements from a *finite* language (each a call of a
:data:`~structgen.cfg.ir.UNIQUE_ELEMENT_PREFIX` rule) can also die before they close: a token is
rejected when, from the element's DFA state after it, no completion decodes to an unseen string
(:func:`~structgen.runtime.string_values.has_unseen_completion`; a ``,`` asks for a new element, so
it dies once every value is used). Masks clear the subtrees below such states on a trie walk along
the seen strings' spellings and check exactly the tokens that close an element and open the next
(and, when fewer than two unseen values are proved left, the tokens with a comma).

Arrays of integers (:data:`~structgen.cfg.ir.UNIQUE_INTEGERS_PREFIX`) are followed by a number
scanner instead (``num``: the element's text; it ends at the first byte that cannot continue it;
``1.0`` is 1 and ``-0`` is 0); :meth:`UniqueStrings._filter_integers` is their mask walk. Arrays
of open objects (:data:`~structgen.cfg.ir.UNIQUE_OBJECTS_PREFIX`) by a brace scanner (``obj``);
their elements never die unfinished, so only tokens that close one are checked
(:func:`json_value_key` compares values as ``jsonschema`` does).
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..cfg.ir import UNIQUE_ELEMENT_PREFIX, UNIQUE_INTEGERS_PREFIX, UNIQUE_OBJECTS_PREFIX, UNIQUE_STRINGS_PREFIX
from . import number_values, string_values

_QUOTE = 0x22
#: bytes that continue / start an integer element (``-?(0|[1-9][0-9]*)(\.0+)?``)
_NUMBER_BYTES = frozenset(b"-0123456789.")
_NUMBER_START = frozenset(b"-0123456789")
#: entries of the per-grammar cache of unseen-completion answers before it is cleared
_ALIVE_CACHE_SIZE = 100_000
_BACKSLASH = 0x5C
_WS = (0x20, 0x09, 0x0A, 0x0D)
_SHORT_ESCAPES = {ord('"'): '"', ord("\\"): "\\", ord("/"): "/", ord("b"): "\b", ord("f"): "\f",
                  ord("n"): "\n", ord("r"): "\r", ord("t"): "\t"}


@dataclass(frozen=True)
class InArray:
    """Inside a marked array: the values seen so far; inside a string element, its raw bytes
    after the opening quote (``raw``; None between elements), inside an integer its text (``num``),
    inside an object its bytes and bracket state (``obj``); the marked rules whose items consumed
    the ``[`` and their origin — the array is followed only while such an item, or a rule it
    called, is still in the chart."""

    seen: frozenset
    raw: Optional[bytes] = None
    rules: frozenset = frozenset()  # the marked rules whose items consumed the ``[``
    origin: int = -1                # those items' origin (chart set index)
    ints: bool = False              # an array of integers (elements are numbers, not strings)
    num: Optional[str] = None       # inside an integer element: its text so far
    objs: bool = False              # an array of objects
    obj: Optional[tuple] = None     # inside an object element: (raw bytes, depth, in string, escaped)

    def evolve(self, **changes) -> "InArray":
        """A copy with ``changes`` (``dataclasses.replace`` without its per-call field checks:
        this is on the per-token path)."""
        new = object.__new__(InArray)
        new.__dict__.update(self.__dict__)
        new.__dict__.update(changes)
        return new


@dataclass(frozen=True)
class _Closers:
    """Per vocabulary: tokens that close a string, by the decoded text they close it with.
    ``inside[d]``: tokens that, read from a character boundary inside a string, close it after
    text decoding to ``d``; ``between[d]``: tokens of JSON whitespace and commas, then a complete
    string decoding to ``d``. ``multi_inside`` / ``multi_outside``: tokens that could close two
    strings (three or more quotes; a ``[`` and four or more). ``two_quotes`` / ``commas``: tokens
    with two or more quotes / with a comma (candidates of the exact checks for elements from
    finite languages); ``two_quotes_open``: those of ``two_quotes`` with text after the last
    quote; ``number_after_other``: tokens where a byte that can start an integer follows one that
    cannot continue it (they may close an integer element and open the next); ``braces``: tokens
    with a ``}``. Values: int64 token id arrays, but ``brace_drop``: per token of ``braces``, how
    far it lowers the bracket depth at most (``[i, 0]`` read from outside a string, ``[i, 1]``
    from inside one), and whether it closes an object it opens itself (``[i, 2]``)."""

    inside: dict
    between: dict
    multi_inside: np.ndarray
    multi_outside: np.ndarray
    two_quotes: np.ndarray
    two_quotes_open: np.ndarray
    commas: np.ndarray
    number_after_other: np.ndarray
    braces: np.ndarray
    brace_drop: np.ndarray


_CLOSERS: dict[str, _Closers] = {}
#: per vocabulary: :meth:`UniqueStrings._between_nodes`
_BETWEEN: dict[str, tuple[list[int], list[int], list[int]]] = {}
#: per vocabulary: :meth:`UniqueStrings._number_start_nodes`
_NUMBER_STARTS: dict[str, dict[int, list[int]]] = {}


def _closers_of(vocab) -> _Closers:
    key = vocab.fingerprint
    hit = _CLOSERS.get(key)
    if hit is not None:
        return hit
    inside: dict[str, list[int]] = {}
    between: dict[str, list[int]] = {}
    multi_inside: list[int] = []
    multi_outside: list[int] = []
    two_quotes: list[int] = []
    two_quotes_open: list[int] = []
    commas: list[int] = []
    number_after_other: list[int] = []
    braces: list[int] = []
    drops: list[tuple[int, int, int]] = []
    for t, data in enumerate(vocab.token_bytes[:vocab.vocab_size]):
        if not data:
            continue
        if b"}" in data:
            braces.append(t)
            (out_drop, whole), (in_drop, _) = _bracket_drop(data, False), _bracket_drop(data, True)
            drops.append((out_drop, in_drop, whole))
        if b"," in data:
            commas.append(t)
        first_other = next((i for i, b in enumerate(data) if b not in _NUMBER_BYTES), None)
        if first_other is not None and any(b in _NUMBER_START for b in data[first_other + 1:]):
            number_after_other.append(t)
        if b'"' not in data:
            continue
        quotes = data.count(b'"')
        if quotes >= 2:
            two_quotes.append(t)
            if not data.endswith(b'"'):
                two_quotes_open.append(t)
        if quotes >= 3:
            multi_inside.append(t)
            if quotes >= 4 and b"[" in data:
                multi_outside.append(t)
        d = _closed_text(data, 0)
        if d is not None:
            inside.setdefault(d, []).append(t)
        j = 0
        while j < len(data) and data[j] in _WS + (0x2C,):
            j += 1
        if j < len(data) and data[j] == _QUOTE:
            d = _closed_text(data, j + 1)
            if d is not None:
                between.setdefault(d, []).append(t)
    res = _Closers({k: np.asarray(v, np.int64) for k, v in inside.items()},
                   {k: np.asarray(v, np.int64) for k, v in between.items()},
                   np.asarray(multi_inside, np.int64), np.asarray(multi_outside, np.int64),
                   np.asarray(two_quotes, np.int64), np.asarray(two_quotes_open, np.int64),
                   np.asarray(commas, np.int64), np.asarray(number_after_other, np.int64),
                   np.asarray(braces, np.int64), np.asarray(drops, np.int64).reshape(-1, 3))
    _CLOSERS[key] = res
    return res


def _scan_brackets(data: bytes, i: int, depth: int, in_str: bool, esc: bool, stop_at_zero: bool):
    """Follow JSON brackets and strings through ``data[i:]`` from bracket depth ``depth`` and
    string state (``in_str``, ``esc``); stops after the byte that brings the depth to 0 when
    ``stop_at_zero``. Returns (end index, depth, in_str, esc, lowest depth, whether a ``}``
    closed a bracket opened in ``data``)."""
    start = low = depth
    whole = False
    n = len(data)
    while i < n:
        b = data[i]
        i += 1
        if in_str:
            if esc:
                esc = False
            elif b == _BACKSLASH:
                esc = True
            elif b == _QUOTE:
                in_str = False
        elif b == _QUOTE:
            in_str = True
        elif b in (0x7B, 0x5B):
            depth += 1
        elif b in (0x7D, 0x5D):
            depth -= 1
            low = min(low, depth)
            whole = whole or (b == 0x7D and depth >= start)
            if stop_at_zero and depth == 0:
                break
    return i, depth, in_str, esc, low, whole


def _bracket_drop(data: bytes, in_str: bool) -> tuple[int, int]:
    """(how far ``data`` lowers the bracket depth at most, whether some ``{`` it opens is closed
    in it), read from outside or inside a JSON string."""
    _, _, _, _, low, whole = _scan_brackets(data, 0, 0, in_str, False, False)
    return -low, int(whole)


def _closed_text(data: bytes, i: int) -> Optional[str]:
    """The decoded string content from ``data[i]`` (a character boundary) to the first unescaped
    quote, or None when there is none or the bytes are not valid string content."""
    j = i
    while j < len(data):
        b = data[j]
        if b == _BACKSLASH:
            j += 2
            continue
        if b == _QUOTE:
            try:
                d, tail = decode_units("", data[i:j])
            except (ValueError, UnicodeDecodeError):
                return None
            return None if tail else d  # (raw control bytes: never in a mask, harmless)
        j += 1
    return None


def decode_units(decoded: str, tail: bytes) -> tuple[str, bytes]:
    """Move the complete characters at the front of ``tail`` (raw JSON string content, valid so
    far) onto ``decoded``; returns the new pair, ``tail`` holding an unfinished character or
    escape (a high-surrogate escape stays until its pair partner is known). Agrees with
    ``json.loads`` on complete strings."""
    out = [decoded]
    i, n = 0, len(tail)
    while i < n:
        c = tail[i]
        if c == _BACKSLASH:
            if i + 1 >= n:
                break
            e = tail[i + 1]
            if e != 0x75:  # 'u'
                if e not in _SHORT_ESCAPES:
                    raise ValueError(f"invalid escape \\{chr(e)}")
                out.append(_SHORT_ESCAPES[e])
                i += 2
                continue
            if i + 6 > n:
                break
            code = _hex4(tail[i + 2:i + 6])
            if 0xD800 <= code < 0xDC00:
                if i + 7 > n:
                    break
                if tail[i + 6] == _BACKSLASH:
                    if i + 8 > n:
                        break
                    if tail[i + 7] == 0x75:
                        if i + 12 > n:
                            break
                        low = _hex4(tail[i + 8:i + 12])
                        if 0xDC00 <= low < 0xE000:
                            out.append(chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)))
                            i += 12
                            continue
            out.append(chr(code))
            i += 6
        elif c < 0x80:
            out.append(chr(c))
            i += 1
        else:
            k = 2 if c < 0xE0 else 3 if c < 0xF0 else 4
            if i + k > n:
                break
            out.append(tail[i:i + k].decode("utf-8", "surrogatepass"))
            i += k
    return "".join(out), tail[i:]


class UniqueStrings:
    """The per-grammar part: which states belong to marked rules, and a cache of trie children
    (the per-vocabulary token tables are built on the first mask and shared across grammars).
    Shared by all matchers of a compiled grammar."""

    def __init__(self, compiled) -> None:
        aut = compiled.automaton
        marked = np.array([n.startswith((UNIQUE_STRINGS_PREFIX, UNIQUE_INTEGERS_PREFIX, UNIQUE_OBJECTS_PREFIX))
                           for n in aut.rule_names], bool)
        self._int_rules = frozenset(r for r, n in enumerate(aut.rule_names) if n.startswith(UNIQUE_INTEGERS_PREFIX))
        self._obj_rules = frozenset(r for r, n in enumerate(aut.rule_names) if n.startswith(UNIQUE_OBJECTS_PREFIX))
        self.active = bool(marked.any())
        self.state_marked = marked[aut.state_rule] if self.active else None
        self._trie = compiled.trie_arrays
        self._vocab = compiled.vocab
        self._children: dict[int, dict[int, int]] = {}
        self._aut = aut
        self._state_rule = aut.state_rule
        # elements from finite languages: per state, whether it is inside an element rule
        elem = np.array([n.startswith(UNIQUE_ELEMENT_PREFIX) for n in aut.rule_names], bool)
        self.finite = self.active and bool(elem.any())
        if self.finite:
            # unfinished element items: states with a way on (a closed string has none; an
            # integer may go on after it could end)
            self.state_elem = elem[aut.state_rule] & (aut.trans >= 0).any(axis=1)
            self._elem_rules = frozenset(np.flatnonzero(elem).tolist())
            self._lb: dict[int, dict[int, int]] = {}
            self._elem_of: dict[int, list[int]] = {}
            # (state, decoded, tail, seen) -> has an unseen completion; shared by the matchers of
            # this grammar (the answers never change), cleared when large
            self._alive_cache: dict = {}

    # ------------------------------------------------------------------ stepping
    def opens_at(self, chart, k: int) -> frozenset:
        """The marked rules whose items consumed the ``[`` that led from set ``k - 1`` to set
        ``k`` (empty: no marked array starts there)."""
        lo, hi = int(chart.set_ptr[k]), int(chart.set_ptr[k + 1])
        s = chart.items_s[lo:hi]
        o = chart.items_o[lo:hi]
        hit = self.state_marked[s] & (o == k - 1)
        if not hit.any():
            return frozenset()
        return frozenset(self._state_rule[s[hit]].tolist())

    def step(self, state: Optional[InArray], data: bytes, chart, first_set: int):
        """The state after ``data``, which the chart has just scanned (byte ``i`` leading to set
        ``first_set + i``); ``False`` when ``data`` closes a duplicate string."""
        if state is None and b"[" not in data:
            return None
        i, n = 0, len(data)
        while i < n:
            if state is None:
                j = data.find(b"[", i)
                if j < 0:
                    return None
                i = j + 1
                rules = self.opens_at(chart, first_set + j)
                if rules:
                    state = InArray(frozenset(), None, rules, first_set + j - 1, bool(rules & self._int_rules),
                                    objs=bool(rules & self._obj_rules))
                continue
            if state.obj is not None:  # inside an object: find where it closes
                raw, depth, in_str, esc = state.obj
                j, depth, in_str, esc, _, _ = _scan_brackets(data, i, depth, in_str, esc, True)
                raw = raw + data[i:j]
                i = j
                if depth:
                    state = state.evolve(obj=(raw, depth, in_str, esc))
                    break
                try:
                    value = json_value_key(json.loads(raw))
                except ValueError:  # not a JSON value (another parse's text): not an element
                    state = state.evolve(obj=None)
                    continue
                if value in state.seen:
                    return False
                state = state.evolve(seen=state.seen | {value}, obj=None)
                continue
            if state.num is not None:  # inside an integer: it ends at the first other byte
                j = i
                while j < n and data[j] in _NUMBER_BYTES:
                    j += 1
                num = state.num + data[i:j].decode("ascii")
                if j >= n:
                    state = state.evolve(num=num)
                    break
                try:
                    value = number_values.integer_value(num)
                except ValueError:  # not an integer (another parse's number): not an element
                    state = state.evolve(num=None)
                else:
                    if value in state.seen:
                        return False
                    state = state.evolve(seen=state.seen | {value}, num=None)
                i = j
                continue
            if state.raw is None:
                b = data[i]
                i += 1
                if b == _QUOTE and not state.ints and not state.objs:
                    state = state.evolve(raw=b"")
                elif b == 0x5D:  # ']'
                    state = None
                elif state.ints and b in _NUMBER_START:
                    state = state.evolve(num=chr(b))
                elif state.objs and b == 0x7B:  # '{'
                    state = state.evolve(obj=(b"{", 1, False, False))
                continue
            # inside an element: find its closing quote
            raw = state.raw
            j = i
            escaped = _odd_backslashes(raw)
            while j < n:
                b = data[j]
                if escaped:
                    escaped = False
                elif b == _BACKSLASH:
                    escaped = True
                elif b == _QUOTE:
                    break
                j += 1
            raw = raw + data[i:j]
            if j >= n:
                state = state.evolve(raw=raw)
                break
            value = json.loads(b'"' + raw + b'"')
            if value in state.seen:
                return False
            state = state.evolve(seen=state.seen | {value}, raw=None)
            i = j + 1
        if state is not None:
            k = chart.n_sets - 1
            if not self._array_alive(state, chart, k):
                return None  # only other parses of the text are left (an ``anyOf`` with a plain array)
            if self.finite and not self.element_alive(state, chart, k):
                return False
        return state

    def _array_alive(self, state: InArray, chart, k: int) -> bool:
        """Set ``k`` holds an item of the marked array ``state`` follows: one of its rules with its
        origin, or an item whose callers (through any chain of calls) lead back to one."""
        lo, hi = int(chart.set_ptr[k]), int(chart.set_ptr[k + 1])
        s = chart.items_s[lo:hi]
        o = chart.items_o[lo:hi]
        o_arr, rules = state.origin, state.rules
        # a marked item with the array's origin consumed its '[' (a marked rule starts with one)
        if bool(np.any(self.state_marked[s] & (o == o_arr))):
            return True
        r = self._state_rule[s]
        aut = self._aut
        memo: dict[tuple[int, int], bool] = {}

        def called_from_array(rule: int, at: int) -> bool:
            key = (rule, at)
            hit = memo.get(key)
            if hit is not None:
                return hit
            memo[key] = False
            a, b = int(chart.set_ptr[at]), int(chart.set_ptr[at + 1])
            for s2, o2 in zip(chart.items_s[a:b].tolist(), chart.items_o[a:b].tolist()):
                if o2 < o_arr or rule not in aut.call_rule[aut.call_ptr[s2]:aut.call_ptr[s2 + 1]]:
                    continue
                r2 = int(aut.state_rule[s2])
                if (o2 == o_arr and r2 in rules) or (o2 > o_arr and called_from_array(r2, o2)):
                    memo[key] = True
                    return True
            return False

        return any(called_from_array(int(ri), int(oi)) for ri, oi in set(zip(r.tolist(), o.tolist())) if oi > o_arr)

    # ------------------------------------------------------------------ finite element languages
    def _is_int_element(self, rule: int) -> bool:
        """An integer element rule (its first byte is not a quote)."""
        aut = self._aut
        return int(aut.trans[int(aut.rule_start[rule]), _QUOTE]) < 0

    def _lower_bounds(self, rule: int) -> dict[int, int]:
        lb = self._lb.get(rule)
        if lb is None:
            aut = self._aut
            states = string_values.rule_states(aut.state_rule, rule)
            bounds = number_values.integer_lower_bounds if self._is_int_element(rule) else string_values.ascii_lower_bounds
            lb = self._lb[rule] = bounds(aut.trans, aut.accept, states)
        return lb

    def element_states(self, chart, k: int) -> list[int]:
        """States of unfinished element items in set ``k`` (an element not yet opened: its rule's
        start state)."""
        lo, hi = int(chart.set_ptr[k]), int(chart.set_ptr[k + 1])
        s = chart.items_s[lo:hi]
        return sorted(set(s[self.state_elem[s]].tolist()))

    def _alive(self, states, decoded: str, tail: bytes, seen, memo: dict) -> bool:
        """Some element in one of DFA ``states`` (content so far: ``decoded`` + ``tail``; a string
        rule's start state: not opened yet; for integers ``decoded`` is the text so far) completes
        to a value not in ``seen``."""
        aut = self._aut
        for st in states:
            key = (st, decoded, tail, seen)
            hit = memo.get(key)
            if hit is None:
                hit = self._alive_cache.get(key)
            if hit is None:
                if len(self._alive_cache) > _ALIVE_CACHE_SIZE:
                    self._alive_cache.clear()
                r = int(aut.state_rule[st])
                if self._is_int_element(r):
                    hit = number_values.has_unseen_integer_completion(
                        aut.trans, aut.accept, self._lower_bounds(r), st, decoded, seen)
                else:
                    s2 = st
                    if st == int(aut.rule_start[r]):
                        s2 = int(aut.trans[st, _QUOTE])
                    hit = s2 >= 0 and string_values.has_unseen_completion(
                        aut.trans, aut.accept, self._lower_bounds(r), s2, decoded, tail, seen)
                self._alive_cache[key] = hit
            memo[key] = hit
            if hit:
                return True
        return False

    def element_alive(self, state: InArray, chart, k: int) -> bool:
        """Whether the element items of set ``k`` (none: True) can still end in a string not seen."""
        states = self.element_states(chart, k)
        if not states:
            return True
        if state.ints:
            return self._alive(states, state.num or "", b"", state.seen, {})
        decoded, tail = ("", b"") if state.raw is None else decode_units("", state.raw)
        return self._alive(states, decoded, tail, state.seen, {})

    # ------------------------------------------------------------------ masks
    @functools.cached_property
    def closers(self) -> _Closers:
        return _closers_of(self._vocab)

    def filter_mask(self, state: Optional[InArray], out: np.ndarray, exact_ok, chart) -> None:
        """Clear from ``out`` (the grammar's mask, uint32 words) the tokens that close a duplicate
        — and, for elements from finite languages, the tokens after which the element cannot end
        in a value not seen (or no element is left for a ``,``). ``exact_ok(t)`` checks one token
        exactly (scan + :meth:`step`); ``chart`` is the matcher's."""
        if state is None:
            cands = self.closers.multi_outside
        elif state.objs:
            # open elements: only a token that closes one can make a duplicate
            cands = self._object_closers(state) if state.seen else _NO_TOKENS
        elif state.ints:
            cands = self._filter_integers(state, out, chart)
        else:
            cands = self.closers.multi_inside
            if state.seen:
                self._clear_duplicates(state, out)
            if self.finite:
                # (even with nothing seen: a token may close a first element and open a second)
                cands = self._filter_finite(state, out, chart)
        _check_tokens(out, cands, exact_ok)

    def _object_closers(self, state: InArray) -> np.ndarray:
        """Tokens that may close the current object element (they lower the bracket depth to 0,
        read from the element's string state; all when inside an escape), or, between elements,
        a whole object they open."""
        closers = self.closers
        if state.obj is None:
            return closers.braces[closers.brace_drop[:, 2] == 1]
        _, depth, in_str, esc = state.obj
        if esc:
            return closers.braces
        return closers.braces[closers.brace_drop[:, 1 if in_str else 0] >= depth]

    def _filter_integers(self, state: InArray, out: np.ndarray, chart) -> np.ndarray:
        """Integer elements: walk the token trie along the seen values' spellings (from the
        current element, or between elements from the whitespace/comma nodes into a new one),
        clearing the subtrees below a prefix with no unseen completion and, after a complete
        integer already seen, below every byte that would end it. Returns the tokens left to check
        exactly: those that may end an element and start the next, and, when fewer than two unseen
        values are proved left, every token with a comma."""
        aut = self._aut
        trans = aut.trans
        seen = state.seen
        # every prefix of a seen value's canonical spellings (a text off these cannot end as one)
        on_path_texts = {sp[:k] for sp in number_values._spellings_of(seen) for k in range(1, len(sp) + 1)}
        starts = self._element_starts(state.rules)
        memo: dict = {}
        stack: list[tuple[int, list[int], str, bool]] = []
        if state.num is not None:
            sts = self.element_states(chart, chart.n_sets - 1)
            if sts:
                stack.append((0, sts, state.num, True))
        else:
            self._clear_commas_when_exhausted(starts, seen, memo, out)
            number_starts = self._number_start_nodes()
            for b in _NUMBER_START:
                if chr(b) in on_path_texts:
                    sts = [int(trans[s0, b]) for s0 in starts if trans[s0, b] >= 0]
                    if sts:
                        stack.extend((c, sts, chr(b), False) for c in number_starts[b])
        while stack:
            node, sts, t, root = stack.pop()
            if not root and not self._alive(sts, t, b"", seen, memo):
                self._clear_subtree(node, out)
                continue
            children = self._child_map(node)
            if t not in ("", "-") and any(aut.accept[s] for s in sts) and number_values.integer_value(t) in seen:
                for b, c in children.items():  # a byte that ends the integer closes a duplicate
                    if b not in _NUMBER_BYTES:
                        self._clear_subtree(c, out)
            for b, c in children.items():
                if b not in _NUMBER_BYTES:
                    continue
                sts2 = [int(trans[s, b]) for s in sts if trans[s, b] >= 0]
                if not sts2:
                    continue
                t2 = t + chr(b)
                if "." in t2:
                    on_path = number_values.integer_value(t2) in seen
                else:
                    on_path = t2 in on_path_texts
                if on_path:
                    stack.append((c, sts2, t2, False))
        if self._two_unseen(starts, seen):
            return self.closers.number_after_other
        return np.union1d(self.closers.number_after_other, self.closers.commas)

    def _filter_finite(self, state: InArray, out: np.ndarray, chart) -> np.ndarray:
        """Clear dead element prefixes along the seen strings' spellings (:meth:`_walk_dead`);
        returns the tokens left to check exactly: those that close an element and open the next
        (two quotes), and near exhaustion every token with a comma."""
        k = chart.n_sets - 1
        starts = self._element_starts(state.rules)
        if not starts:
            return self.closers.multi_inside
        memo: dict = {}
        if state.raw is None:
            self._walk_dead(state, out, None, "", b"", starts, memo)
        else:
            states = self.element_states(chart, k)
            if states:
                decoded, tail = decode_units("", state.raw)
                self._walk_dead(state, out, states, decoded, tail, starts, memo)
        if self._two_unseen(starts, state.seen):
            # no token can use up the last value: a token that ends right after a quote can only
            # close a duplicate (found above); one with text after its last quote may open an
            # element on a dead prefix
            return np.union1d(self.closers.two_quotes_open, self.closers.multi_inside)
        return np.unique(np.concatenate([self.closers.two_quotes, self.closers.commas, self.closers.multi_inside]))

    def _element_rules_of(self, marked_rules) -> list[int]:
        """The element rules reachable by calls from ``marked_rules`` (through helper rules such as
        chunked repetitions, not through element rules)."""
        aut = self._aut
        elem = self._elem_rules
        out: set[int] = set()
        for r0 in marked_rules:
            hit = self._elem_of.get(r0)
            if hit is None:
                found: set[int] = set()
                todo, done = [r0], {r0}
                while todo:
                    r = todo.pop()
                    for st in np.flatnonzero(aut.state_rule == r).tolist():
                        for e in range(int(aut.call_ptr[st]), int(aut.call_ptr[st + 1])):
                            c = int(aut.call_rule[e])
                            if c in elem:
                                found.add(c)
                            elif c not in done:
                                done.add(c)
                                todo.append(c)
                hit = self._elem_of[r0] = sorted(found)
            out.update(hit)
        return sorted(out)

    def _element_starts(self, marked_rules) -> list[int]:
        """Start states of the element rules of ``marked_rules``."""
        aut = self._aut
        return sorted({int(aut.rule_start[r]) for r in self._element_rules_of(marked_rules)})

    def _two_unseen(self, starts: list[int], seen) -> bool:
        """At least two values outside ``seen`` (so no closing token can use up the last one):
        proved from the lower bounds (strings: after the opening quote; integers: one less, as
        ``0`` and ``-0`` are one value), else assumed not."""
        aut = self._aut
        for st in starts:
            r = int(aut.state_rule[st])
            if self._is_int_element(r):
                bound = self._lower_bounds(r).get(st, 0) - 1
            else:
                s2 = int(aut.trans[st, _QUOTE])
                bound = self._lower_bounds(r).get(s2, 0) if s2 >= 0 else 0
            if bound >= len(seen) + 2:
                return True
        return False

    def _clear_commas_when_exhausted(self, starts: list[int], seen, memo: dict, out: np.ndarray) -> None:
        """Between elements: when no element can end as an unseen value, clear every token that
        passes a ``,`` (whitespace and a comma from the current position)."""
        if not self._alive(starts, "", b"", seen, memo):
            for c in self._between_nodes()[0]:
                self._clear_subtree(c, out)

    def _walk_dead(self, state: InArray, out: np.ndarray, states, decoded: str, tail: bytes,
                   starts: list[int], memo: dict) -> None:
        """Walk the token trie along the seen strings' spellings from the current position
        (``states`` None: between elements) and clear every subtree below a node where the element
        cannot end in a string not seen (or, at a ``,``, no unseen value is left)."""
        seen = state.seen
        trans = self._aut.trans
        stack: list[tuple] = []
        if states is not None:
            stack.append((0, states, decoded, tail, tuple(v for v in seen if v.startswith(decoded))))
        else:  # between elements: whitespace and a comma, then an opening quote
            self._clear_commas_when_exhausted(starts, seen, memo, out)
            quotes = self._between_nodes()[1]
            opened = [s1 for s1 in (int(trans[s0, _QUOTE]) for s0 in starts) if s1 >= 0]
            if opened and self._alive(opened, "", b"", seen, memo):
                stack.extend((c, opened, "", b"", tuple(seen)) for c in quotes)
            elif opened:
                for c in quotes:
                    self._clear_subtree(c, out)
        while stack:
            node, sts, d, t, cands = stack.pop()
            children = self._child_map(node)
            items = _on_path_children(children, cands, d, t)
            for b, c in items:
                try:
                    d2, t2 = decode_units(d, t + bytes((b,)))
                except (ValueError, UnicodeDecodeError):
                    continue
                c2 = tuple(v for v in cands if v.startswith(d2))
                if not c2:
                    continue
                sts2 = [int(trans[s, b]) for s in sts]
                sts2 = [s for s in sts2 if s >= 0]
                if not sts2:
                    continue
                if self._alive(sts2, d2, t2, seen, memo):
                    stack.append((c, sts2, d2, t2, c2))
                else:
                    self._clear_subtree(c, out)

    def _between_nodes(self) -> tuple[list[int], list[int], list[int]]:
        """Trie nodes reached from the root by JSON whitespace and at most one comma: those
        ending in the first comma, those ending in a quote right after such a path, and all of
        them (the root included)."""
        key = self._vocab.fingerprint
        hit = _BETWEEN.get(key)
        if hit is None:
            commas: list[int] = []
            quotes: list[int] = []
            pre: list[int] = []
            stack = [(0, False)]
            while stack:
                node, comma = stack.pop()
                pre.append(node)
                children = self._child_map(node)
                for b in _WS:
                    c = children.get(b)
                    if c is not None:
                        stack.append((c, comma))
                c = children.get(0x2C)
                if c is not None and not comma:
                    commas.append(c)
                    stack.append((c, True))
                c = children.get(_QUOTE)
                if c is not None:
                    quotes.append(c)
            hit = _BETWEEN[key] = (commas, quotes, pre)
        return hit

    def _number_start_nodes(self) -> dict[int, list[int]]:
        """Per byte that can start an integer: the trie nodes reached by it right after one of
        :meth:`_between_nodes` (whitespace and at most one comma), per vocabulary."""
        key = self._vocab.fingerprint
        hit = _NUMBER_STARTS.get(key)
        if hit is None:
            _, _, pre = self._between_nodes()
            hit = {b: [] for b in _NUMBER_START}
            for node in pre:
                children = self._child_map(node)
                for b in _NUMBER_START:
                    c = children.get(b)
                    if c is not None:
                        hit[b].append(c)
            _NUMBER_STARTS[key] = hit
        return hit

    def _child_map(self, node: int) -> dict[int, int]:
        m = self._children.get(node)
        if m is None:
            byte, _, subtree_end, _, _ = self._trie
            m = {}
            c = node + 1
            end = int(subtree_end[node])
            while c < end:
                m[int(byte[c])] = c
                c = int(subtree_end[c])
            self._children[node] = m
        return m

    def _clear_subtree(self, node: int, out: np.ndarray) -> None:
        _, _, subtree_end, tok_ptr, token_ids = self._trie
        _clear_tokens(out, token_ids[tok_ptr[node]:tok_ptr[subtree_end[node]]].astype(np.int64))

    def _clear_duplicates(self, state: InArray, out: np.ndarray) -> None:
        """Tokens closing a seen string: looked up by the decoded text they close with, unless
        the element so far ends inside a character or escape (then :meth:`_walk_duplicates`)."""
        seen = state.seen
        closers = self.closers
        if state.raw is None:
            ids = [closers.between[v] for v in seen if v in closers.between]
        else:
            decoded, tail = decode_units("", state.raw)
            if tail:
                self._walk_duplicates(state, out)
                return
            n = len(decoded)
            ids = [closers.inside[v[n:]] for v in seen if v.startswith(decoded) and v[n:] in closers.inside]
        if ids:
            _clear_tokens(out, np.concatenate(ids))

    def _walk_duplicates(self, state: InArray, out: np.ndarray) -> None:
        """The trie walk along the seen strings' spellings (any start state, slow)."""
        seen = state.seen
        stack: list[tuple[int, Optional[str], bytes, tuple]] = []
        if state.raw is None:
            stack.append((0, None, b"", ()))
        else:
            decoded, tail = decode_units("", state.raw)
            cands = tuple(v for v in seen if v.startswith(decoded))
            if cands:
                stack.append((0, decoded, tail, cands))
        while stack:
            node, decoded, tail, cands = stack.pop()
            children = self._child_map(node)
            if decoded is None:  # between elements: whitespace, commas, then an opening quote
                for b in _WS + (0x2C,):
                    c = children.get(b)
                    if c is not None:
                        stack.append((c, None, b"", ()))
                c = children.get(_QUOTE)
                if c is not None:
                    stack.append((c, "", b"", tuple(seen)))
                continue
            if not tail and decoded in seen:
                c = children.get(_QUOTE)
                if c is not None:
                    self._clear_subtree(c, out)
            items = _on_path_children(children, cands, decoded, tail)
            for b, c in items:
                if not tail and b == _QUOTE:
                    continue
                try:
                    d2, t2 = decode_units(decoded, tail + bytes((b,)))
                except (ValueError, UnicodeDecodeError):  # not a JSON string: no token here in the mask
                    continue
                if t2 and (t2[0] == _QUOTE or (t2[0] != _BACKSLASH and t2[0] < 0x20)
                           or 0x80 <= t2[0] < 0xC0 or t2[0] >= 0xF8) or len(t2) > 12:
                    continue
                c2 = tuple(v for v in cands if v.startswith(d2))
                if c2:
                    stack.append((c, d2, t2, c2))


_NO_TOKENS = np.zeros(0, np.int64)


def json_value_key(v):
    """A hashable key equal for values ``jsonschema`` counts as equal (``uniqueItems``): objects
    by their members, ``1`` = ``1.0``, ``true`` ≠ ``1``."""
    if isinstance(v, bool):
        return ("b", v)
    if isinstance(v, (int, float)):
        return ("n", v)
    if isinstance(v, str):
        return ("s", v)
    if v is None:
        return ("z",)
    if isinstance(v, list):
        return ("l", tuple(json_value_key(x) for x in v))
    return ("o", frozenset((k, json_value_key(x)) for k, x in v.items()))


def _on_path_children(children: dict[int, int], cands, decoded: str, tail: bytes) -> list[tuple[int, int]]:
    """The (byte, trie node) children that may continue spelling one of ``cands`` after text
    decoding to ``decoded`` (all of them inside an unfinished character; at a character boundary
    the literal next characters' first bytes and a backslash)."""
    if tail:
        return list(children.items())
    nexts = {_BACKSLASH}
    for v in cands:
        if len(v) > len(decoded):
            ch = v[len(decoded)]
            if ch != '"' and ch != "\\" and ord(ch) >= 0x20:
                nexts.add(ch.encode("utf-8", "surrogatepass")[0])
    return [(b, children[b]) for b in nexts if b in children]


def _check_tokens(out: np.ndarray, cands: np.ndarray, exact_ok) -> None:
    """Clear the tokens of ``cands`` that are set in ``out`` and fail ``exact_ok``."""
    if cands.size:
        on = (out[cands >> 5] >> (cands & 31).astype(np.uint32)) & 1
        dead = [t for t in cands[on.astype(bool)].tolist() if not exact_ok(t)]
        if dead:
            _clear_tokens(out, np.asarray(dead, np.int64))


def _clear_tokens(out: np.ndarray, ids: np.ndarray) -> None:
    """Clear the bits of token ``ids`` (int64) in the packed mask ``out`` (uint32 words)."""
    if ids.size:
        np.bitwise_and.at(out, ids >> 5, ~(np.uint32(1) << (ids & 31).astype(np.uint32)))


def _hex4(digits: bytes) -> int:
    if not all(c in b"0123456789abcdefABCDEF" for c in digits):
        raise ValueError(f"invalid \\u escape {digits!r}")
    return int(digits, 16)


def _odd_backslashes(raw: bytes) -> bool:
    """The raw string content ends inside an escape (an odd run of trailing backslashes)."""
    k = 0
    while k < len(raw) and raw[-1 - k] == _BACKSLASH:
        k += 1
    return k % 2 == 1
