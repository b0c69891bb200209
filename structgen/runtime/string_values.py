"""Value-level questions about a byte DFA of JSON string texts (quotes included).

A value may have several spellings in the DFA (``"a"``, ``"\\u0061"``); questions about *values*
— how many there are, whether one outside a given set completes a prefix — are answered on bytes:

- :func:`ascii_lower_bounds`: per state, the number of completions spelled with printable ASCII
  literals only (no escapes). Each is a distinct value, so at a character boundary this is a lower
  bound on the number of distinct values that complete the text — saturating at :data:`MANY`
  (cycles: infinitely many).
- :func:`has_unseen_completion`: exact — some completion of the text so far decodes to a value not
  in a given finite set. A search along the set's spellings that stops as soon as the text leaves
  all of them (every state is live, so a completion then exists and differs from every member).
- :func:`count_values`: the number of distinct values from a state, up to a cap, counting canonical
  spellings only (literal characters; escapes only for ``"``, ``\\`` and control characters) — exact
  when every value's canonical spelling is in the language (the JSON Schema compiler's string
  encodings include it), a lower bound otherwise.

States are global state numbers of a :class:`~structgen.cfg.automaton.GrammarAutomaton` rule with
no call edges (``trans[s, b]`` stays inside the rule).
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

#: saturation value of :func:`ascii_lower_bounds` (more values than any run-time set can hold)
MANY = 1 << 62

_QUOTE = 0x22
_BACKSLASH = 0x5C
#: bytes of literal printable ASCII string content
_LITERAL_ASCII = np.array([b for b in range(0x20, 0x7F) if b not in (_QUOTE, _BACKSLASH)], np.int64)
_SHORT_ESCAPE_OF = {0x22: b'\\"', 0x5C: b"\\\\", 0x08: b"\\b", 0x0C: b"\\f", 0x0A: b"\\n", 0x0D: b"\\r",
                    0x09: b"\\t"}


def rule_states(state_rule: np.ndarray, rule: int) -> np.ndarray:
    return np.flatnonzero(state_rule == rule)


def ascii_lower_bounds(trans: np.ndarray, accept: np.ndarray, states: np.ndarray) -> dict[int, int]:
    """state → number of completions (to an accepting state) over printable ASCII literal bytes
    and ``"`` (saturating at :data:`MANY`; infinitely many on a cycle)."""
    return path_counts(trans, accept, states, np.concatenate([_LITERAL_ASCII, [_QUOTE]]))


def path_counts(trans: np.ndarray, accept: np.ndarray, states: np.ndarray, allowed: np.ndarray) -> dict[int, int]:
    """state → number of byte paths over ``allowed`` to an accepting state (one per accepting
    state passed), saturating at :data:`MANY`; a state that reaches a cycle has MANY."""
    succ: dict[int, list[int]] = {}
    for s in states.tolist():
        row = trans[s, allowed]
        succ[s] = [int(x) for x in row[row >= 0]]
    lb: dict[int, int] = {}
    on_path: set[int] = set()
    for root in succ:
        if root in lb:
            continue
        stack = [(root, 0)]
        on_path.add(root)
        while stack:
            s, i = stack[-1]
            nxt = succ.get(s, [])
            if i < len(nxt):
                stack[-1] = (s, i + 1)
                t = nxt[i]
                if t in lb:
                    continue
                if t in on_path:  # a cycle: infinitely many
                    lb[t] = MANY
                    continue
                on_path.add(t)
                stack.append((t, 0))
                continue
            stack.pop()
            on_path.discard(s)
            if s in lb:  # marked as on a cycle
                continue
            total = int(bool(accept[s]))
            for t in nxt:
                total = min(MANY, total + lb.get(t, MANY))
            lb[s] = total
    # states that reach a cycle got MANY through their successors; cycle members are MANY already
    return lb


def _consistent(x: str, decoded: str, tail: bytes) -> bool:
    """``x`` may be the value being spelled (decoded prefix ``decoded``, unfinished character
    ``tail``). May over-approximate inside an escape — callers only rely on it to prune."""
    if not x.startswith(decoded):
        return False
    if not tail:
        return True
    if len(x) <= len(decoded):
        return False
    if tail[0] >= 0x80:
        return x[len(decoded)].encode("utf-8", "surrogatepass").startswith(tail)
    return True


