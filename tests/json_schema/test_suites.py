"""Conformance on the JSON Schema Test Suite and MaskBench, plus random-walk soundness fuzzing.

The hard requirement everywhere: no invalid instance is ever accepted, and every random member of
a compiled grammar validates with ``jsonschema`` (format assertions on). Completeness numbers are
asserted as floors so regressions show up; the measured values are printed (``-s``).
"""
from __future__ import annotations

import glob
import json
import os
import random
import warnings

import pytest

from structgen._shared import shared_dir
from structgen.errors import InvalidSchemaError, UnsupportedSchemaError

from ..conftest import require_path
from .helpers import accepts, automaton, random_member, validator

JSTS = shared_dir() / "data" / "json-schema-test-suite" / "tests"
MASKBENCH = shared_dir() / "data" / "maskbench"

DRAFT_URI = {"draft7": "http://json-schema.org/draft-07/schema#"}


def _jsts_groups(draft: str):
    root = require_path(JSTS / draft, f"JSON Schema Test Suite {draft}")
    for f in sorted(glob.glob(str(root / "*.json"))):
        for gi, group in enumerate(json.load(open(f, encoding="utf-8"))):
            schema = group["schema"]
            if draft in DRAFT_URI and isinstance(schema, dict) and "$schema" not in schema:
                schema = dict(schema, **{"$schema": DRAFT_URI[draft]})
            yield f"{os.path.basename(f)}#{gi}", schema, group["tests"]


def run_jsts(draft: str):
    stats = {"groups": 0, "compiled": 0, "passing": 0, "unsupported": 0, "invalid_schema": 0,
             "false_accepts": [], "false_rejects": 0}
    automata = []
    for name, schema, tests in _jsts_groups(draft):
        stats["groups"] += 1
        try:
            aut = automaton(schema)
        except UnsupportedSchemaError:
            stats["unsupported"] += 1
            continue
        except InvalidSchemaError:
            stats["invalid_schema"] += 1
            continue
        stats["compiled"] += 1
        automata.append((name, schema, aut))
        ok = True
        for t in tests:
            got = accepts(aut, json.dumps(t["data"]))
            if got and not t["valid"]:
                stats["false_accepts"].append((name, t["description"]))
                ok = False
            elif not got and t["valid"]:
                stats["false_rejects"] += 1
                ok = False
        stats["passing"] += ok
    return stats, automata


@pytest.mark.parametrize("draft,floor", [("draft2020-12", 280), ("draft7", 215)])
def test_json_schema_test_suite(draft, floor):
    stats, _ = run_jsts(draft)
    print(f"\n{draft}: {stats['passing']}/{stats['groups']} groups fully passing, compiled {stats['compiled']}, "
          f"unsupported {stats['unsupported']}, invalid schemas {stats['invalid_schema']}, "
          f"false rejects {stats['false_rejects']}, false accepts {len(stats['false_accepts'])}")
    assert stats["false_accepts"] == []
    assert stats["passing"] >= floor


def test_json_schema_test_suite_random_members_validate():
    _, automata = run_jsts("draft2020-12")
    rng = random.Random(0)
    checked = 0
    for name, schema, aut in automata:
        v = validator(schema)
        for _ in range(3):
            s = random_member(aut, rng, max_len=80, tries=5)
            if s is None:
                continue
            checked += 1
            value = json.loads(s.decode("utf-8"))
            assert v.is_valid(value), (name, s)
    assert checked > 400


def _maskbench_sample(n: int, offset: int = 0):
    require_path(MASKBENCH, "MaskBench data")
    files = sorted(glob.glob(str(MASKBENCH / "*.json")))
    step = max(1, len(files) // n)
    return files[offset::step][:n]


def _any_order_accepts(schema, text: str) -> bool:
    """Whether ``text`` is accepted with ``property_order="any"`` (exact up to 12 listed
    properties per object; False when that does not compile)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            aut = automaton(schema, property_order="any")
    except (UnsupportedSchemaError, InvalidSchemaError):
        return False
    return accepts(aut, text)


def run_maskbench(files, fuzz: int = 0):
    """Compile each file's schema and check its instances. A rejected valid instance that the
    ``property_order="any"`` grammar accepts counts as ``valid_key_order``: MaskBench's instances
    keep their generator's key order where llguidance failed to compile the schema, and the
    default is the schema's order (see the README), so those rejections are by design."""
    st = {"files": 0, "compiled": 0, "valid": 0, "valid_ok": 0, "valid_key_order": 0, "invalid": 0,
          "invalid_accepted": [], "bad_members": []}
    rng = random.Random(1)
    for f in files:
        d = json.load(open(f, encoding="utf-8"))
        st["files"] += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                aut = automaton(d["schema"])
        except (UnsupportedSchemaError, InvalidSchemaError):
            continue
        st["compiled"] += 1
        for t in d["tests"]:
            text = json.dumps(t["data"], ensure_ascii=False)
            got = accepts(aut, text)
            if t["valid"]:
                st["valid"] += 1
                st["valid_ok"] += got
                if not got:
                    st["valid_key_order"] += _any_order_accepts(d["schema"], text)
            else:
                st["invalid"] += 1
                if got:
                    st["invalid_accepted"].append(os.path.basename(f))
        if fuzz:
            v = validator(d["schema"])
            for _ in range(fuzz):
                s = random_member(aut, rng, max_len=120, tries=4)
                if s is not None and not v.is_valid(json.loads(s.decode("utf-8"))):
                    st["bad_members"].append((os.path.basename(f), s[:200]))
    return st


def _report(st):
    print(f"\nMaskBench {st['files']} files: compiled {st['compiled']} ({100 * st['compiled'] / st['files']:.1f}%), "
          f"valid accepted {st['valid_ok']}/{st['valid']} (+{st['valid_key_order']} only in another key order), "
          f"invalid accepted {len(st['invalid_accepted'])}/{st['invalid']}")


def test_maskbench_sample():
    st = run_maskbench(_maskbench_sample(40, offset=3), fuzz=2)
    _report(st)
    assert st["invalid_accepted"] == []
    assert st["bad_members"] == []
    assert st["compiled"] >= 0.85 * st["files"]
    assert st["valid_ok"] >= 0.9 * st["valid"]


@pytest.mark.slow
@pytest.mark.parametrize("offset", [0, 7])
def test_maskbench_300(offset):
    st = run_maskbench(_maskbench_sample(300, offset=offset), fuzz=3)
    _report(st)
    assert st["invalid_accepted"] == []
    assert st["bad_members"] == []
    assert st["compiled"] >= 0.9 * st["files"]
    assert st["valid_ok"] >= 0.95 * st["valid"]
    assert st["valid_ok"] + st["valid_key_order"] >= 0.98 * st["valid"]
