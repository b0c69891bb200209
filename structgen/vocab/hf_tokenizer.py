"""Reading a Hugging Face ``tokenizer.json`` into the exact bytes each token id contributes.

This module knows the tokenizer *formats*; :mod:`structgen.vocab.vocabulary` knows the
:class:`~structgen.vocab.Vocabulary` contract. The per-token bytes are derived from the
tokenizer's decoder pipeline, which must be *concatenative* (decoding a sequence = concatenating
per-token strings, apart from a leading-space strip at the very start of the whole text):

- **byte-level** (decoder ``ByteLevel``: GPT-2, Llama 3, Qwen 2): every character of a token
  string stands for one byte through GPT-2's byte↔unicode table. A token containing a character
  outside that table decodes (in ``tokenizers``) to its raw UTF-8, and so it does here; such
  tokens are counted in ``stats["unmapped_byte_level_tokens"]``.
- **SentencePiece-style** (decoder ``Metaspace``, or ``Sequence`` of ``Replace`` / ``ByteFallback`` /
  ``Fuse`` / ``Strip``: Llama 2, Phi-3, Mistral, Gemma): ``▁`` (or whatever ``Replace`` says) becomes a
  space, ``<0xNN>`` byte-fallback tokens become the single byte ``NN``, everything else is UTF-8.
  The decoder's final ``Strip`` of one leading space is *not* applied per token: it undoes the
  prefix space the encoder prepends (see ``prefix_space_mode``), which is a property of the
  whole text, not of a token.

Added tokens: special ones contribute no bytes (``b""``) and are listed in ``special_ids``;
non-special ones contribute their literal UTF-8 content. The model's ``unk`` token is special
too (its bytes are not determinable). Ids missing from both the model vocabulary and the added
tokens contribute ``b""``.

Unsupported (raise :class:`~structgen.errors.TokenizerError`, naming the reason): WordPiece and
WordLevel models, BPE with a continuing-subword prefix or end-of-word suffix, no decoder (tokens
would be joined by spaces), and decoders that are not concatenative (``WordPiece``,
``BPEDecoder``, ``CTC``, per-token ``Strip``, regex ``Replace``).
"""
from __future__ import annotations

import hashlib
import json
from array import array
from dataclasses import dataclass, field
from typing import Any

from structgen.errors import TokenizerError

PREFIX_SPACE_NEVER = "never"
PREFIX_SPACE_ALWAYS = "always"
PREFIX_SPACE_IF_ABSENT = "if_absent"

KIND_BYTE_LEVEL = "byte_level"
KIND_SENTENCEPIECE = "sentencepiece"


def gpt2_bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte → printable-unicode-character table (as in ``tokenizers``)."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


_BYTE_TO_CHAR = gpt2_bytes_to_unicode()
_CHAR_TO_LATIN1 = {ord(ch): chr(b) for b, ch in _BYTE_TO_CHAR.items()}
_BYTE_LEVEL_CHARS = frozenset(_BYTE_TO_CHAR.values())
_BYTE_FALLBACK = {f"<0x{b:02X}>": bytes([b]) for b in range(256)}


@dataclass
class ParsedTokenizer:
    """What :func:`parse_tokenizer_json` extracts from a ``tokenizer.json``.

    ``token_bytes[i]`` is the output of token id ``i`` (``b""`` for special / missing ids);
    ``special_ids`` the ids that are never text; ``special_contents`` maps special ids to their
    string content (used to recognise end tokens); ``prefix_space_mode`` says whether the encoder
    prepends a space at the start of a text: ``"never"``, ``"always"`` (non-empty text), or
    ``"if_absent"`` (only when the text does not already start with a space).
    """

    token_bytes: list[bytes]
    special_ids: frozenset[int]
    special_contents: dict[int, str]
    prefix_space_mode: str
    kind: str
    model_type: str
    stats: dict[str, Any] = field(default_factory=dict)
    digest: str = ""
    """Hex digest of everything above except ``stats`` (equal digests ⇒ equal vocabularies)."""


def parse_tokenizer_json(tokenizer_json: str | dict) -> ParsedTokenizer:
    """Parse a ``tokenizer.json`` (string or already-loaded dict).

    Raises :class:`TokenizerError` for unsupported models/decoders (the message names which).
    """
    spec = json.loads(tokenizer_json) if isinstance(tokenizer_json, str) else tokenizer_json
    return _parse_spec(spec)


def parse_backend(backend: Any) -> ParsedTokenizer:
    """Parse a live ``tokenizers.Tokenizer`` (e.g. ``transformers``' ``backend_tokenizer``).

    For BPE models this avoids serializing and re-parsing the merges (the bulk of
    ``tokenizer.json``): the vocabulary comes from ``get_vocab``, the added tokens from
    ``get_added_tokens_decoder``, the model options from the model's attributes and the
    normalizer/pre-tokenizer/decoder from their JSON state. Other models go through ``to_str``.
    """
    model = backend.model
    if type(model).__name__ != "BPE":
        return parse_tokenizer_json(backend.to_str())
    spec = {
        "model": {
            "type": "BPE",
            "vocab": backend.get_vocab(with_added_tokens=False),
            "byte_fallback": bool(model.byte_fallback),
            "unk_token": model.unk_token,
            "continuing_subword_prefix": model.continuing_subword_prefix,
            "end_of_word_suffix": model.end_of_word_suffix,
        },
        "added_tokens": [{"id": int(tid), "content": tok.content, "special": bool(tok.special)}
                         for tid, tok in backend.get_added_tokens_decoder().items()],
        "normalizer": _component_state(backend.normalizer),
        "pre_tokenizer": _component_state(backend.pre_tokenizer),
        "decoder": _component_state(backend.decoder),
    }
    return _parse_spec(spec)


