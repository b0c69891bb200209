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
non-empty item set means the input so far is a viable prefix.
"""
from __future__ import annotations

from ..cfg.automaton import GrammarAutomaton

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
    return feed(aut, initial_sets(aut), data)


def accepts(aut: GrammarAutomaton, data: bytes) -> bool:
    """``data`` is a member of the language."""
    sets = initial_sets(aut)
    return feed(aut, sets, data) and can_stop(aut, sets)


def next_bytes(aut: GrammarAutomaton, sets: list[list[Item]]) -> set[int]:
    """The bytes that can extend the input (each leads to a non-empty set)."""
    return {b for b in range(256) for s, _ in sets[-1] if aut.trans[s, b] >= 0}
