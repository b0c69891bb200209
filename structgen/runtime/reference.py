"""A slow, obviously-correct Earley recognizer over a :class:`GrammarAutomaton` (the test oracle).

It follows the same item semantics as the numba runtime (``structgen.runtime.kernels``) but in plain
Python, with no caching, so the fast paths can be checked against it:

- an item is ``(state, origin)``: the rule owning ``state`` started at byte position ``origin``;
- set 0 is a *virtual* empty set; the root item ``(start state, 0)`` lives in set 1, so set ``k``
  holds the items after ``k - 1`` input bytes and the root never "returns" to a caller;
- prediction adds ``(rule_start[M], k)`` for each call edge on ``M`` and, when ``M`` is nullable,
  advances the caller at once (Aycock & Horspool), so completions with ``origin == k`` are skipped;
- completion of rule ``M`` from origin ``o`` advances every item of set ``o`` with a call edge on ``M``.

Because every automaton state is live and every rule productive (automaton invariants), a
non-empty item set means the input so far is a viable prefix — of the *grammar*. Arrays marked
for run-time distinctness (:data:`~structgen.cfg.ir.UNIQUE_STRINGS_PREFIX`) are checked on top by
:func:`unique_strings_ok`, written independently of ``structgen.runtime.unique``;
:func:`accepts` and :func:`is_viable_prefix` include it.
"""
from __future__ import annotations

import json
import re
import weakref

from ..cfg.automaton import GrammarAutomaton
from ..cfg.ir import UNIQUE_ELEMENT_PREFIX, UNIQUE_INTEGERS_PREFIX, UNIQUE_OBJECTS_PREFIX, UNIQUE_STRINGS_PREFIX

Item = tuple[int, int]


def _close(aut: GrammarAutomaton, sets: list[list[Item]], k: int) -> None:
    items = sets[k]
    seen = set(items)

    def add(item: Item) -> None:
        if item not in seen:
            seen.add(item)
            items.append(item)

    j = 0
    while j < len(items):
        s, o = items[j]
        j += 1
        for e in range(aut.call_ptr[s], aut.call_ptr[s + 1]):
            callee = int(aut.call_rule[e])
            add((int(aut.rule_start[callee]), k))
            if aut.nullable[callee]:
                add((int(aut.call_target[e]), o))
        if aut.accept[s] and o < k:
            rule = int(aut.state_rule[s])
            for s2, o2 in sets[o]:
                for e in range(aut.call_ptr[s2], aut.call_ptr[s2 + 1]):
                    if aut.call_rule[e] == rule:
                        add((int(aut.call_target[e]), o2))


def initial_sets(aut: GrammarAutomaton, start_state: int | None = None) -> list[list[Item]]:
    """The chart before any input: virtual set 0 and set 1 = closure of the root item."""
    if start_state is None:
        start_state = int(aut.rule_start[aut.start_rule])
    sets: list[list[Item]] = [[], [(start_state, 0)]]
    _close(aut, sets, 1)
    return sets


def feed(aut: GrammarAutomaton, sets: list[list[Item]], data: bytes) -> bool:
    """Scan ``data`` byte by byte, appending sets; False (sets left partly extended) if it dies."""
    for b in data:
        k = len(sets)
        nxt = []
        seen = set()
        for s, o in sets[k - 1]:
            t = int(aut.trans[s, b])
            if t >= 0 and (t, o) not in seen:
                seen.add((t, o))
                nxt.append((t, o))
        if not nxt:
            return False
        sets.append(nxt)
        _close(aut, sets, k)
    return True


def can_stop(aut: GrammarAutomaton, sets: list[list[Item]]) -> bool:
    """True when the input so far is a complete member (the root item can complete)."""
    return any(o == 0 and aut.accept[s] for s, o in sets[-1])


def is_viable_prefix(aut: GrammarAutomaton, data: bytes) -> bool:
    """``data`` is a prefix of some member of the language."""
    sets = initial_sets(aut)
    return feed(aut, sets, data) and unique_strings_ok(aut, sets, data)


def accepts(aut: GrammarAutomaton, data: bytes) -> bool:
    """``data`` is a member of the language."""
    sets = initial_sets(aut)
    return feed(aut, sets, data) and can_stop(aut, sets) and unique_strings_ok(aut, sets, data)