def _component_state(component: Any) -> dict | None:
    if component is None:
        return None
    return json.loads(component.__getstate__())


def _parse_spec(spec: dict) -> ParsedTokenizer:
    model = spec.get("model") or {}
    model_type = model.get("type") or _guess_model_type(model)
    pieces_by_id, unk_id = _model_pieces(model, model_type)
    kind, replacements, byte_fallback = _decoder_scheme(spec.get("decoder"), model_type)
    byte_fallback = byte_fallback and bool(model.get("byte_fallback", model_type == "Unigram"))

    added = spec.get("added_tokens") or []
    n_tokens = max([len(pieces_by_id)] + [int(a["id"]) + 1 for a in added])
    pieces_by_id = pieces_by_id + [None] * (n_tokens - len(pieces_by_id))

    stats: dict[str, Any] = {}
    if kind == KIND_BYTE_LEVEL:
        token_bytes = _byte_level_bytes(pieces_by_id, stats)
    else:
        token_bytes = _sentencepiece_bytes(pieces_by_id, replacements, byte_fallback)

    special: set[int] = set()
    special_contents: dict[int, str] = {}
    for tok in added:
        tid = int(tok["id"])
        content = tok["content"]
        if tok.get("special", False):
            special.add(tid)
            special_contents[tid] = content
            token_bytes[tid] = b""
        else:
            token_bytes[tid] = content.encode("utf-8")
    if unk_id is not None and 0 <= unk_id < n_tokens:
        special.add(unk_id)
        token_bytes[unk_id] = b""
    stats["missing_ids"] = sum(1 for p in pieces_by_id if p is None) - sum(
        1 for a in added if pieces_by_id[int(a["id"])] is None)

    prefix_mode = _prefix_space_mode(spec.get("normalizer"), spec.get("pre_tokenizer"))
    digest = hashlib.blake2b(digest_size=20)
    digest.update(repr((kind, model_type, prefix_mode, sorted(special_contents.items()),
                        sorted(special))).encode("utf-8"))
    digest.update(array("q", map(len, token_bytes)).tobytes())
    digest.update(b"".join(token_bytes))
    return ParsedTokenizer(
        token_bytes=token_bytes,
        special_ids=frozenset(special),
        special_contents=special_contents,
        prefix_space_mode=prefix_mode,
        kind=kind,
        model_type=model_type,
        stats=stats,
        digest=digest.hexdigest(),
    )


def _guess_model_type(model: dict) -> str:
    vocab = model.get("vocab")
    if isinstance(vocab, list):
        return "Unigram"
    if "merges" in model:
        return "BPE"
    raise TokenizerError("tokenizer.json has no recognisable model (no 'type', 'vocab' or 'merges')")


def _model_pieces(model: dict, model_type: str) -> tuple[list[str | None], int | None]:
    """Token strings indexed by id (``None`` for ids the model does not define) and the unk id."""
    if model_type == "BPE":
        for key in ("continuing_subword_prefix", "end_of_word_suffix"):
            if model.get(key):
                raise TokenizerError(
                    f"BPE tokenizers with {key}={model[key]!r} are not supported: token strings do not "
                    "map to fixed output bytes")
        vocab: dict[str, int] = model.get("vocab") or {}
        size = max(vocab.values(), default=-1) + 1
        pieces: list[str | None] = [None] * size
        for piece, tid in vocab.items():
            pieces[tid] = piece
        unk = model.get("unk_token")
        return pieces, (vocab.get(unk) if unk is not None else None)
    if model_type == "Unigram":
        entries = model.get("vocab") or []
        pieces = [entry[0] for entry in entries]
        unk_id = model.get("unk_id")
        return pieces, (int(unk_id) if unk_id is not None else None)
    raise TokenizerError(
        f"tokenizer model type {model_type!r} is not supported (supported: BPE, Unigram); "
        "WordPiece/WordLevel tokens do not contribute fixed bytes to the decoded text")


