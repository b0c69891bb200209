"""Vocabulary: exact token bytes on the five fixture tokenizers, stop/special ids, vocab_size, errors."""
from __future__ import annotations

import json
import pickle
import time
import unicodedata

import numpy as np
import pytest

from structgen._shared import TOKENIZER_NAMES, tokenizer_path
from structgen.errors import TokenizerError
from structgen.vocab import Vocabulary
from tests.conftest import get_tokenizer, get_vocab, require_path

CORPUS = [
    "",
    "hello world",
    '{"name": "Zoë", "tags": ["a", "b"], "n": -1.5e+10, "ok": true, "nested": {"x": null}}',
    '[{"id":1,"v":"\\u00e9\\n"},{"id":2}]',
    "def f(x):\n\treturn x ** 2  # comment\n\n\nclass A:\n    pass\n",
    "for (int i = 0; i < n; ++i) { s += a[i]; }\r\n",
    "a    b\t\t\tc\n\n\n  \n d   ",
    "     ",
    "\t",
    "\r\n\r\n",
    " leading space",
    "  two leading spaces",
    "\nstarts with newline",
    "trailing newline\n",
    "日本語のテキスト、中文文本。",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "Привет, мир!",
    "한국어 텍스트",
    "👍🏽 family: 👨\u200d👩\u200d👧\u200d👦 flag: 🇫🇷 ❤️",
    "\u0301",
    "e\u0301 a\u0308\u0301",
    "\u0301\u0301abc",
    "𠀀𠀁 \U0001F9EC ᚠᛇᚻ \u200b",
    "\x00\x01\x7f",
    "<0x41> looks like a byte token",
    "Ω≈ç√∫˜µ≤≥÷ åß∂ƒ©˙∆˚¬",
    "x" * 300,
    " " * 70 + "deep indent",
]


def _expected_text(name: str, vocab: Vocabulary, text: str) -> str:
    """What the tokenizer really encodes: NFC for tokenizers with that normalizer, plus the prefix space."""
    tokenizer = get_tokenizer(name)
    normalizer = tokenizer.backend_tokenizer.normalizer
    if normalizer is not None and "NFC" in normalizer.__getstate__().decode():
        text = unicodedata.normalize("NFC", text)
    if not text:
        return text
    if vocab.prefix_space_mode == "always":
        return " " + text
    if vocab.prefix_space_mode == "if_absent" and not text.startswith(" "):
        return " " + text
    return text


@pytest.mark.parametrize("name", TOKENIZER_NAMES)
def test_round_trip_corpus(name):
    tokenizer = get_tokenizer(name)
    vocab = get_vocab(name)
    for text in CORPUS:
        ids = tokenizer.encode(text, add_special_tokens=False)
        got = vocab.decode(ids)
        assert got == _expected_text(name, vocab, text).encode("utf-8"), (name, text, ids)


@pytest.mark.parametrize("name", TOKENIZER_NAMES)
def test_every_token_matches_tokenizer_decode(name):
    """Full-vocabulary oracle: HF decode of [anchor, t] minus decode([anchor]) == our bytes of t
    (for every non-special token whose bytes are valid UTF-8)."""
    tokenizer = get_tokenizer(name)
    vocab = get_vocab(name)
    anchor = tokenizer.encode("a", add_special_tokens=False)
    assert len(anchor) == 1
    base = tokenizer.decode(anchor)
    ids = [i for i in range(vocab.n_tokens) if not vocab.is_special(i)]
    outs = tokenizer.batch_decode([anchor + [i] for i in ids], skip_special_tokens=False,
                                  clean_up_tokenization_spaces=False)
    checked = 0
    for i, out in zip(ids, outs):
        try:
            text = vocab.token_bytes[i].decode("utf-8")
        except UnicodeDecodeError:
            continue
        assert out == base + text, (name, i, vocab.token_bytes[i], out)
        checked += 1
    assert checked > 0.95 * len(ids)


@pytest.mark.parametrize("name", ["gpt2", "llama3", "qwen2"])
def test_byte_level_tokens_match_independent_byte_table(name):
    """Every byte-level token (including non-UTF-8 ones) equals its string mapped through
    transformers' own copy of GPT-2's byte table."""
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    char_to_byte = {c: b for b, c in bytes_to_unicode().items()}
    tokenizer = get_tokenizer(name)
    vocab = get_vocab(name)
    assert vocab.is_byte_level
    model_vocab = tokenizer.backend_tokenizer.get_vocab(with_added_tokens=False)
    added_tokens = tokenizer.backend_tokenizer.get_added_tokens_decoder()
    for piece, tid in model_vocab.items():
        if vocab.is_special(tid):
            continue
        added = added_tokens.get(tid)
        expected = added.content.encode() if added is not None else bytes(char_to_byte[c] for c in piece)
        assert vocab.token_bytes[tid] == expected, (tid, piece)


