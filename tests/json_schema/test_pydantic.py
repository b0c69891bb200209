"""pydantic models: grammar members parse with ``model_validate_json``; dumped instances are accepted."""
from __future__ import annotations

import enum
import json
from typing import Annotated, Literal, Optional, Union

import pytest
from pydantic import BaseModel, Field

from structgen.errors import UnsupportedSchemaError
from structgen.json_schema import SchemaApproximationWarning, schema_to_ir

from .helpers import accepts, automaton, random_members


class Color(enum.Enum):
    red = "red"
    green = "green"


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int = Field(ge=0, le=9)


class Dog(BaseModel):
    kind: Literal["dog"]
    name: str = Field(min_length=1, max_length=12, pattern=r"^[A-Z]")


class Owner(BaseModel):
    name: str
    age: Optional[int] = None
    color: Color = Color.red
    pets: list[Annotated[Union[Cat, Dog], Field(discriminator="kind")]] = []
    tags: dict[str, int] = {}
    point: tuple[int, str] = (0, "")
    ratio: float = Field(default=0.5, gt=0, lt=1)
    level: Literal[1, 2, 3] = 1


class Node(BaseModel):
    value: float
    children: list["Node"] = []
    parent: Optional["Node"] = None


class Item(BaseModel):
    sku: str = Field(pattern=r"^[A-Z]{3}-\d{3}$")
    qty: int = Field(gt=0, multiple_of=5)
    price: float = Field(ge=0, le=1000)
    note: Optional[str] = Field(default=None, max_length=10)


MODELS = [Owner, Node, Item, Cat]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_random_members_validate_with_pydantic(model):
    members = random_members(automaton(model), 25, seed=0, max_len=200)
    for s in members:
        model.model_validate_json(s)  # raises on failure
    assert len(members) >= 10


def test_dumped_instances_are_accepted():
    owner = Owner(name="Ann", age=31, color=Color.green,
                  pets=[Cat(kind="cat", lives=3), Dog(kind="dog", name="Rex")], tags={"a": 1, "é": 2},
                  point=(4, "x"), ratio=0.25, level=3)
    a = automaton(Owner)
    assert accepts(a, owner.model_dump_json())
    assert accepts(a, owner.model_dump_json(indent=2))
    assert accepts(a, json.dumps(owner.model_dump(mode="json")))
    tree = Node(value=1.5, children=[Node(value=2, children=[Node(value=-3e-2)])])
    assert accepts(automaton(Node), tree.model_dump_json())
    item = Item(sku="ABC-123", qty=15, price=9.99, note="hi")
    a = automaton(Item)
    assert accepts(a, item.model_dump_json())
    assert not accepts(a, item.model_dump_json().replace("15", "16"))
    assert not accepts(a, item.model_dump_json().replace("ABC", "AB"))


def test_pydantic_types_and_sets():
    assert accepts(automaton(list[int]), "[1, 2]")
    assert accepts(automaton(Literal["a", "b"]), '"b"')
    # set[float] with at least 2 elements -> uniqueItems over numbers: not enforceable exactly
    # (duplicates could collapse below min_length), so it raises
    at_least_two = Annotated[set[float], Field(min_length=2)]
    with pytest.raises(UnsupportedSchemaError):
        schema_to_ir(at_least_two)
    with pytest.warns(SchemaApproximationWarning):
        schema_to_ir(at_least_two, lenient=True)
    # ... but distinct strings and integers are kept at run time (the matcher remembers the values)
    names = automaton(Annotated[set[str], Field(min_length=2)])
    assert accepts(names, '["a", "b"]') and accepts(names, '["a", "ab", "b"]')
    assert not accepts(names, '["a", "a"]') and not accepts(names, '["a", "b", "\\u0061"]')
    ints = automaton(Annotated[set[int], Field(min_length=2)])
    assert accepts(ints, "[1, 10]") and accepts(ints, "[0, -1, 1]")
    assert not accepts(ints, "[1, 1]") and not accepts(ints, "[0, 1, -0]") and not accepts(ints, "[2, 2.0]")


class Tagged(BaseModel):
    tags: set[str] = Field(max_length=3)
    ids: frozenset[int]
    pair: Annotated[set[Literal["a", "b", "c"]], Field(min_length=2)]


def test_sets_collapse_duplicates_as_pydantic_does():
    # pydantic validates a set by collapsing duplicates, then checks the bounds on the set: a
    # grammar without uniqueItems is exact for the model when min_length <= 1
    a = automaton(Tagged)
    ok = '{"tags": ["x", "x", "y"], "ids": [1, 1], "pair": ["a", "c"]}'
    assert accepts(a, ok)
    Tagged.model_validate_json(ok)
    assert not accepts(a, '{"tags": ["x", "y", "z", "w"], "ids": [], "pair": ["a", "c"]}')  # max 3 items
    # min_length 2 over a small domain stays exactly unique
    assert not accepts(a, '{"tags": [], "ids": [], "pair": ["a", "a"]}')
    assert accepts(a, '{"tags": [], "ids": [], "pair": ["b", "a", "c"]}')
    members = random_members(a, 40, seed=1, max_len=120)
    for s in members:
        Tagged.model_validate_json(s)  # raises on failure
    assert len(members) >= 10


def test_set_relaxation_leaves_data_and_names_alone():
    from structgen.json_schema.pydantic_support import relax_collapsing_sets

    schema = {"type": "object",
              "properties": {"uniqueItems": {"type": "array", "uniqueItems": True},
                             "b": {"type": "array", "uniqueItems": True, "minItems": 2}},
              "default": {"uniqueItems": True}, "enum": [{"uniqueItems": True}],
              "$defs": {"S": {"type": "array", "items": {"type": "array", "uniqueItems": True}}}}
    out = relax_collapsing_sets(schema)
    assert out["properties"]["uniqueItems"] == {"type": "array"}
    assert out["properties"]["b"]["uniqueItems"] is True
    assert out["default"] == {"uniqueItems": True} and out["enum"] == [{"uniqueItems": True}]
    assert out["$defs"]["S"]["items"] == {"type": "array"}
    assert schema["properties"]["uniqueItems"]["uniqueItems"] is True  # input not modified