def unique_strings_ok(aut: GrammarAutomaton, sets: list[list[Item]], data: bytes) -> bool:
    """No marked array in ``data`` (fed into ``sets``) whose marked parse survives holds two equal
    complete elements (strings, integers or objects), and the unfinished element of the last one
    (from a finite language) can still end as an unseen value. A marked array starts at a ``[``
    consumed by an item of a marked rule (set ``i + 2`` holds the items after byte ``i``; the
    item's origin is ``i + 1``)."""
    ints = _marked_rules(aut, UNIQUE_INTEGERS_PREFIX)
    objs = _marked_rules(aut, UNIQUE_OBJECTS_PREFIX)
    marked = _marked_rules(aut) | ints | objs
    if not marked:
        return True
    values: list = []
    for i, b in enumerate(data):
        if b == 0x5B:
            opened = {int(aut.state_rule[s]) for s, o in sets[i + 2] if o == i + 1} & marked
            if not opened:
                continue
            if not _marked_parse_survives(aut, sets, data, i, marked):
                continue  # only other parses of this array are left: no distinctness
            if opened & objs:
                objects = _array_objects(data, i + 1)
                if any(_json_equal(a, b) for x, a in enumerate(objects) for b in objects[:x]):
                    return False
                continue
            values = _array_integers(data, i + 1) if opened & ints else _array_strings(data, i + 1)
            if len(set(values)) != len(values):
                return False
    # elements from finite languages: the unfinished element (or the one a ',' asks for) of the
    # last marked array must still be able to end in a string not in that array
    elem = _marked_rules(aut, UNIQUE_ELEMENT_PREFIX)
    items = [(s, o) for s, o in sets[-1] if int(aut.state_rule[s]) in elem and (aut.trans[s] >= 0).any()]
    if items:
        return any(_completes_unseen_integer(aut, s, data[o - 1:].decode("ascii"), set(values))
                   if aut.trans[int(aut.rule_start[int(aut.state_rule[s])]), 0x22] < 0
                   else _completes_unseen(aut, s, data[o - 1:], set(values)) for s, o in items)
    return True


def _array_objects(data: bytes, j: int) -> list:
    """The complete objects of the array of objects whose content starts at ``data[j]``."""
    out = []
    dec = json.JSONDecoder()
    text = data[j:].decode("utf-8", "ignore")  # (a character cut at the end is unfinished anyway)
    k = 0
    while k < len(text):
        c = text[k]
        if c == "]":
            break
        if c != "{":
            k += 1
            continue
        try:
            value, k = dec.raw_decode(text, k)
        except json.JSONDecodeError:  # unfinished
            break
        out.append(value)
    return out


