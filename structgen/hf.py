"""Hugging Face ``model.generate`` integration: a LogitsProcessor that enforces a constraint.

>>> proc = structgen.hf.make_logits_processor(schema=MyModel, tokenizer=tok, model=model)
>>> out = model.generate(**inputs, logits_processor=[proc], max_new_tokens=200)

Works with greedy search, sampling and beam search, and with batches (left padding). Each call
re-synchronizes one :class:`~structgen.runtime.matcher.Matcher` per row from ``input_ids``: the
row's generated suffix (everything after the prompt) is matched against the rows of the previous
call, and the matcher of the row whose suffix is the longest prefix of it is copied (or moved,
when only one row continues it), rolled back past any divergence and advanced over the new
tokens. Beam search reorders and duplicates rows every step; this costs one ``copy()`` per
duplicated beam, never a replay from scratch.

Disallowed tokens get ``-inf``. Logit columns beyond the vocabulary's mask width (padded
embeddings) are disallowed too. A row whose matcher has accepted a stop token (finished
sequences HF keeps padding) is allowed only stop tokens; a row holding a token the constraint
rejects (only beam search produces these, from ``-inf`` candidates it had to keep) gets all
``-inf`` so that beam stays dead.

The processor is reusable across ``generate`` calls: a call is recognised as a continuation of
the previous one only when the batch size and prompt are the same, the sequence grew by exactly
one token and some row was still unfinished; otherwise it starts fresh (:meth:`reset` forces it).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from transformers import LogitsProcessor

from structgen.errors import GenerationError

_OK, _TERMINATED, _DEAD = 0, 1, 2


class StructgenLogitsProcessor(LogitsProcessor):
    """A ``transformers`` LogitsProcessor enforcing a compiled grammar on every row.

    ``compiled`` is a :class:`~structgen.runtime.compiled.CompiledGrammar` (from
    ``compile_regex``/``compile_json_schema``/... with the tokenizer's
    :class:`~structgen.vocab.Vocabulary`). ``prompt_length``: number of prompt columns in
    ``input_ids`` (default: the width of ``input_ids`` at the first call of a generation, which is
    what ``model.generate`` passes).
    """

    def __init__(self, compiled: Any, *, prompt_length: int | None = None):
        self.compiled = compiled
        self.vocab_size = int(compiled.vocab_size)
        self.stop_ids = np.asarray(sorted(int(t) for t in compiled.vocab.stop_ids), np.int64)
        self._fixed_prompt_length = prompt_length
        self.reset()

    def reset(self) -> None:
        """Forget the current generation; the next call starts fresh."""
        self._prompt: torch.Tensor | None = None
        self._prompt_len = 0
        self._suffixes: np.ndarray | None = None   # [B, g] generated tokens at the last call
        self._matchers: list[Any] = []
        self._status: list[int] = []
        self.calls = 0
        self.copies = 0

    # ------------------------------------------------------------------ synchronization
    def _new_matcher(self):
        from structgen.runtime.matcher import Matcher

        return Matcher(self.compiled)

    def _is_continuation(self, input_ids: torch.Tensor) -> bool:
        if self._prompt is None or self._suffixes is None:
            return False
        b, t = input_ids.shape
        if b != self._prompt.shape[0] or t != self._prompt_len + self._suffixes.shape[1] + 1:
            return False
        if all(s != _OK for s in self._status):
            return False  # every row had finished: this must be a new generation
        return bool(torch.equal(input_ids[:, :self._prompt_len].cpu(), self._prompt))

    def _start(self, input_ids: torch.Tensor) -> None:
        b, t = input_ids.shape
        plen = self._fixed_prompt_length if self._fixed_prompt_length is not None else t
        if plen > t:
            raise ValueError(f"prompt_length {plen} > input length {t}")
        self._prompt = input_ids[:, :plen].cpu().clone()
        self._prompt_len = plen
        self._matchers = [self._new_matcher() for _ in range(b)]
        self._status = [_OK] * b
        self._suffixes = np.zeros((b, 0), np.int64)
        suffix = input_ids[:, plen:].cpu().numpy().astype(np.int64)
        if suffix.shape[1]:
            for r in range(b):
                self._status[r] = self._advance(self._matchers[r], _OK, suffix[r])
        self._suffixes = suffix

    @staticmethod
    def _advance(matcher, status: int, tokens: Sequence[int]) -> int:
        for tok in tokens:
            if status != _OK:
                break
            if not matcher.advance(int(tok)):
                return _DEAD
            if matcher.is_terminated():
                status = _TERMINATED
        return status

    def _resync(self, input_ids: torch.Tensor) -> None:
        """Give every row the matcher of its generated suffix, reusing the previous call's."""
        new = input_ids[:, self._prompt_len:].cpu().numpy().astype(np.int64)
        old = self._suffixes
        b, g = new.shape
        parents: list[int] = []
        index = {old[j].tobytes(): j for j in range(old.shape[0])}
        for r in range(b):
            j = index.get(new[r, :-1].tobytes())
            parents.append(-1 if j is None else j)
        # Pass 1: hand each parent's matcher to its first continuing row, copies to the others
        # (all copies are taken before any matcher advances).
        given: set[int] = set()
        matchers: list[Any] = []
        for r in range(b):
            j = parents[r]
            if j < 0:
                matchers.append(None)
            elif j in given:
                matchers.append(self._matchers[j].copy())
                self.copies += 1
            else:
                matchers.append(self._matchers[j])
                given.add(j)
        # Pass 2: advance over the new token (or replay a row no previous row continues).
        status: list[int] = []
        for r in range(b):
            j = parents[r]
            if j < 0:  # does not happen with generate(); replay from scratch
                matchers[r] = self._new_matcher()
                status.append(self._advance(matchers[r], _OK, new[r]))
            else:
                status.append(self._advance(matchers[r], self._status[j], new[r, -1:]))
        self._matchers, self._status, self._suffixes = matchers, status, new

    # ------------------------------------------------------------------ the processor
    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        from structgen.masking import allocate_token_bitmask, apply_token_bitmask_inplace

        if input_ids.shape[0] != scores.shape[0]:
            raise ValueError(f"input_ids has {input_ids.shape[0]} rows but scores has {scores.shape[0]}")
        width = scores.shape[-1]
        if width < self.vocab_size:
            raise GenerationError(f"scores are {width} wide but the grammar's vocabulary is {self.vocab_size} "
                                  "(build the Vocabulary with the model's logit width)")
        if self._is_continuation(input_ids):
            self._resync(input_ids)
        else:
            self._start(input_ids)
        self.calls += 1
        b = input_ids.shape[0]
        bitmask = allocate_token_bitmask(b, self.vocab_size)
        live = [r for r in range(b) if self._status[r] != _DEAD]
        if live:
            from structgen.runtime.matcher import fill_next_token_bitmask_batch

            fill_next_token_bitmask_batch([self._matchers[r] for r in live], bitmask, live)
        # Columns past the vocabulary (padded embeddings) are never allowed: the matcher leaves
        # their bits 0 and apply_token_bitmask_inplace disallows columns past the bitmask.
        if scores.device.type != "cpu":
            bitmask = bitmask.to(scores.device, non_blocking=True)
        apply_token_bitmask_inplace(scores, bitmask)
        dead = [r for r in range(b) if self._status[r] == _DEAD]
        if dead:
            scores[dead] = float("-inf")
        return scores

    # ------------------------------------------------------------------ introspection
    def matcher(self, row: int):
        """The matcher of ``row`` after the last call (its state excludes the token being chosen)."""
        return self._matchers[row]

    def row_status(self, row: int) -> str:
        return ("ok", "terminated", "dead")[self._status[row]]


