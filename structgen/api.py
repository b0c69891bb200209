"""Front doors: :func:`generate`, :func:`generate_many`, :func:`stream` and the :func:`grammar` decorator.

>>> import structgen
>>> lm = structgen.load_model("smollm2-135m-instruct")
>>> structgen.generate(lm, "Pick a colour", choices=["red", "green", "blue"])
'green'

``lm`` is an :class:`~structgen.generation.models.LM` (from :func:`structgen.load_model`), a model
name / folder, or a bare HF causal LM together with ``tokenizer=``. Exactly one of ``schema=``
(pydantic model, JSON Schema dict / bool / text, or a Python type), ``regex=``, ``grammar=`` (Lark
text or a bundled grammar's name) or ``choices=`` constrains the output; with none the output is
free text. The return value is the validated pydantic object (model schema), the parsed and
``jsonschema``-validated JSON value (dict schema), the chosen object (choices), or the text.
Reaching ``max_new_tokens`` before the constraint can stop raises
:class:`~structgen.errors.GenerationError` carrying the partial text.
"""
from __future__ import annotations

import functools
import inspect
import typing
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from structgen.generation.constraints import Constraint, make_constraint, type_constraint
from structgen.generation.loop import GenerationResult, GenerationStats, decode, stream_text
from structgen.generation.models import LM, as_lm
from structgen.generation.sampling import SamplingParams

_GENERATION_OPTIONS = ("tokenizer", "max_new_tokens", "temperature", "top_k", "top_p", "seed", "chat_template",
                       "system_prompt", "jump_forward", "overlap", "details")


@dataclass
class Generated:
    """A generation with its details (``generate(..., details=True)``)."""

    value: Any
    text: str
    result: GenerationResult

    @property
    def stats(self) -> GenerationStats:
        return self.result.stats


def _prepare(lm, tokenizer, constraint: Constraint | None):
    model = as_lm(lm, tokenizer)
    compiled = constraint.compile(model.vocab) if constraint is not None else None
    return model, compiled


def _new_matcher(compiled):
    if compiled is None:
        return None
    from structgen.runtime.matcher import Matcher

    return Matcher(compiled)


def _finish(result: GenerationResult, constraint: Constraint | None, details: bool):
    result.check_complete()
    value = constraint.parse(result.text) if constraint is not None else result.text
    return Generated(value, result.text, result) if details else value


def generate(lm: LM | Any, prompt: str | Sequence[dict], *, schema: Any = None, regex: str | None = None,
             grammar: str | None = None, choices: Sequence[Any] | None = None, tokenizer: Any = None,
             max_new_tokens: int = 256, temperature: float = 0.0, top_k: int | None = None,
             top_p: float | None = None, seed: int | None = None, chat_template: bool = True,
             system_prompt: str | None = None, whitespace: Any = None, jump_forward: bool = True,
             overlap: bool = True, details: bool = False) -> Any:
    """Generate one constrained completion of ``prompt`` (see the module docstring).

    ``prompt`` is a string (wrapped as a user turn with the tokenizer's chat template unless
    ``chat_template=False``) or a list of chat messages. ``temperature=0`` is greedy; ``seed``
    makes sampling reproducible. ``whitespace`` (JSON schemas only) bounds the whitespace between
    JSON tokens: None (default) = flexible, at most 16 characters per gap; an int = that bound;
    ``"compact"`` = none; ``"flexible"`` = unbounded; a regex = one gap's language.
    ``details=True`` returns a :class:`Generated` (value, text, stats) instead of the value.
    """
    constraint = make_constraint(schema=schema, regex=regex, grammar=grammar, choices=choices, whitespace=whitespace)
    model, compiled = _prepare(lm, tokenizer, constraint)
    ids = model.encode_prompt(prompt, chat_template=chat_template, system_prompt=system_prompt)
    sampling = SamplingParams(temperature=temperature, top_k=top_k, top_p=top_p, seed=seed)
    [result] = decode(model, [ids], [_new_matcher(compiled)], max_new_tokens=max_new_tokens, sampling=sampling,
                      jump_forward=jump_forward, overlap=overlap)
    return _finish(result, constraint, details)


