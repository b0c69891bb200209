"""pydantic models: grammar members parse with ``model_validate_json``; dumped instances are accepted."""
from __future__ import annotations

import enum
import json
import random
from typing import Annotated, Literal, Optional, Union

import pytest
from pydantic import BaseModel, Field

from structgen.errors import UnsupportedSchemaError
from structgen.json_schema import SchemaApproximationWarning, schema_to_ir

from .helpers import accepts, automaton, random_member


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
    aut = automaton(model)
    rng = random.Random(0)
    n = 0
    for _ in range(25):
        s = random_member(aut, rng, max_len=200)
        if s is None:
            continue
        n += 1
        model.model_validate_json(s)  # raises on failure
    assert n >= 10


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
    # set[int] -> uniqueItems over integers: not enforceable exactly
    with pytest.raises(UnsupportedSchemaError):
        schema_to_ir(set[int])
    with pytest.warns(SchemaApproximationWarning):
        schema_to_ir(set[int], lenient=True)