def make_logits_processor(constraint: Any = None, tokenizer: Any = None, *, model: Any = None,
                          vocab_size: int | None = None, schema: Any = None, regex: str | None = None,
                          grammar: str | None = None, choices: Sequence[Any] | None = None,
                          whitespace: Any = None, prompt_length: int | None = None) -> StructgenLogitsProcessor:
    """A :class:`StructgenLogitsProcessor` for ``model.generate``.

    ``constraint`` is a compiled grammar (used as is), a
    :class:`~structgen.generation.constraints.Constraint`, a pydantic model class or a JSON
    Schema dict; or use ``schema=``/``regex=``/``grammar=``/``choices=``. Anything not yet compiled
    is compiled for ``tokenizer``'s Vocabulary whose mask width is ``vocab_size``, else the
    ``model``'s logits width, else the tokenizer's size (wider scores are fine: extra columns are
    disallowed).
    """
    from structgen.generation.constraints import Constraint, make_constraint
    from structgen.generation.models import vocabulary_for

    if constraint is not None and hasattr(constraint, "automaton") and hasattr(constraint, "vocab"):
        if any(v is not None for v in (schema, regex, grammar, choices)):
            raise ValueError("pass either a compiled grammar or schema=/regex=/grammar=/choices=")
        return StructgenLogitsProcessor(constraint, prompt_length=prompt_length)
    if constraint is not None and not isinstance(constraint, Constraint):
        if schema is not None:
            raise ValueError("pass the schema either positionally or as schema=")
        schema, constraint = constraint, None
    if constraint is None:
        constraint = make_constraint(schema=schema, regex=regex, grammar=grammar, choices=choices,
                                     whitespace=whitespace)
        if constraint is None:
            raise ValueError("no constraint given (schema=, regex=, grammar= or choices=)")
    if tokenizer is None:
        raise ValueError("tokenizer= is needed to compile the constraint")
    vocab = vocabulary_for(model, tokenizer, vocab_size=vocab_size)
    return StructgenLogitsProcessor(constraint.compile(vocab), prompt_length=prompt_length)
