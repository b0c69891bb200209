"""Front doors: generate / generate_many / stream and the @api.grammar decorator (tiny models)."""
from __future__ import annotations

import enum
import json
import re
from typing import Annotated, Literal

import jsonschema
import pytest
from pydantic import BaseModel, ConfigDict, Field

import structgen
from structgen import api
from structgen.errors import GenerationError
from structgen.generation.constraints import make_constraint
from tests.conftest import get_tokenizer
from tests.generation.tiny import tiny_lm, tiny_model, torch_single_thread  # noqa: F401 (fixture)

SMALL_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 6},
        "n": {"type": "integer", "minimum": 0, "maximum": 99},
        "ok": {"type": "boolean"},
    },
    "required": ["name", "n", "ok"],
    "additionalProperties": False,
}

pytestmark = pytest.mark.usefixtures("torch_single_thread")


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")  # additionalProperties: false (else any extra keys are valid)

    name: Annotated[str, Field(max_length=6)]
    count: Annotated[int, Field(ge=0, le=50)]
    kind: Literal["tool", "toy"]


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


@pytest.fixture(scope="module")
def lm():
    return tiny_lm("gpt2")


# ------------------------------------------------------------------------------- generate
def test_regex_choices_and_grammar(lm):
    assert re.fullmatch(r"[0-9]{3}-[0-9]{4}", api.generate(lm, "phone", regex=r"[0-9]{3}-[0-9]{4}"))
    assert api.generate(lm, "colour", choices=["red", "green", "blue"]) in ("red", "green", "blue")
    for seed in range(3):
        assert api.generate(lm, "x", choices=[1, 2.5, True, None, Colour.GREEN], temperature=1.0,
                            seed=seed) in (1, 2.5, True, None, Colour.GREEN)
    grammar = 'start: "(" NUM ("," NUM)~0..3 ")"\nNUM: /[0-9]{1,3}/\n'
    out = api.generate(lm, "tuple", grammar=grammar, temperature=1.0, seed=4, max_new_tokens=40)
    assert re.fullmatch(r"\([0-9]{1,3}(,[0-9]{1,3}){0,3}\)", out)


def test_bundled_grammar_by_name(lm):
    # A random model may not close the expression in time; either way the text is a valid prefix.
    try:
        out = api.generate(lm, "expr", grammar="arithmetic", max_new_tokens=12)
    except GenerationError as exc:
        assert exc.partial_text
    else:
        import lark

        lark.Lark(structgen.grammars.load("arithmetic"), lexer="dynamic_complete").parse(out)


def test_dict_schema_returns_validated_json(lm):
    for seed in range(4):
        value = api.generate(lm, "json", schema=SMALL_SCHEMA, temperature=1.0, seed=seed, max_new_tokens=60,
                             whitespace="compact")
        jsonschema.validate(value, SMALL_SCHEMA)
        assert isinstance(value, dict)
    # bounded whitespace (at most one character per gap): the text shows it, the value validates
    d = api.generate(lm, "json", schema=json.dumps(SMALL_SCHEMA), whitespace=1, max_new_tokens=80, details=True)
    jsonschema.validate(d.value, SMALL_SCHEMA)
    assert max(_whitespace_runs_outside_strings(d.text), default=0) <= 1


def _whitespace_runs_outside_strings(text: str) -> list[int]:
    runs, run, in_string, escaped = [], 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch in " \t\n\r":
            run += 1
            continue
        runs.append(run)
        run = 0
        in_string = ch == '"'
    return runs + [run]


def test_pydantic_schema_returns_model_instance(lm):
    for seed in range(3):
        item = api.generate(lm, "item", schema=Item, temperature=1.0, seed=seed, max_new_tokens=60,
                            whitespace="compact")
        assert isinstance(item, Item) and item.kind in ("tool", "toy")


def test_bare_hf_model_with_tokenizer():
    model, tok = tiny_model("gpt2"), get_tokenizer("gpt2")
    out = structgen.generate(model, "n", tokenizer=tok, regex=r"[a-c]{4}")
    assert re.fullmatch(r"[a-c]{4}", out)
    with pytest.raises(ValueError):
        structgen.generate(model, "n", regex="a")


def test_max_new_tokens_raises_with_partial_text(lm):
    with pytest.raises(GenerationError) as exc:
        api.generate(lm, "long", regex=r"[a-z]{30}", max_new_tokens=4)
    assert re.fullmatch(r"[a-z]{1,30}", exc.value.partial_text)


def test_details_stream_and_many(lm):
    pattern = r"(ab|cd|é){3,5}"
    d = api.generate(lm, "s", regex=pattern, details=True)
    assert d.value == d.text and d.stats.output_tokens >= 1
    assert "".join(api.stream(lm, "s", regex=pattern)) == d.text
    prompts = ["one", "a longer second prompt", "3"]
    many = api.generate_many(lm, prompts, regex=pattern)
    assert many == [api.generate(lm, p, regex=pattern) for p in prompts]
    mixed = api.generate_many(lm, prompts, regex=r"[a-z]{80}", max_new_tokens=3, errors="return")
    assert all(isinstance(x, GenerationError) for x in mixed)
    assert api.generate_many(lm, [], regex=pattern) == []