def _json_equal(a, b) -> bool:
    """Equality of JSON values as JSON Schema defines it (numbers by value, ``true`` ≠ ``1``,
    objects regardless of member order)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    return a == b


def _array_integers(data: bytes, j: int) -> list[int]:
    """The complete integers (each followed by a byte that cannot continue it) of the array of
    integers whose content starts at ``data[j]``; ``1.0`` counts as 1, ``-0`` as 0."""
    out = []
    for m in re.finditer(rb"-?[0-9]+(?:\.[0-9]*)?|\]", data[j:]):
        if m.group() == b"]":
            break
        if m.end() + j < len(data):
            out.append(int(m.group().split(b".")[0]))
    return out


def _completes_unseen_integer(aut: GrammarAutomaton, state: int, text: str, seen: set[int]) -> bool:
    """Some byte path from ``state`` completes the integer ``text`` to a value not in ``seen``:
    after a ``.`` the value is the integer part; a text that no seen value's spelling (``-0`` for
    0) starts with completes to an unseen value (every state is live)."""
    stack = [(state, text)]
    while stack:
        s, t = stack.pop()
        if "." in t:
            if int(t.split(".")[0]) not in seen:
                return True
            continue
        if not any(str(v).startswith(t) or (v == 0 and "-0".startswith(t)) for v in seen):
            return True
        if aut.accept[s] and t not in ("", "-") and int(t) not in seen:
            return True
        for b in range(256):
            if aut.trans[s, b] >= 0:
                stack.append((int(aut.trans[s, b]), t + chr(b)))
    return False


def _marked_parse_survives(aut: GrammarAutomaton, sets: list[list[Item]], data: bytes, i: int,
                           marked: frozenset[int]) -> bool:
    """The marked parse of the array opened by the ``[`` at ``data[i]`` (items of marked rules
    with origin ``i + 1``) is alive where the array closes, or at the end of ``data`` if it is
    still open."""
    o_arr = i + 1
    j = _array_end(data, i + 1)
    if j is not None:  # the set after ']' holds the completed marked item
        return any(o == o_arr and aut.accept[s] and int(aut.state_rule[s]) in marked for s, o in sets[j + 2])
    memo: dict[tuple[int, int], bool] = {}

    def descends(rule: int, o: int) -> bool:
        """Some item of set ``o`` calls ``rule`` and lies in the marked parse."""
        if (rule, o) not in memo:
            memo[(rule, o)] = False
            memo[(rule, o)] = any(
                rule in aut.call_rule[aut.call_ptr[s]:aut.call_ptr[s + 1]].tolist()
                and ((o2 == o_arr and int(aut.state_rule[s]) in marked)
                     or (o2 > o_arr and descends(int(aut.state_rule[s]), o2)))
                for s, o2 in sets[o])
        return memo[(rule, o)]

    return any((o == o_arr and int(aut.state_rule[s]) in marked) or (o > o_arr and descends(int(aut.state_rule[s]), o))
               for s, o in sets[-1])


def _array_end(data: bytes, j: int):
    """Index of the ``]`` closing the array whose content starts at ``data[j]``."""
    depth = 0
    while j < len(data):
        b = data[j]
        if b in (0x5B, 0x7B):
            depth += 1
        elif b in (0x5D, 0x7D):
            if depth == 0:
                return j
            depth -= 1
        elif b == 0x22:
            j += 1
            while j < len(data) and data[j] != 0x22:
                j += 2 if data[j] == 0x5C else 1
        j += 1
    return None


def _completes_unseen(aut: GrammarAutomaton, state: int, text: bytes, seen: set[str]) -> bool:
    """Some byte path from ``state`` completes the JSON string ``text`` (begun, quote included,
    or empty) to a value not in ``seen``. Depth-first along the spellings of ``seen``: a text that
    is no prefix of any of them has a completion (every state is live) and it is unseen."""
    stack = [(state, text)]
    while stack:
        s, t = stack.pop()
        if not any(_prefix_of_spelling(t, x) for x in seen):
            return True
        if aut.accept[s] and json.loads(t.decode("utf-8", "surrogatepass")) not in seen:
            return True
        for b in range(256):
            s2 = int(aut.trans[s, b])
            if s2 >= 0:
                stack.append((s2, t + bytes((b,))))
    return False


_SHORT = {'"': b'\\"', "\\": b"\\\\", "/": b"\\/", "\b": b"\\b", "\f": b"\\f", "\n": b"\\n",
          "\r": b"\\r", "\t": b"\\t"}


def _spellings(c: str) -> list[tuple[bytes, bool]]:
    """The JSON spellings of character ``c``, each with whether it compares case-insensitively
    (``\\u`` escapes: hex digits in either case)."""
    out = []
    if c not in '"\\' and ord(c) >= 0x20:
        out.append((c.encode("utf-8", "surrogatepass"), False))
    if c in _SHORT:
        out.append((_SHORT[c], False))
    u = c.encode("utf-16-be", "surrogatepass")
    out.append((b"".join(b"\\u%04x" % int.from_bytes(u[i:i + 2], "big") for i in range(0, len(u), 2)), True))
    return out


def _prefix_of_spelling(text: bytes, x: str) -> bool:
    """``text`` is a prefix of some JSON spelling of the string ``x`` (quotes included)."""
    if not text:
        return True
    if text[0] != 0x22:
        return False
    body = text[1:]

    def rec(i: int, j: int) -> bool:
        if i == len(body):
            return True
        if j == len(x):
            return body[i:] == b'"'
        for sp, fold in _spellings(x[j]):
            seg = body[i:i + len(sp)]
            a, b = (seg.lower(), sp.lower()) if fold else (seg, sp)
            if len(seg) < len(sp):
                if b.startswith(a):
                    return True
            elif a == b and rec(i + len(sp), j + 1):
                return True
        return False

    return rec(0, 0)


_MARKED: "weakref.WeakKeyDictionary[GrammarAutomaton, dict[str, frozenset[int]]]" = weakref.WeakKeyDictionary()


def _marked_rules(aut: GrammarAutomaton, prefix: str = UNIQUE_STRINGS_PREFIX) -> frozenset[int]:
    marked = _MARKED.setdefault(aut, {}).get(prefix)
    if marked is None:
        marked = _MARKED[aut][prefix] = frozenset(r for r, name in enumerate(aut.rule_names)
                                                  if name.startswith(prefix))
    return marked


def _array_strings(data: bytes, j: int) -> list[str]:
    """The complete JSON strings of the array of strings whose content starts at ``data[j]``."""
    out = []
    while j < len(data):
        b = data[j]
        if b == 0x5D:
            break
        if b != 0x22:
            j += 1
            continue
        k = j + 1
        while k < len(data) and data[k] != 0x22:
            k += 2 if data[k] == 0x5C else 1
        if k >= len(data):
            break
        out.append(json.loads(data[j:k + 1].decode("utf-8")))
        j = k + 1
    return out


def next_bytes(aut: GrammarAutomaton, sets: list[list[Item]]) -> set[int]:
    """The bytes that can extend the input (each leads to a non-empty set)."""
    return {b for b in range(256) for s, _ in sets[-1] if aut.trans[s, b] >= 0}