def generate_many(lm: LM | Any, prompts: Sequence[str | Sequence[dict]], *, schema: Any = None,
                  regex: str | None = None, grammar: str | None = None, choices: Sequence[Any] | None = None,
                  tokenizer: Any = None, max_new_tokens: int = 256, temperature: float = 0.0,
                  top_k: int | None = None, top_p: float | None = None, seed: int | None = None,
                  chat_template: bool = True, system_prompt: str | None = None, whitespace: Any = None,
                  jump_forward: bool = True, overlap: bool = True, details: bool = False,
                  errors: str = "raise") -> list[Any]:
    """:func:`generate` for a batch of prompts decoded together (left padding, one KV cache).

    Greedy results equal one-by-one :func:`generate` calls. ``errors="raise"`` (default) raises the
    first :class:`GenerationError`; ``errors="return"`` puts the exception in that prompt's slot.
    """
    if errors not in ("raise", "return"):
        raise ValueError("errors must be 'raise' or 'return'")
    prompts = list(prompts)
    if not prompts:
        return []
    constraint = make_constraint(schema=schema, regex=regex, grammar=grammar, choices=choices, whitespace=whitespace)
    model, compiled = _prepare(lm, tokenizer, constraint)
    ids = [model.encode_prompt(p, chat_template=chat_template, system_prompt=system_prompt) for p in prompts]
    sampling = SamplingParams(temperature=temperature, top_k=top_k, top_p=top_p, seed=seed)
    results = decode(model, ids, [_new_matcher(compiled) for _ in prompts], max_new_tokens=max_new_tokens,
                     sampling=sampling, jump_forward=jump_forward, overlap=overlap)
    out: list[Any] = []
    for r in results:
        try:
            out.append(_finish(r, constraint, details))
        except Exception as exc:  # noqa: BLE001 - forwarded or returned as the caller asked
            if errors == "raise":
                raise
            out.append(exc)
    return out


def stream(lm: LM | Any, prompt: str | Sequence[dict], *, schema: Any = None, regex: str | None = None,
           grammar: str | None = None, choices: Sequence[Any] | None = None, tokenizer: Any = None,
           max_new_tokens: int = 256, temperature: float = 0.0, top_k: int | None = None,
           top_p: float | None = None, seed: int | None = None, chat_template: bool = True,
           system_prompt: str | None = None, whitespace: Any = None, jump_forward: bool = True,
           overlap: bool = True) -> Iterator[str]:
    """Like :func:`generate`, but yields the output text in chunks as it is produced.

    The concatenated chunks equal the text :func:`generate` would parse. Raises
    :class:`GenerationError` after the last chunk if the constraint could not stop in time.
    """
    constraint = make_constraint(schema=schema, regex=regex, grammar=grammar, choices=choices, whitespace=whitespace)
    model, compiled = _prepare(lm, tokenizer, constraint)
    ids = model.encode_prompt(prompt, chat_template=chat_template, system_prompt=system_prompt)
    sampling = SamplingParams(temperature=temperature, top_k=top_k, top_p=top_p, seed=seed)
    return stream_text(model, ids, _new_matcher(compiled), max_new_tokens=max_new_tokens, sampling=sampling,
                       jump_forward=jump_forward, overlap=overlap)