def has_unseen_completion(trans: np.ndarray, accept: np.ndarray, lb: dict[int, int], state: int,
                          decoded: str, tail: bytes, seen: Iterable[str]) -> bool:
    """Whether the text in DFA ``state`` — after the opening quote and content decoding to
    ``decoded`` plus the unfinished character ``tail`` (see
    :func:`structgen.runtime.unique.decode_units`) — has a completion whose value is not in
    ``seen``. ``lb``: :func:`ascii_lower_bounds` of the rule."""
    from .unique import decode_units

    seen_set = frozenset(seen)
    cands = [x for x in seen_set if _consistent(x, decoded, tail)]
    memo: set = set()

    def search(s: int, d: str, t: bytes, cands: list[str]) -> bool:
        if not cands:
            return True
        if not t and lb.get(s, MANY) > len(cands):
            return True
        key = (s, d, t)
        if key in memo:
            return False
        memo.add(key)
        row = trans[s]
        for b in np.flatnonzero(row >= 0).tolist():
            s2 = int(row[b])
            if b == _QUOTE and not t:  # closes the string with value d
                if d not in seen_set:
                    return True
                continue
            try:
                d2, t2 = decode_units(d, t + bytes((b,)))
            except (ValueError, UnicodeDecodeError):
                continue
            c2 = [x for x in cands if _consistent(x, d2, t2)]
            if search(s2, d2, t2, c2):
                return True
        return False

    return search(state, decoded, tail, cands)


def count_values(trans: np.ndarray, accept: np.ndarray, state: int, cap: int) -> int:
    """The number of distinct values completing ``state`` (a state before the opening quote or at
    a character boundary inside the string), counting up to ``cap``. Enumerates canonical
    spellings depth-first, nearest-to-accepting transitions first, so every descent ends in a new
    value (cycles cannot trap it)."""
    dist = _distance_to_accept(trans, accept, state)
    count = 0
    # frame: (state, escape bytes still to follow)
    stack: list[tuple[int, bytes]] = [(state, b"")]
    while stack and count < cap:
        s, pending = stack.pop()
        if pending:
            s2 = int(trans[s, pending[0]])
            if s2 >= 0:
                stack.append((s2, pending[1:]))
            continue
        if accept[s]:
            count += 1
        row = trans[s]
        moves: list[tuple[int, int, bytes]] = []
        for b in np.flatnonzero(row >= 0).tolist():
            s2 = int(row[b])
            if b == _BACKSLASH:  # canonical escapes: only characters that cannot be literal
                for c in list(range(0x20)) + [_QUOTE, _BACKSLASH]:
                    esc = _SHORT_ESCAPE_OF.get(c) or b"\\u%04x" % c
                    moves.append((dist.get(s2, 0) + len(esc), s2, esc[1:]))
            else:
                moves.append((dist.get(s2, 0), s2, b""))
        moves.sort(key=lambda m: -m[0])
        stack.extend((s2, esc) for _, s2, esc in moves)
    return min(count, cap)


def _distance_to_accept(trans: np.ndarray, accept: np.ndarray, state: int) -> dict[int, int]:
    """Shortest number of bytes from each state reachable from ``state`` to an accepting one."""
    reach = [state]
    seen = {state}
    preds: dict[int, list[int]] = {}
    i = 0
    while i < len(reach):
        s = reach[i]
        i += 1
        row = trans[s]
        for t in set(row[row >= 0].tolist()):
            preds.setdefault(t, []).append(s)
            if t not in seen:
                seen.add(t)
                reach.append(t)
    dist = {s: 0 for s in reach if accept[s]}
    queue = list(dist)
    j = 0
    while j < len(queue):
        t = queue[j]
        j += 1
        for s in preds.get(t, ()):
            if s not in dist:
                dist[s] = dist[t] + 1
                queue.append(s)
    return dist
