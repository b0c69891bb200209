"""JSON Schema corpora for MaskBench: MaskBench files and JSON Schema Test Suite files.

- MaskBench (``data/maskbench/*.json``): one schema per file,
  ``{"description", "meta", "schema", "tests": [{"description", "valid", "data"}]}`` (``tests`` may be empty).
  Category: the part before ``---`` when the name has one (``Github_easy---o1234`` -> ``Github_easy``),
  else the name before its last ``_`` (``BFCL_java_17`` -> ``BFCL_java``).
- JSON Schema Test Suite (``tests/draft2020-12/*.json``): each file is a list of groups
  ``{"description", "schema", "tests": [{"description", "data", "valid"}]}``; every group is one item
  (id ``<file>#<index>``), category = the file name (``anyOf``).
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class SchemaItem:
    id: str
    category: str
    schema: Any
    tests: list[dict[str, Any]] = field(default_factory=list)  # {"data": ..., "valid": bool, "description": str}
    source: str = ""

    def to_task(self) -> dict[str, Any]:
        return {"id": self.id, "category": self.category, "schema": self.schema, "tests": self.tests}


def category_of(stem: str) -> str:
    """MaskBench category of a file stem (see module docstring)."""
    if "---" in stem:
        return stem.split("---", 1)[0]
    return stem.rsplit("_", 1)[0] if "_" in stem else stem


def _tests_of(raw: Any) -> list[dict[str, Any]]:
    out = []
    for t in raw or []:
        if isinstance(t, dict) and "data" in t and "valid" in t:
            out.append({"data": t["data"], "valid": bool(t["valid"]), "description": t.get("description", "")})
    return out


def items_from_file(path: Path) -> list[SchemaItem]:
    """The schema items of one file (either format)."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    stem = Path(path).name[:-5] if Path(path).name.endswith(".json") else Path(path).name
    if isinstance(doc, dict) and "schema" in doc:
        return [SchemaItem(id=stem, category=category_of(stem), schema=doc["schema"], tests=_tests_of(doc.get("tests")),
                           source=str(path))]
    if isinstance(doc, list):
        return [SchemaItem(id=f"{stem}#{i}", category=stem, schema=group["schema"], tests=_tests_of(group.get("tests")),
                           source=str(path))
                for i, group in enumerate(doc) if isinstance(group, dict) and "schema" in group]
    raise ValueError(f"{path}: neither a MaskBench file nor a JSON Schema Test Suite file")


def load_items(data: Path, *, sample: int | None = None, seed: int = 0, limit: int | None = None) -> list[SchemaItem]:
    """Items of a folder (sorted by file name) or of one file; then a seeded random ``sample``, then the first ``limit``.

    For one-schema-per-file folders (MaskBench) only the chosen files are read.
    """
    data = Path(data)
    if data.is_file():
        items = items_from_file(data)
        return _choose(items, sample, seed, limit)
    paths = sorted(p for p in data.iterdir() if p.is_file() and p.suffix == ".json")
    if not paths:
        raise FileNotFoundError(f"no .json files in {data}")
    first = json.loads(paths[0].read_text(encoding="utf-8"))
    if isinstance(first, dict):  # MaskBench: choose files first, read only those
        chosen = _choose(paths, sample, seed, limit)
        return [it for p in chosen for it in items_from_file(p)]
    items = [it for p in paths for it in items_from_file(p)]
    return _choose(items, sample, seed, limit)


def _choose(seq: list, sample: int | None, seed: int, limit: int | None) -> list:
    chosen = list(seq)
    if sample is not None and sample < len(chosen):
        picked = sorted(random.Random(seed).sample(range(len(chosen)), sample))
        chosen = [chosen[i] for i in picked]
    if limit is not None:
        chosen = chosen[:limit]
    return chosen