@pytest.mark.parametrize("name", ["llama2", "phi3"])
def test_sentencepiece_byte_fallback_and_prefix_space(name):
    tokenizer = get_tokenizer(name)
    vocab = get_vocab(name)
    assert vocab.kind == "sentencepiece" and vocab.add_prefix_space
    fallback = [tokenizer.convert_tokens_to_ids(f"<0x{b:02X}>") for b in range(256)]
    assert [vocab.token_bytes[i] for i in fallback] == [bytes([b]) for b in range(256)]
    space_piece = tokenizer.convert_tokens_to_ids("▁")
    assert vocab.token_bytes[space_piece] == b" "
    # exactly one space is prepended to a text without a leading space
    assert vocab.decode(tokenizer.encode("hi", add_special_tokens=False)) == b" hi"
    # a text with a leading space: Llama 2 (Metaspace, prepend_scheme=first) does not add another,
    # Phi-3 (Prepend normalizer) always does
    leading = vocab.decode(tokenizer.encode(" hi", add_special_tokens=False))
    if name == "llama2":
        assert vocab.prefix_space_mode == "if_absent" and leading == b" hi"
    else:
        assert vocab.prefix_space_mode == "always" and leading == b"  hi"


@pytest.mark.parametrize("name", ["gpt2", "llama3", "qwen2"])
def test_byte_level_has_no_prefix_space(name):
    vocab = get_vocab(name)
    assert not vocab.add_prefix_space and vocab.prefix_space_mode == "never"
    assert vocab.stats["unmapped_byte_level_tokens"] == 0


# ---------------------------------------------------------------------- stop / special ids
EXPECTED_STOPS = {
    "llama3": {128001, 128009},
    "qwen2": {151643, 151645},
    "gpt2": {50256},
    "llama2": {2},
    "phi3": {32000, 32007},
}


@pytest.mark.parametrize("name", TOKENIZER_NAMES)
def test_stop_and_special_ids(name):
    tokenizer = get_tokenizer(name)
    vocab = get_vocab(name)
    assert EXPECTED_STOPS[name] <= set(vocab.stop_ids)
    assert tokenizer.eos_token_id in vocab.stop_ids
    assert set(vocab.stop_ids) <= set(vocab.special_ids)
    for tid in tokenizer.all_special_ids:
        assert tid in vocab.special_ids
    for tid, tok in tokenizer.backend_tokenizer.get_added_tokens_decoder().items():
        assert (tid in vocab.special_ids) == bool(tok.special)
    trie = vocab.trie
    for tid in vocab.special_ids:
        assert vocab.token_bytes[tid] == b""
        assert trie.node_of_token[tid] == -1
    assert vocab.decode(list(vocab.special_ids)) == b""


def test_specific_special_tokens():
    llama3 = get_vocab("llama3")
    assert 128000 in llama3.special_ids and 128000 not in llama3.stop_ids  # <|begin_of_text|>
    assert 128006 in llama3.special_ids and 128006 not in llama3.stop_ids  # <|start_header_id|>
    qwen2 = get_vocab("qwen2")
    assert 151644 in qwen2.special_ids and 151644 not in qwen2.stop_ids  # <|im_start|>
    assert qwen2.token_bytes[151646] == b"[PAD151646]"  # non-special added token: literal content
    phi3 = get_vocab("phi3")
    assert phi3.token_bytes[2] == b"</s>" and 2 not in phi3.special_ids  # declared non-special
    assert 32001 in phi3.special_ids and 32001 not in phi3.stop_ids  # <|assistant|>
    llama2 = get_vocab("llama2")
    assert set(llama2.special_ids) == {0, 1, 2} and llama2.stop_ids == (2,)


def test_non_special_added_token_round_trips():
    tokenizer = get_tokenizer("phi3")
    vocab = get_vocab("phi3")
    ids = tokenizer.encode("a</s>b", add_special_tokens=False)
    assert 2 in ids
    # Phi-3's Prepend normalizer also runs on the segment after the added token ("b" -> "▁b"):
    # a tokenizer quirk, faithfully reflected (the HF decode shows the same space).
    assert vocab.decode(ids) == b" a</s> b"
    assert tokenizer.decode(ids) == "a</s> b"


def test_stop_ids_override():
    tokenizer = get_tokenizer("qwen2")
    vocab = Vocabulary.from_hf(tokenizer, stop_ids=[151645])
    assert vocab.stop_ids == (151645,)
    assert 151643 in vocab.special_ids  # still special, just not a stop
    with pytest.raises(ValueError):
        Vocabulary.from_hf(tokenizer, stop_ids=[10 ** 7])