# ---------------------------------------------------------------------------------- decorator
class PromptFunction:
    """A prompt function with an output constraint (made by :func:`grammar`).

    Calling it (or :meth:`render`) returns the prompt text; :meth:`extract` generates the
    structured value for that prompt; :meth:`constraint` is the compiled grammar for a model or
    vocabulary.
    """

    def __init__(self, fn: Callable[..., Any], constraint: Constraint | None, options: dict[str, Any]):
        self.fn = fn
        self._constraint = constraint
        self.options = dict(options)
        self.signature = inspect.signature(fn)
        functools.update_wrapper(self, fn)

    def render(self, *args: Any, **kwargs: Any) -> str | list[dict]:
        """The prompt for these arguments (the decorated function's return value)."""
        prompt = self.fn(*args, **kwargs)
        if not isinstance(prompt, (str, list)):
            raise TypeError(f"prompt function {self.fn.__name__} must return the prompt text (str) or chat "
                            f"messages, got {type(prompt).__name__}")
        return prompt

    __call__ = render

    @property
    def spec(self) -> Constraint | None:
        """The constraint specification (None: free text)."""
        return self._constraint

    def constraint(self, lm_or_vocab: Any, tokenizer: Any = None):
        """The compiled grammar for a model (:class:`LM`, HF model + ``tokenizer``) or a Vocabulary.

        None when the output is free text (``-> str``).
        """
        if self._constraint is None:
            return None
        vocab = lm_or_vocab if _looks_like_vocab(lm_or_vocab) else as_lm(lm_or_vocab, tokenizer).vocab
        return self._constraint.compile(vocab)

    def extract(self, lm: LM | Any, *args: Any, **kwargs: Any) -> Any:
        """Render the prompt from ``args``/``kwargs`` and generate the constrained value.

        Keyword arguments that are not parameters of the prompt function and are :func:`generate`
        options (``max_new_tokens``, ``temperature``, ``seed``, ``tokenizer``, ...) configure the
        generation; decorator options are the defaults.
        """
        params = self.signature.parameters
        gen_opts = dict(self.options)
        fn_kwargs = {}
        for name, value in kwargs.items():
            if name in _GENERATION_OPTIONS and name not in params:
                gen_opts[name] = value
            else:
                fn_kwargs[name] = value
        prompt = self.render(*args, **fn_kwargs)
        details = gen_opts.pop("details", False)
        tokenizer = gen_opts.pop("tokenizer", None)
        model = as_lm(lm, tokenizer)
        compiled = self._constraint.compile(model.vocab) if self._constraint is not None else None
        ids = model.encode_prompt(prompt, chat_template=gen_opts.pop("chat_template", True),
                                  system_prompt=gen_opts.pop("system_prompt", None))
        sampling = SamplingParams(temperature=gen_opts.pop("temperature", 0.0), top_k=gen_opts.pop("top_k", None),
                                  top_p=gen_opts.pop("top_p", None), seed=gen_opts.pop("seed", None))
        [result] = decode(model, [ids], [_new_matcher(compiled)], sampling=sampling, **gen_opts)
        return _finish(result, self._constraint, details)

    def __repr__(self) -> str:
        what = self._constraint.description if self._constraint is not None else "free text"
        return f"<structgen prompt function {self.fn.__name__} -> {what}>"


def grammar(fn: Callable[..., Any] | None = None, *, schema: Any = None, regex: str | None = None,
            grammar: str | None = None, choices: Sequence[Any] | None = None, whitespace: Any = None,
            **options: Any):
    """Decorate a prompt function; the output constraint comes from the return annotation or the args.

    >>> @structgen.grammar
    ... def sentiment(review: str) -> typing.Literal["positive", "negative"]:
    ...     return f"Is this review positive or negative? {review}"
    >>> sentiment.extract(lm, review="Great phone!")
    'positive'

    Annotations: pydantic models, ``Literal[...]``, Enum classes, ``int``, ``float``, ``bool``,
    ``str`` (free text), ``list[...]`` and anything else pydantic can describe. Decorator arguments
    (``schema=``, ``regex=``, ``grammar=``, ``choices=``) take precedence over the annotation; extra
    keyword ``options`` (``max_new_tokens=``, ``temperature=``...) become generation defaults.
    """
    unknown = set(options) - set(_GENERATION_OPTIONS)
    if unknown:
        raise TypeError(f"unknown grammar() options: {sorted(unknown)}")

    def wrap(f: Callable[..., Any]) -> PromptFunction:
        explicit = any(v is not None for v in (schema, regex, grammar, choices))
        constraint = None
        if explicit:
            constraint = make_constraint(schema=schema, regex=regex, grammar=grammar, choices=choices,
                                         whitespace=whitespace)
        else:
            try:
                hints = typing.get_type_hints(f, include_extras=False)
            except Exception:  # noqa: BLE001 - unresolved forward refs: fall back to the raw annotation
                hints = {"return": inspect.signature(f).return_annotation}
            ret = hints.get("return", inspect.Signature.empty)
            if ret is inspect.Signature.empty:
                raise TypeError(f"@structgen.grammar: {f.__name__} needs a return annotation (the output type) "
                                "or one of schema=, regex=, grammar=, choices=")
            constraint = type_constraint(ret, whitespace=whitespace)
        return PromptFunction(f, constraint, options)

    if fn is not None:
        return wrap(fn)
    return wrap


def _looks_like_vocab(obj: Any) -> bool:
    return hasattr(obj, "fingerprint") and hasattr(obj, "token_bytes") and hasattr(obj, "vocab_size")
