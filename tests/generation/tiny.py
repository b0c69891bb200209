"""Test helpers: tiny random-weight Llama models over the real fixture tokenizers, and a fake matcher.

The fake :class:`FiniteMatcher` implements the Matcher contract for a finite language given as a
list of byte strings, by brute force over the vocabulary's token bytes; it lets the decoding
loop be tested independently of the grammar runtime.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from tests.conftest import get_tokenizer


@pytest.fixture(scope="module")
def torch_single_thread():
    """Run a test module with one torch thread (tiny models gain nothing from more, and on a shared
    machine oversubscribed OpenMP threads make every small op hundreds of times slower)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@functools.lru_cache(maxsize=None)
def tiny_model(tokenizer_name: str, seed: int = 0, layers: int = 2, hidden: int = 64):
    """A random-weight ``LlamaForCausalLM`` whose vocabulary is the fixture tokenizer's."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = get_tokenizer(tokenizer_name)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=hidden, intermediate_size=2 * hidden,
                      num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                      max_position_embeddings=4096, initializer_range=0.2,
                      eos_token_id=tok.eos_token_id, bos_token_id=tok.bos_token_id,
                      pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(cfg)
    model.eval()
    return model


@functools.lru_cache(maxsize=None)
def tiny_lm(tokenizer_name: str, seed: int = 0):
    from structgen.generation.models import as_lm

    return as_lm(tiny_model(tokenizer_name, seed), get_tokenizer(tokenizer_name))


class LengthBiasedModel(torch.nn.Module):
    """Wraps a causal LM and adds ``scale * len(token bytes)`` to every logit.

    Greedy decoding under a constraint then prefers the longest allowed token, i.e. the
    longest-match tokenization of forced text — so jump-forward drafts get accepted.
    """

    def __init__(self, inner, token_lengths: np.ndarray, scale: float = 50.0):
        super().__init__()
        self.inner = inner
        self.config = inner.config
        self.generation_config = inner.generation_config
        self.register_buffer("bias", torch.as_tensor(token_lengths, dtype=torch.float32) * scale)

    def get_output_embeddings(self):
        return self.inner.get_output_embeddings()

    def forward(self, **kwargs):
        out = self.inner(**kwargs)
        out.logits = out.logits + self.bias
        return out


_BY_BYTES: dict = {}


def _tokens_by_bytes(vocab) -> dict[bytes, list[int]]:
    hit = _BY_BYTES.get(vocab.fingerprint)
    if hit is None:
        hit = {}
        for tid in range(min(vocab.n_tokens, vocab.vocab_size)):
            b = vocab.token_bytes[tid]
            if b and tid not in vocab.stop_ids and not vocab.is_special(tid):
                hit.setdefault(b, []).append(tid)
        _BY_BYTES[vocab.fingerprint] = hit
    return hit


class FiniteMatcher:
    """Matcher contract over a finite language (list of byte strings) by brute force."""

    def __init__(self, language, vocab, *, prefix: bytes = b""):
        self.language = sorted(set(bytes(s) for s in language))
        self.vocab = vocab
        self.vocab_size = vocab.vocab_size
        self.stop_ids = sorted(vocab.stop_ids)
        self._by_bytes = _tokens_by_bytes(vocab)
        self._maxlen = max(len(b) for b in self._by_bytes)
        self.prefix = prefix
        self.history: list[tuple[bytes, bool]] = []
        self.terminated = False

    def _rests(self):
        return [s[len(self.prefix):] for s in self.language if s.startswith(self.prefix)]

    def allowed_ids(self) -> set[int]:
        out: set[int] = set()
        if self.terminated:
            return set(self.stop_ids)
        for rest in self._rests():
            for n in range(1, min(len(rest), self._maxlen) + 1):
                out.update(self._by_bytes.get(rest[:n], ()))
        if self.can_stop():
            out.update(self.stop_ids)
        return out

    def can_stop(self) -> bool:
        return self.terminated or self.prefix in self.language

    def is_terminated(self) -> bool:
        return self.terminated

    def fill_next_token_bitmask(self, bitmask, index: int = 0) -> None:
        arr = bitmask.numpy() if isinstance(bitmask, torch.Tensor) else bitmask
        row = arr[index].view(np.uint32)
        row[:] = 0
        ids = np.asarray(sorted(self.allowed_ids()), np.int64)
        if ids.size:
            np.bitwise_or.at(row, ids >> 5, (np.uint32(1) << (ids & 31).astype(np.uint32)))

    def is_allowed(self, token_id: int) -> bool:
        return int(token_id) in self.allowed_ids()

    def advance(self, token_id: int) -> bool:
        from structgen.errors import MatcherTerminatedError

        t = int(token_id)
        if not 0 <= t < self.vocab_size:
            raise ValueError(t)
        if self.terminated:
            raise MatcherTerminatedError("terminated")
        if t not in self.allowed_ids():
            return False
        self.history.append((self.prefix, self.terminated))
        if t in self.stop_ids:
            self.terminated = True
        else:
            self.prefix = self.prefix + self.vocab.token_bytes[t]
        return True

    def rollback(self, k: int) -> None:
        if k <= 0:
            return
        self.prefix, self.terminated = self.history[-k]
        del self.history[-k:]

    def copy(self) -> "FiniteMatcher":
        new = FiniteMatcher.__new__(FiniteMatcher)
        new.__dict__.update(self.__dict__)
        new.history = list(self.history)
        return new

    def forced_bytes(self) -> bytes:
        if self.terminated or self.can_stop():
            return b""
        rests = self._rests()
        out = bytearray()
        for chars in zip(*rests):
            if len(set(chars)) != 1:
                break
            out.append(chars[0])
        return bytes(out)

    def forced_tokens(self) -> list[int]:
        """Greedy longest-match tokenization of the forced bytes, last token dropped unless final."""
        data = self.forced_bytes()
        ids, pos = [], 0
        while pos < len(data):
            for n in range(min(self._maxlen, len(data) - pos), 0, -1):
                cands = self._by_bytes.get(data[pos:pos + n])
                if cands:
                    ids.append(min(cands))
                    pos += n
                    break
            else:
                break
        ends = set(self._rests()) == {data}
        if not ends and ids:
            ids = ids[:-1]
        return ids