# ---------------------------------------------------------------------- vocab_size
def test_vocab_size_smaller_drops_ids():
    tokenizer = get_tokenizer("llama3")
    vocab = Vocabulary.from_hf(tokenizer, vocab_size=128256)
    assert vocab.n_tokens == 128257 and vocab.vocab_size == 128256
    assert 128256 not in vocab.stop_ids and {128001, 128009} <= set(vocab.stop_ids)
    assert not vocab.text_token_mask[128256:].any()
    assert (vocab.trie.node_of_token[128256:] == -1).all()
    with pytest.raises(ValueError):
        Vocabulary.from_hf(tokenizer, vocab_size=128256, stop_ids=[128256])

    qwen = Vocabulary.from_hf(get_tokenizer("qwen2"), vocab_size=150000)
    assert qwen.stop_ids == ()  # both end tokens are beyond the logit width
    trie = qwen.trie
    assert trie.token_ids.max() < 150000
    assert (trie.node_of_token[150000:] == -1).all()


def test_vocab_size_larger_padded():
    vocab = Vocabulary.from_hf(get_tokenizer("qwen2"), vocab_size=152064)
    assert vocab.n_tokens == 151936 and vocab.vocab_size == 152064
    assert vocab.trie.node_of_token.shape == (151936,)
    assert vocab.trie.token_ids.max() < vocab.n_tokens
    assert vocab.fingerprint != get_vocab("qwen2").fingerprint
    with pytest.raises(ValueError):
        vocab.decode([152000])


def test_fingerprint_and_memo():
    tokenizer = get_tokenizer("gpt2")
    a = Vocabulary.from_hf(tokenizer)
    assert Vocabulary.from_hf(tokenizer) is a  # memoized
    b = Vocabulary.from_token_bytes(a.token_bytes, stop_ids=a.stop_ids, special_ids=a.special_ids)
    assert b.fingerprint == a.fingerprint and b == a
    c = Vocabulary.from_token_bytes(a.token_bytes, stop_ids=(), special_ids=a.special_ids)
    assert c.fingerprint != a.fingerprint
    d = Vocabulary.from_token_bytes(a.token_bytes, stop_ids=a.stop_ids, special_ids=a.special_ids,
                                    vocab_size=a.vocab_size + 1)
    assert d.fingerprint != a.fingerprint


def test_memo_sees_added_tokens():
    from transformers import AutoTokenizer

    require_path(tokenizer_path("gpt2"), "tokenizer 'gpt2'")
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_path("gpt2")))
    before = Vocabulary.from_hf(tokenizer)
    tokenizer.add_tokens(["<my_tag>"])
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|my_special|>"]})
    after = Vocabulary.from_hf(tokenizer)
    assert after.n_tokens == before.n_tokens + 2
    tag_id = tokenizer.convert_tokens_to_ids("<my_tag>")
    special_id = tokenizer.convert_tokens_to_ids("<|my_special|>")
    assert after.token_bytes[tag_id] == b"<my_tag>"
    assert special_id in after.special_ids and after.token_bytes[special_id] == b""


def test_from_pretrained(tmp_path):
    src = require_path(tokenizer_path("gpt2"), "tokenizer 'gpt2'")
    direct = Vocabulary.from_pretrained(src)
    assert direct.n_tokens == 50257 and direct.vocab_size == 50257
    # a model folder with config.json (logit width) and generation_config.json (extra eos)
    for f in src.iterdir():
        (tmp_path / f.name).symlink_to(f)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2", "vocab_size": 50304}))
    (tmp_path / "generation_config.json").write_text(json.dumps({"eos_token_id": [50256, 198]}))
    vocab = Vocabulary.from_pretrained(tmp_path)
    assert vocab.vocab_size == 50304
    assert vocab.stop_ids == (198, 50256)
    assert vocab.token_bytes[198] == b""  # a stop token is never text
    with pytest.raises(TokenizerError):
        Vocabulary.from_pretrained(tmp_path / "missing")


# ---------------------------------------------------------------------- synthetic tokenizers
def _bpe_tokenizer(vocab, decoder=None, **model_kwargs):
    from tokenizers import Tokenizer, models

    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], **model_kwargs))
    if decoder is not None:
        tok.decoder = decoder
    return tok


