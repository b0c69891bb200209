"""Regular languages over bytes: regex → minimized byte DFA, and the automaton toolkit
(NFA construction, subset construction, minimization) shared with the grammar compiler."""
from __future__ import annotations

from structgen.automata.byte_dfa import ByteDFA
from structgen.automata.regex import compile_regex_dfa

__all__ = ["ByteDFA", "compile_regex_dfa"]