def test_constraint_argument_errors(lm):
    with pytest.raises(ValueError):
        api.generate(lm, "x", regex="a", choices=["a"])
    with pytest.raises(TypeError):
        api.generate(lm, "x", choices="abc")
    with pytest.raises(ValueError):
        make_constraint(regex="a", whitespace="compact")
    with pytest.raises(ValueError):
        make_constraint(choices=[1, "1"])  # both render as "1"


def test_compiled_constraints_are_cached_per_vocabulary(lm):
    c = make_constraint(regex=r"[xyz]{2}")
    assert c.compile(lm.vocab) is make_constraint(regex=r"[xyz]{2}").compile(lm.vocab)
    other = tiny_lm("llama2").vocab
    assert c.compile(other) is not c.compile(lm.vocab)


# ------------------------------------------------------------------------------- decorator
def test_decorator_from_return_annotations(lm):
    @api.grammar
    def answer(question: str) -> Literal["yes", "no"]:
        return f"Q: {question}\nA:"

    assert answer.render("why?") == "Q: why?\nA:" == answer(question="why?")
    assert answer.extract(lm, "why?") in ("yes", "no")
    assert answer.__name__ == "answer"
    compiled = answer.constraint(lm)
    assert compiled is answer.constraint(lm.vocab)

    @api.grammar
    def number(topic: str) -> int:
        return f"A number about {topic}:"

    n = number.extract(lm, topic="cats", temperature=1.0, seed=3, max_new_tokens=6)
    assert isinstance(n, int)

    @api.grammar
    def flag() -> bool:
        return "True or false?"

    assert flag.extract(lm) in (True, False)

    @api.grammar
    def colour() -> Colour:
        return "Pick a colour"

    assert isinstance(colour.extract(lm), Colour)

    @api.grammar
    def ratio() -> float:
        return "A ratio:"

    from structgen.generation.constraints import FLOAT_REGEX

    assert ratio.spec.key == ("type", "float")
    assert all(re.fullmatch(FLOAT_REGEX, s) for s in ("0", "-1.5", "3e8", "2.50E-3"))
    assert not any(re.fullmatch(FLOAT_REGEX, s) for s in ("01", "1.", ".5", "+1", "nan"))
    try:
        assert isinstance(ratio.extract(lm, max_new_tokens=8), float)
    except GenerationError as exc:  # a random model may keep adding digits
        assert re.fullmatch(r"-?[0-9.eE+-]*", exc.partial_text)

    @api.grammar
    def free(x: str) -> str:
        return x

    assert free.constraint(lm) is None
    assert isinstance(free.extract(lm, "hi", max_new_tokens=3), str)


def test_decorator_with_model_and_list_annotations(lm):
    @api.grammar(whitespace="compact")
    def make_item(kind: str) -> Item:
        return f"Make a {kind}"

    assert isinstance(make_item.extract(lm, "toy", max_new_tokens=60), Item)

    @api.grammar(max_new_tokens=60, whitespace="compact")
    def digits() -> Annotated[list[Literal[1, 2, 3]], Field(max_length=3)]:
        return "digits"

    out = digits.extract(lm)
    assert isinstance(out, list) and len(out) <= 3 and set(out) <= {1, 2, 3}


def test_decorator_arguments_override_annotation(lm):
    @api.grammar(regex=r"[0-9]{2}", temperature=1.0, seed=5)
    def two_digits(topic: str) -> str:
        return topic

    a = two_digits.extract(lm, "x")
    assert re.fullmatch(r"[0-9]{2}", a) and a == two_digits.extract(lm, "x")

    @api.grammar(choices=["left", "right"])
    def side(temperature: float) -> str:  # a prompt parameter shadowing a generation option
        return f"temperature {temperature}"

    assert side.render(temperature=0.5) == "temperature 0.5"
    assert side.extract(lm, temperature=0.5) in ("left", "right")


def test_decorator_errors():
    with pytest.raises(TypeError):
        @api.grammar
        def no_annotation(x):
            return x

    with pytest.raises(TypeError):
        api.grammar(bogus_option=1)

    @api.grammar(regex="a")
    def not_a_prompt():
        return 42

    with pytest.raises(TypeError):
        not_a_prompt.render()


def test_structgen_grammar_is_the_decorator_after_importing_the_cfg_package(lm):
    import structgen.cfg.ir  # noqa: F401 - the grammar IR lives in structgen.cfg, not structgen.grammar

    @structgen.grammar
    def pick() -> Literal["a", "b"]:
        return "a or b?"

    @structgen.grammar(regex="[0-9]")
    def digit() -> str:
        return "digit?"

    assert pick.extract(lm) in ("a", "b") and re.fullmatch("[0-9]", digit.extract(lm))


@pytest.mark.model
def test_embedded_model_schema_generation_with_forced_tokens():
    from structgen.generation.models import load_model

    lm = load_model("smollm2-135m-instruct")
    schema = {"type": "object", "properties": {"answer": {"enum": ["yes", "no"]}, "confidence": {"enum": [1, 2, 3]}},
              "required": ["answer", "confidence"], "additionalProperties": False}
    prompt = "Is water wet? Answer as JSON."
    fast = api.generate(lm, prompt, schema=schema, whitespace="compact", max_new_tokens=24, details=True)
    slow = api.generate(lm, prompt, schema=schema, whitespace="compact", max_new_tokens=24, details=True,
                        jump_forward=False)
    jsonschema.validate(fast.value, schema)
    assert fast.text == slow.text
    assert fast.stats.forced_tokens > 0
    assert fast.stats.forward_passes < slow.stats.forward_passes