def test_byte_level_unmapped_characters_keep_utf8():
    """Mirrors tokenizers' ByteLevel decoder: a token with a character outside the byte table
    decodes to its raw UTF-8."""
    from tokenizers import decoders

    tok = _bpe_tokenizer({"a": 0, "a b": 1, "é": 2, "€x": 3, "Ġc": 4}, decoders.ByteLevel())
    vocab = Vocabulary.from_hf(tok)
    assert vocab.token_bytes == [b"a", b"a b", b"\xe9", "€x".encode(), b" c"]
    assert vocab.stats["unmapped_byte_level_tokens"] == 2
    assert tok.decode([1]) == "a b" and tok.decode([3]) == "€x"
    assert vocab.stop_ids == ()


def test_unsupported_tokenizers_raise():
    from tokenizers import Tokenizer, decoders, models

    wordpiece = Tokenizer(models.WordPiece(vocab={"[UNK]": 0, "a": 1, "##b": 2}, unk_token="[UNK]"))
    wordpiece.decoder = decoders.WordPiece()
    with pytest.raises(TokenizerError, match="WordPiece"):
        Vocabulary.from_hf(wordpiece)
    with pytest.raises(TokenizerError, match="decoder"):
        Vocabulary.from_hf(_bpe_tokenizer({"a": 0, "b": 1}))  # no decoder: joined by spaces
    with pytest.raises(TokenizerError, match="BPEDecoder"):
        Vocabulary.from_hf(_bpe_tokenizer({"a</w>": 0}, decoders.BPEDecoder()))
    with pytest.raises(TokenizerError, match="end_of_word_suffix"):
        Vocabulary.from_hf(_bpe_tokenizer({"a</w>": 0}, decoders.ByteLevel(), end_of_word_suffix="</w>"))
    with pytest.raises(TokenizerError, match="fast"):
        Vocabulary.from_hf(object())


def test_unigram_metaspace():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    tok = Tokenizer(models.Unigram([("<unk>", 0.0), ("▁a", -1.0), ("b", -2.0), ("▁", -3.0), ("a", -4.0)],
                                   unk_id=0))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="always")
    tok.decoder = decoders.Metaspace(prepend_scheme="always")
    vocab = Vocabulary.from_hf(tok)
    assert vocab.token_bytes == [b"", b" a", b"b", b" ", b"a"]
    assert vocab.special_ids == (0,) and vocab.prefix_space_mode == "if_absent"
    ids = tok.encode("ab a").ids
    assert vocab.decode(ids) == b" ab a"


# ---------------------------------------------------------------------- from_token_bytes / decode
def test_from_token_bytes_and_decode():
    vocab = Vocabulary.from_token_bytes([b"a", b"bc", b"<eos>", b"", b"\xff"], stop_ids=[2], special_ids=[4])
    assert vocab.n_tokens == 5 and vocab.vocab_size == 5
    assert vocab.token_bytes == [b"a", b"bc", b"", b"", b""]  # stop/special ids have no bytes
    assert vocab.stop_ids == (2,) and vocab.special_ids == (2, 4)
    assert vocab.decode([0, 1, 2, 3, 4, 0]) == b"abca"
    assert vocab.decode(np.array([1, 1])) == b"bcbc"
    assert vocab.text_token_mask.tolist() == [True, True, False, False, False]
    with pytest.raises(ValueError):
        vocab.decode([5])
    with pytest.raises(ValueError):
        vocab.decode([-1])
    with pytest.raises(ValueError):
        Vocabulary.from_token_bytes([b"a"], stop_ids=[1])
    with pytest.raises(ValueError):
        Vocabulary.from_token_bytes([b"a"], special_ids=[3])
    with pytest.raises(ValueError):
        Vocabulary.from_token_bytes([])


def test_build_times(capsys):
    """Measured and printed (not asserted): vocabulary build, trie build, memo hit."""
    lines = []
    for name in TOKENIZER_NAMES:
        tokenizer = get_tokenizer(name)
        Vocabulary.clear_cache()  # cold build
        t0 = time.perf_counter()
        vocab = Vocabulary.from_hf(tokenizer)
        t1 = time.perf_counter()
        trie = vocab.trie
        t2 = time.perf_counter()
        Vocabulary.from_hf(tokenizer, vocab_size=vocab.vocab_size)
        t3 = time.perf_counter()
        lines.append(f"{name:7s} n_tokens={vocab.n_tokens:6d} vocab {t1 - t0:.3f}s trie {t2 - t1:.3f}s "
                     f"({trie.n_nodes} nodes) memo-hit {t3 - t2:.4f}s")
    with capsys.disabled():
        print("\n" + "\n".join(lines))


def test_pickle_round_trip():
    vocab = get_vocab("gpt2")
    trie = vocab.trie
    clone = pickle.loads(pickle.dumps(vocab))
    assert clone == vocab and clone.token_bytes == vocab.token_bytes and clone.stop_ids == vocab.stop_ids
    assert (clone.trie.subtree_end == trie.subtree_end).all()
