"""GrammarAutomaton: the vocabulary-independent compiled form of a :class:`~structgen.cfg.ir.Grammar`.

Each rule becomes a minimized deterministic automaton over the alphabet
``bytes (0..255) ∪ {call(rule r)}``. All rules' states share one global numbering, so a global
state id identifies (rule, state). Terminals are inlined as byte transitions; references to other
rules are *call edges*. The runtime (an Earley recognizer over these automata, see
``structgen/runtime``) reads only the numpy arrays below.

Array contract (all int32 unless noted; ``S`` = number of global states, ``R`` = number of rules):

- ``trans[S, 256]``: byte transition, ``-1`` = no transition.
- ``accept[S]`` (bool): the rule owning the state may complete (return) here.
- ``state_rule[S]``: the rule owning each state.
- ``call_ptr[S+1]``, ``call_rule[E]``, ``call_target[E]``: CSR list of call edges: from state ``s``,
  calling rule ``call_rule[e]`` and, once it completes, continuing at ``call_target[e]``
  (a state of the same rule as ``s``), for ``e`` in ``call_ptr[s]:call_ptr[s+1]``.
- ``rule_start[R]``: global start state of each rule.
- ``nullable[R]`` (bool): the rule derives the empty string.
- ``start_rule``: the grammar's start rule id.

Invariants (guaranteed by the compiler; the runtime's soundness relies on them):

1. Every rule is productive (derives at least one string); unproductive rules and the call
   edges to them are removed.
2. Every state is reachable from its rule's start and *live*: some path of byte and call
   edges (calls to productive rules) leads to an accepting state. Hence any Earley item that
   exists denotes a viable prefix.
3. Per rule the automaton is deterministic in bytes and in calls (one target per (state, rule)),
   and minimized; states of a rule are numbered canonically (BFS order from the start,
   edges visited in label order), so ``rule_fingerprint`` identifies equal rules across grammars.
- ``rule_fingerprint[R]`` (list of str): a structural hash of the rule *together with every
  rule reachable from it* (recursion-safe). Equal fingerprints ⇒ equal languages from every
  corresponding state; mask caches are shared across grammars by (fingerprint, local state).
- ``state_local[S]``: index of the state within its rule (``global - rule_start_offset``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(eq=False)
class GrammarAutomaton:
    trans: np.ndarray          # int32 [S, 256]
    accept: np.ndarray         # bool  [S]
    state_rule: np.ndarray     # int32 [S]
    state_local: np.ndarray    # int32 [S]
    call_ptr: np.ndarray       # int32 [S+1]
    call_rule: np.ndarray      # int32 [E]
    call_target: np.ndarray    # int32 [E]
    rule_start: np.ndarray     # int32 [R]
    nullable: np.ndarray       # bool  [R]
    start_rule: int
    rule_names: list[str]
    rule_fingerprint: list[str]
    stats: dict = field(default_factory=dict)

    @property
    def n_states(self) -> int:
        return int(self.trans.shape[0])

    @property
    def n_rules(self) -> int:
        return int(self.rule_start.shape[0])

    @property
    def fingerprint(self) -> str:
        """Structural hash of the whole grammar (the start rule's fingerprint)."""
        return self.rule_fingerprint[self.start_rule]