def _decoder_scheme(decoder: dict | None, model_type: str) -> tuple[str, list[tuple[str, str]], bool]:
    """Classify the decoder: (kind, ordered string replacements, byte_fallback)."""
    if decoder is None:
        raise TokenizerError(
            f"{model_type} tokenizer without a decoder is not supported: tokens are joined with spaces "
            "when decoding, so a token's bytes depend on its neighbours")
    steps = decoder["decoders"] if decoder.get("type") == "Sequence" else [decoder]
    kind: str | None = None
    replacements: list[tuple[str, str]] = []
    byte_fallback = False
    fused = False
    for step in steps:
        stype = step.get("type")
        if stype == "ByteLevel":
            kind = KIND_BYTE_LEVEL
        elif stype == "Metaspace":
            kind = kind or KIND_SENTENCEPIECE
            replacements.append((step.get("replacement", "\u2581"), " "))
            fused = True  # Metaspace strips only the first token's leading space
        elif stype == "Replace":
            pattern = step.get("pattern", {})
            if "String" not in pattern:
                raise TokenizerError(f"decoder Replace with a regex pattern is not supported: {pattern!r}")
            replacements.append((pattern["String"], step.get("content", "")))
            kind = kind or KIND_SENTENCEPIECE
        elif stype == "ByteFallback":
            byte_fallback = True
            kind = kind or KIND_SENTENCEPIECE
        elif stype == "Fuse":
            fused = True
        elif stype == "Strip":
            if not fused or step.get("stop", 0) != 0 or step.get("content", " ") != " ":
                raise TokenizerError(
                    f"decoder Strip {step!r} is not supported: it strips every token (not only the start "
                    "of the text), so tokens do not contribute fixed bytes")
        else:
            raise TokenizerError(
                f"decoder {stype!r} is not supported: it does not decode tokens by concatenation")
    if kind is None:
        raise TokenizerError(f"cannot determine token bytes from decoder {decoder!r}")
    if kind == KIND_BYTE_LEVEL and (replacements or byte_fallback):
        raise TokenizerError("decoders mixing ByteLevel with Replace/ByteFallback are not supported")
    return kind, replacements, byte_fallback


def _byte_level_bytes(pieces: list[str | None], stats: dict) -> list[bytes]:
    """Map byte-level token strings through GPT-2's table: one character = one byte.

    Works on the joined string (C-level ``translate``/``encode``) and slices it per token.
    Tokens with characters outside the table keep their raw UTF-8, as ``tokenizers`` does.
    """
    texts = [p if p is not None else "" for p in pieces]
    joined = "".join(texts)
    unmapped_chars = set(joined) - _BYTE_LEVEL_CHARS
    data = joined.translate(_CHAR_TO_LATIN1)
    unmapped_ids: list[int] = []
    if unmapped_chars:
        # Rare path: only tokens containing an unmapped character are visited individually.
        unmapped_ids = [i for i, t in enumerate(texts) if not unmapped_chars.isdisjoint(t)]
        data = data.encode("latin-1", errors="replace").decode("latin-1")
    raw = data.encode("latin-1")
    out: list[bytes] = []
    start = 0
    for length in map(len, texts):
        out.append(raw[start:start + length])
        start += length
    for i in unmapped_ids:
        out[i] = texts[i].encode("utf-8")
    stats["unmapped_byte_level_tokens"] = len(unmapped_ids)
    return out


def _sentencepiece_bytes(pieces: list[str | None], replacements: list[tuple[str, str]],
                         byte_fallback: bool) -> list[bytes]:
    """Map SentencePiece-style pieces: apply the decoder's replacements, UTF-8; ``<0xNN>`` → byte NN."""
    fallback = _BYTE_FALLBACK if byte_fallback else {}

    def piece_bytes(piece: str | None) -> bytes:
        if piece is None:
            return b""
        raw = fallback.get(piece)
        if raw is not None:
            return raw
        for old, new in replacements:
            piece = piece.replace(old, new)
        return piece.encode("utf-8")

    return [piece_bytes(p) for p in pieces]


def _components(node: dict | None, seq_key: str) -> list[dict]:
    if node is None:
        return []
    if node.get("type") == "Sequence":
        return [c for child in node.get(seq_key, []) for c in _components(child, seq_key)]
    return [node]


def _prefix_space_mode(normalizer: dict | None, pre_tokenizer: dict | None) -> str:
    """Does encoding prepend a space at the start of the text? (``tokenizers`` semantics)

    - ``Prepend`` normalizer (Phi-3): prepends to every non-empty text → ``"always"``.
    - ``Metaspace`` pre-tokenizer with ``prepend_scheme`` ``first``/``always`` (or legacy
      ``add_prefix_space``) and ``ByteLevel`` with ``add_prefix_space``: prepend only when the text
      does not already start with the space/replacement → ``"if_absent"``.
    """
    for norm in _components(normalizer, "normalizers"):
        if norm.get("type") == "Prepend" and norm.get("prepend") in ("\u2581", " "):
            return PREFIX_SPACE_ALWAYS
    for pre in _components(pre_tokenizer, "pretokenizers"):
        ptype = pre.get("type")
        if ptype == "Metaspace":
            scheme = pre.get("prepend_scheme")
            if scheme is None:
                scheme = "always" if pre.get("add_prefix_space", True) else "never"
            if scheme in ("first", "always"):
                return PREFIX_SPACE_IF_ABSENT
        elif ptype == "ByteLevel" and pre.get("add_prefix_space", False):
            return PREFIX_SPACE_IF_ABSENT
    return PREFIX_SPACE_NEVER
