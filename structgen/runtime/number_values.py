"""Value-level questions about a byte DFA of integer texts: ``-?(0|[1-9][0-9]*)`` optionally
followed by ``.0+`` (the JSON Schema compiler's spellings of ``type: integer``).

A value has several spellings (``1``, ``1.0``, ``1.00``; ``0`` and ``-0``); after a ``.`` the
value is fixed. As for strings (:mod:`.string_values`):

- :func:`integer_lower_bounds`: per state, the number of completions spelled with digits (and
  ``-``) only, each a distinct value except that ``0`` and ``-0`` coincide (callers subtract one
  from the start state's bound); saturating at :data:`~.string_values.MANY`.
- :func:`has_unseen_integer_completion`: exact — some completion of the text decodes to a value
  not in a given finite set (a search along the set's canonical spellings).
- :func:`count_integers`: the number of distinct values from a state, up to a cap.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from .string_values import MANY, _distance_to_accept, path_counts

_DOT = 0x2E
_MINUS = 0x2D
_DIGITS = np.arange(0x30, 0x3A)


def integer_value(text: str) -> int:
    """The value of a complete integer spelling (``-0`` is 0, ``12.00`` is 12)."""
    return int(text.split(".", 1)[0])


def integer_lower_bounds(trans: np.ndarray, accept: np.ndarray, states: np.ndarray) -> dict[int, int]:
    """state → number of completions over digits and ``-`` (saturating; cycles: MANY)."""
    return path_counts(trans, accept, states, np.concatenate([_DIGITS, [_MINUS]]))


def _spellings_of(seen: Iterable[int]) -> list[str]:
    out = []
    for v in seen:
        out.append(str(v))
        if v == 0:
            out.append("-0")
    return out


def has_unseen_integer_completion(trans: np.ndarray, accept: np.ndarray, lb: dict[int, int], state: int,
                                  text: str, seen: Iterable[int]) -> bool:
    """Whether the integer text ``text`` in DFA ``state`` has a completion whose value is not in
    ``seen``. ``lb``: :func:`integer_lower_bounds` of the rule."""
    seen_set = frozenset(seen)
    spellings = _spellings_of(seen_set)
    memo: set = set()

    def search(s: int, t: str) -> bool:
        if "." in t:  # the value is fixed; the state is live, so it is reachable
            return integer_value(t) not in seen_set
        cands = [c for c in spellings if c.startswith(t)]
        if not cands:
            return True
        bound = lb.get(s, MANY) - (1 if t == "" else 0)  # "0" and "-0" are one value
        if bound > len(cands):
            return True
        if (s, t) in memo:
            return False
        memo.add((s, t))
        if accept[s] and t not in ("", "-") and integer_value(t) not in seen_set:
            return True
        row = trans[s]
        for b in np.flatnonzero(row >= 0).tolist():
            if search(int(row[b]), t + chr(b)):
                return True
        return False

    return search(state, text)


def count_integers(trans: np.ndarray, accept: np.ndarray, state: int, cap: int) -> int:
    """The number of distinct integer values completing ``state`` (the element's start), up to
    ``cap``: digit spellings only, ``-0`` not counted apart from ``0``."""
    dist = _distance_to_accept(trans, accept, state)
    count = 0
    stack: list[tuple[int, str]] = [(state, "")]
    while stack and count < cap:
        s, t = stack.pop()
        if accept[s] and t != "-0":
            count += 1
        row = trans[s]
        moves = []
        for b in list(_DIGITS) + [_MINUS]:
            s2 = int(row[b])
            if s2 >= 0:
                moves.append((dist.get(s2, 0), s2, t + chr(b)))
        moves.sort(key=lambda m: -m[0])
        stack.extend((s2, t2) for _, s2, t2 in moves)
    return min(count, cap)
