"""Token bytes of a HF tokenizer, and tokenizing a text so the tokens spell exactly its bytes.

Kept independent of ``structgen.vocab`` so competitor engines can be benchmarked on their own
(outlines-core needs the byte string of every token; the walks need exact token sequences).
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass

_BYTE_FALLBACK = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


@functools.lru_cache(maxsize=1)
def _byte_level_decoder() -> dict[str, int]:
    """Inverse of GPT-2's ``bytes_to_unicode``: printable stand-in character -> byte."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1)
    )
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, chars)}


def _decoder_kinds(tokenizer) -> set[str]:
    """The decoder component types of a fast tokenizer (``ByteLevel``, ``Replace``, ``ByteFallback`` …)."""
    spec = json.loads(tokenizer.backend_tokenizer.to_str()).get("decoder") or {}
    kinds: set[str] = set()
    stack = [spec]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "type" in node:
                kinds.add(node["type"])
            stack.extend(node.get("decoders") or [])
    return kinds


@dataclass(frozen=True)
class TokenTable:
    """Bytes of every token id (``None`` for special tokens, which spell no text)."""

    token_bytes: tuple[bytes | None, ...]
    special_ids: frozenset[int]
    eos_id: int | None

    @property
    def size(self) -> int:
        return len(self.token_bytes)

    @functools.cached_property
    def id_of_bytes(self) -> dict[bytes, int]:
        table: dict[bytes, int] = {}
        for tid, b in enumerate(self.token_bytes):
            if b is not None and b not in table:
                table[b] = tid
        return table

    def spell(self, ids: list[int]) -> bytes:
        return b"".join(self.token_bytes[i] or b"" for i in ids)


def token_table(tokenizer) -> TokenTable:
    """Decode every token of a fast HF tokenizer to bytes.

    Byte-level BPE (GPT-2, Llama-3, Qwen2): map the stand-in characters back to bytes.
    SentencePiece style (Llama-2, Phi-3): ``▁`` is a space, ``<0xNN>`` is one raw byte.
    Added tokens that are not special spell their content verbatim.
    """
    n = len(tokenizer)
    kinds = _decoder_kinds(tokenizer)
    byte_level = "ByteLevel" in kinds
    added = {tid: tok for tid, tok in tokenizer.added_tokens_decoder.items()}
    special = frozenset(tid for tid, tok in added.items() if tok.special)
    pieces = tokenizer.convert_ids_to_tokens(list(range(n)))
    decoder = _byte_level_decoder()
    out: list[bytes | None] = []
    for tid, piece in enumerate(pieces):
        if tid in special or piece is None:
            out.append(None)
        elif tid in added:
            out.append(added[tid].content.encode("utf-8"))
        elif byte_level:
            try:
                out.append(bytes(decoder[c] for c in piece))
            except KeyError:
                out.append(piece.encode("utf-8"))
        else:
            m = _BYTE_FALLBACK.match(piece)
            out.append(bytes([int(m.group(1), 16)]) if m else piece.replace("\u2581", " ").encode("utf-8"))
    return TokenTable(tuple(out), special, tokenizer.eos_token_id)


class TokenizationMismatch(ValueError):
    """The tokenizer's output does not spell the text's bytes and could not be repaired."""


def encode_exact(tokenizer, table: TokenTable, text: str) -> list[int]:
    """Token ids (no special tokens) whose bytes concatenate to exactly ``text.encode()``.

    SentencePiece tokenizers prepend a space (``▁``) to the first piece; that first token is then
    replaced by the token spelling the same bytes without the space, or by its bytes as single-byte
    tokens. Raises :class:`TokenizationMismatch` when the result still differs.
    """
    want = text.encode("utf-8")
    ids = list(tokenizer.encode(text, add_special_tokens=False))
    got = table.spell(ids)
    if got == want:
        return ids
    if ids and got == b" " + want:
        first = table.token_bytes[ids[0]] or b""
        rest = first[1:]
        if not rest:
            return ids[1:]
        if rest in table.id_of_bytes:
            return [table.id_of_bytes[rest]] + ids[1:]
        single = [table.id_of_bytes.get(bytes([b])) for b in rest]
        if all(s is not None for s in single):
            return single + ids[1:]
    raise TokenizationMismatch(f"tokens spell {got[:60]!r}..., text is {want[:60]!r}...")
