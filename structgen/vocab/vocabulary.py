"""Vocabulary: the exact bytes each token id contributes to a model's output, plus stop/special ids.

Contract
--------
- ``token_bytes[i]`` (``i < n_tokens``) is what token ``i`` appends to the output text. Special ids
  (which include the stop ids) have ``b""``: they are never text.
- ``n_tokens`` = number of tokenizer ids (max id + 1); ``vocab_size`` = mask width = the model's
  logit width (defaults to ``n_tokens``; may be larger for padded embeddings or smaller). Ids
  ``>= vocab_size`` and ids ``>= n_tokens`` are never allowed.
- ``stop_ids``: ids that end generation; all ``< min(n_tokens, vocab_size)`` and all in
  ``special_ids``. A grammar may allow them only when the text so far is complete.
- ``special_ids``: ids never allowed inside grammar output (added-special tokens, the model's
  unk token, the tokenizer's declared bos/eos/unk/pad/additional specials, and the stop ids).
  They are all ``< n_tokens`` but may be ``>= vocab_size`` (bound-check before setting mask bits).
- ``add_prefix_space``: the tokenizer prepends a space (``▁``) at the start of an encoding;
  ``prefix_space_mode`` refines it: ``"always"`` (Phi-3's ``Prepend`` normalizer: every non-empty
  text) or ``"if_absent"`` (Llama 2's Metaspace ``prepend_scheme="first"``: only when the text does
  not already start with a space), ``"never"`` otherwise. Token bytes always keep their leading
  space (``▁hi`` → ``b" hi"``); Hugging Face's ``decode`` strips one leading space of the whole text
  for such tokenizers, :meth:`Vocabulary.decode` does not.

Default stop ids (``from_hf``), deliberately conservative: the tokenizer's ``eos_token_id``; the
``eos_token_id`` (int or list) of a ``generation_config.json`` next to the tokenizer files when one
exists locally; and every *special* added token whose content is a well-known end marker
(:data:`END_TOKEN_CONTENTS`, e.g. ``<|eot_id|>``, ``<|im_end|>``, ``<|end|>``, ``<|endoftext|>``).
Default stop ids ``>= vocab_size`` are dropped (they can never be sampled). Pass ``stop_ids=`` to
override; explicit ids out of range raise ``ValueError``.

Caching (in-process only; no disk cache — a 152k vocabulary builds in well under a second):
``from_hf`` memoizes the parse per tokenizer object (weakly; re-parsed when its size or added
tokens change) and the :class:`Vocabulary` by (content digest of the parse, vocab_size, stop ids,
special ids), so equal tokenizers share one Vocabulary and its trie is built once (LRU of 8).
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import weakref
from collections import OrderedDict
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from structgen.errors import TokenizerError
from structgen.vocab.hf_tokenizer import (KIND_BYTE_LEVEL, PREFIX_SPACE_ALWAYS, PREFIX_SPACE_IF_ABSENT,
                                          PREFIX_SPACE_NEVER, ParsedTokenizer, parse_backend)
from structgen.vocab.trie import TokenTrie

END_TOKEN_CONTENTS = frozenset({
    "</s>", "<eos>", "<|endoftext|>", "<|end_of_text|>", "<|eot_id|>", "<|eom_id|>", "<|im_end|>",
    "<|end|>", "<end_of_turn>", "<|end▁of▁sentence|>", "<|return|>",
})
"""Contents of special tokens treated as stop tokens by default (only when the token is special)."""

_PREFIX_MODES = (PREFIX_SPACE_NEVER, PREFIX_SPACE_ALWAYS, PREFIX_SPACE_IF_ABSENT)


class Vocabulary:
    """Token id → output bytes, with stop/special ids and the mask width. See the module docstring.

    Instances are immutable by convention (do not mutate ``token_bytes``): the fingerprint and
    the trie are computed once and cached.
    """

    def __init__(self, token_bytes: Sequence[bytes], *, vocab_size: int | None = None,
                 stop_ids: Iterable[int] = (), special_ids: Iterable[int] = (),
                 add_prefix_space: bool = False, prefix_space_mode: str | None = None,
                 name: str = "", kind: str = "custom", stats: dict[str, Any] | None = None):
        n_tokens = len(token_bytes)
        if n_tokens == 0:
            raise ValueError("a vocabulary needs at least one token")
        vocab_size = n_tokens if vocab_size is None else int(vocab_size)
        if vocab_size <= 0:
            raise ValueError(f"vocab_size must be positive, got {vocab_size}")
        stops = tuple(sorted({int(i) for i in stop_ids}))
        limit = min(n_tokens, vocab_size)
        bad = [i for i in stops if not 0 <= i < limit]
        if bad:
            raise ValueError(f"stop ids {bad} out of range: must be < min(n_tokens={n_tokens}, "
                             f"vocab_size={vocab_size})")
        specials = {int(i) for i in special_ids} | set(stops)
        bad = sorted(i for i in specials if not 0 <= i < n_tokens)
        if bad:
            raise ValueError(f"special ids {bad[:10]} out of range [0, {n_tokens})")
        if prefix_space_mode is None:
            prefix_space_mode = PREFIX_SPACE_ALWAYS if add_prefix_space else PREFIX_SPACE_NEVER
        if prefix_space_mode not in _PREFIX_MODES:
            raise ValueError(f"prefix_space_mode must be one of {_PREFIX_MODES}, got {prefix_space_mode!r}")

        tb = [bytes(b) for b in token_bytes]
        for i in specials:
            tb[i] = b""
        self.token_bytes: list[bytes] = tb
        self.n_tokens: int = n_tokens
        self.vocab_size: int = vocab_size
        self.stop_ids: tuple[int, ...] = stops
        self.special_ids: tuple[int, ...] = tuple(sorted(specials))
        self.prefix_space_mode: str = prefix_space_mode
        self.add_prefix_space: bool = prefix_space_mode != PREFIX_SPACE_NEVER
        self.name = name
        self.kind = kind
        self.stats: dict[str, Any] = dict(stats or {})
        self._encoder_ref: weakref.ref | None = None  # the live tokenizer, for encode_canonical

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_token_bytes(cls, token_bytes: Sequence[bytes], *, stop_ids: Iterable[int] = (),
                         special_ids: Iterable[int] = (), vocab_size: int | None = None,
                         add_prefix_space: bool = False) -> "Vocabulary":
        """A vocabulary from explicit per-id bytes (tests, custom tokenizers).

        Special and stop ids get ``b""`` whatever bytes were passed for them."""
        return cls(token_bytes, vocab_size=vocab_size, stop_ids=stop_ids, special_ids=special_ids,
                   add_prefix_space=add_prefix_space, name="custom")

    @classmethod
    def from_hf(cls, tokenizer: Any, *, vocab_size: int | None = None,
                stop_ids: Iterable[int] | None = None) -> "Vocabulary":
        """Build from a Hugging Face fast tokenizer (``transformers``) or a ``tokenizers.Tokenizer``.

        Reads the backend tokenizer's vocabulary, added tokens and normalizer/pre-tokenizer/decoder
        configuration, i.e. the content of its ``tokenizer.json`` (no per-token ``decode`` calls).
        ``vocab_size`` is the model's logit width (default: number of tokenizer ids); ``stop_ids``
        overrides the default stop ids (module docstring). Raises :class:`TokenizerError` for
        unsupported tokenizers (slow tokenizers without a Rust backend included).
        """
        parsed = _parse_cached(tokenizer)
        digest = parsed.digest
        n_tokens = len(parsed.token_bytes)

        specials = set(parsed.special_ids)
        declared = list(getattr(tokenizer, "all_special_ids", None) or ())
        added_decoder = getattr(tokenizer, "added_tokens_decoder", None)
        if isinstance(added_decoder, dict):  # transformers' view (tokenizer_config.json may override)
            declared += [tid for tid, tok in added_decoder.items() if getattr(tok, "special", False)]
        for tid in declared:
            if tid is not None and 0 <= int(tid) < n_tokens:
                specials.add(int(tid))
        width = n_tokens if vocab_size is None else int(vocab_size)
        if stop_ids is None:
            stops = _default_stop_ids(tokenizer, parsed, n_tokens)
            stops = {i for i in stops if i < width}
        else:
            stops = {int(i) for i in stop_ids}

        key = (digest, width, tuple(sorted(stops)), tuple(sorted(specials)))
        with _LOCK:
            cached = _VOCAB_CACHE.get(key)
            if cached is not None:
                _VOCAB_CACHE.move_to_end(key)
                if cached.encode_canonical(b"") is None:
                    cached._set_encoder(tokenizer)
                return cached
        name = str(getattr(tokenizer, "name_or_path", "") or "")
        vocab = cls(parsed.token_bytes, vocab_size=width, stop_ids=stops, special_ids=specials,
                    prefix_space_mode=parsed.prefix_space_mode, name=name, kind=parsed.kind,
                    stats=dict(parsed.stats, model_type=parsed.model_type))
        vocab._set_encoder(tokenizer)
        with _LOCK:
            _VOCAB_CACHE[key] = vocab
            while len(_VOCAB_CACHE) > _CACHE_SIZE:
                _VOCAB_CACHE.popitem(last=False)
        return vocab

    @classmethod
    def from_pretrained(cls, path_or_name: str | os.PathLike, *, vocab_size: int | None = None,
                        stop_ids: Iterable[int] | None = None) -> "Vocabulary":
        """Load ``AutoTokenizer`` offline (``local_files_only=True``) from a local folder (or the local
        Hugging Face cache) and build. When ``vocab_size`` is not given and the folder has a
        ``config.json`` with an integer ``vocab_size``, that (the model's logit width) is used."""
        try:
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(str(path_or_name), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise TokenizerError(f"cannot load a tokenizer from {str(path_or_name)!r} offline: {exc}") from exc
        if vocab_size is None:
            vocab_size = _config_vocab_size(Path(path_or_name))
        return cls.from_hf(tokenizer, vocab_size=vocab_size, stop_ids=stop_ids)

    @staticmethod
    def clear_cache() -> None:
        """Forget every memoized parse and Vocabulary (e.g. to measure a cold build)."""
        with _LOCK:
            _PARSE_MEMO.clear()
            _VOCAB_CACHE.clear()

    # ------------------------------------------------------------------ derived data
    @cached_property
    def text_token_mask(self) -> np.ndarray:
        """bool[n_tokens]: ids that may appear inside grammar output (= the ids in the trie):
        non-empty bytes, not special, not stop, id < vocab_size."""
        lengths = np.fromiter(map(len, self.token_bytes), dtype=np.int64, count=self.n_tokens)
        mask = lengths > 0
        if self.special_ids:
            mask[np.asarray(self.special_ids, dtype=np.int64)] = False
        mask[self.vocab_size:] = False
        return mask

    @cached_property
    def trie(self) -> TokenTrie:
        """The :class:`TokenTrie` of the text tokens (built on first use, then cached)."""
        return TokenTrie.build(self.token_bytes, include=self.text_token_mask)

    @cached_property
    def fingerprint(self) -> str:
        """Hex digest of (token bytes, special ids, stop ids, vocab_size); equal ⇔ same masks."""
        h = hashlib.blake2b(digest_size=16)
        lengths = np.fromiter(map(len, self.token_bytes), dtype=np.int64, count=self.n_tokens)
        h.update(np.asarray([self.n_tokens, self.vocab_size], dtype=np.int64).tobytes())
        h.update(lengths.tobytes())
        h.update(b"".join(self.token_bytes))
        h.update(b"special")
        h.update(np.asarray(self.special_ids, dtype=np.int64).tobytes())
        h.update(b"stop")
        h.update(np.asarray(self.stop_ids, dtype=np.int64).tobytes())
        return h.hexdigest()

    def decode(self, ids: Iterable[int]) -> bytes:
        """Concatenated bytes of ``ids`` (special and stop ids contribute nothing).

        Raises ``ValueError`` for ids outside ``[0, n_tokens)``."""
        id_list = [int(i) for i in ids]
        if id_list and (min(id_list) < 0 or max(id_list) >= self.n_tokens):
            bad = next(i for i in id_list if not 0 <= i < self.n_tokens)
            raise ValueError(f"token id {bad} out of range [0, {self.n_tokens})")
        tb = self.token_bytes
        return b"".join([tb[i] for i in id_list])

    def is_special(self, token_id: int) -> bool:
        """True for special (including stop) ids."""
        return token_id in self._special_set

    @cached_property
    def _special_set(self) -> frozenset[int]:
        return frozenset(self.special_ids)

    @property
    def is_byte_level(self) -> bool:
        """True for GPT-2-style byte-level BPE tokenizers."""
        return self.kind == KIND_BYTE_LEVEL

    def __len__(self) -> int:
        return self.n_tokens

    def _set_encoder(self, tokenizer: Any) -> None:
        if callable(getattr(tokenizer, "encode", None)):
            try:
                self._encoder_ref = weakref.ref(tokenizer)
            except TypeError:
                self._encoder_ref = None

    def encode_canonical(self, data: bytes) -> list[int] | None:
        """The tokenizer's own (canonical) encoding of ``data``, without special tokens.

        Available while the tokenizer this vocabulary was built from (``from_hf``) is alive and
        ``data`` is valid UTF-8; otherwise ``None``. Used for jump-forward tokens.
        """
        tok = self._encoder_ref() if self._encoder_ref is not None else None
        if tok is None:
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        ids = tok.encode(text, add_special_tokens=False)
        return list(getattr(ids, "ids", ids))

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_encoder_ref"] = None  # weak references do not pickle
        return state

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return self is other or self.fingerprint == other.fingerprint

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __repr__(self) -> str:
        return (f"Vocabulary(name={self.name!r}, kind={self.kind!r}, n_tokens={self.n_tokens}, "
                f"vocab_size={self.vocab_size}, stop_ids={self.stop_ids}, "
                f"n_special={len(self.special_ids)}, prefix_space_mode={self.prefix_space_mode!r})")


# ---------------------------------------------------------------------- helpers
_CACHE_SIZE = 8
_LOCK = threading.Lock()
_PARSE_MEMO: "weakref.WeakKeyDictionary[Any, tuple[tuple, ParsedTokenizer]]" = weakref.WeakKeyDictionary()
_VOCAB_CACHE: "OrderedDict[tuple, Vocabulary]" = OrderedDict()


def _parse_cached(tokenizer: Any) -> ParsedTokenizer:
    """Parse (or reuse the parse of) a tokenizer object.

    The memo is keyed weakly on the object and stamped with its size and added tokens, so a
    tokenizer that gains tokens (``add_tokens``) is re-parsed."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        if callable(getattr(tokenizer, "to_str", None)) and hasattr(tokenizer, "model"):
            backend = tokenizer  # a tokenizers.Tokenizer
        else:
            raise TokenizerError(
                f"{type(tokenizer).__name__} has no fast (Rust) backend; load it with "
                "AutoTokenizer.from_pretrained(..., use_fast=True) or pass a tokenizers.Tokenizer")
    stamp = (backend.get_vocab_size(with_added_tokens=True),
             tuple((tid, tok.content, tok.special) for tid, tok in backend.get_added_tokens_decoder().items()))
    try:
        with _LOCK:
            entry = _PARSE_MEMO.get(tokenizer)
    except TypeError:  # not weak-referenceable
        entry = None
    if entry is not None and entry[0] == stamp:
        return entry[1]
    parsed = parse_backend(backend)
    try:
        with _LOCK:
            _PARSE_MEMO[tokenizer] = (stamp, parsed)
    except TypeError:
        pass
    return parsed


def _default_stop_ids(tokenizer: Any, parsed: ParsedTokenizer, n_tokens: int) -> set[int]:
    stops: set[int] = set()
    eos = getattr(tokenizer, "eos_token_id", None)
    stops.update(_as_ids(eos))
    name_or_path = getattr(tokenizer, "name_or_path", None)
    if name_or_path:
        stops.update(_generation_config_eos(Path(str(name_or_path))))
    stops.update(tid for tid, content in parsed.special_contents.items() if content in END_TOKEN_CONTENTS)
    return {i for i in stops if 0 <= i < n_tokens}


def _as_ids(value: Any) -> list[int]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [int(v) for v in value if v is not None]
    return [int(value)]


def _generation_config_eos(folder: Path) -> list[int]:
    path = folder / "generation_config.json"
    if not path.is_file():
        return []
    try:
        return _as_ids(json.loads(path.read_text()).get("eos_token_id"))
    except (OSError, ValueError, TypeError):
        return []


def _config_vocab_size(folder: Path) -> int | None:
    path = folder / "config.json"
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text()).get("vocab_size")
    except (OSError, ValueError):
        return None
    return value if isinstance(value, int) and value > 0 else None
