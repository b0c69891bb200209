"""The grammar library: ready-made Lark grammars shipped in the top-level ``grammars/`` folder.

``load(name)`` returns a grammar's Lark text (``names()`` lists them); pass the name straight to
:func:`structgen.compile_lark`. ``examples(name)`` returns the valid/invalid example sentences
kept beside each grammar in ``grammars/examples/<name>.json`` (every one is checked against lark's
own Earley parser and structgen's recognizer by the tests).

``word_regex_excluding`` builds the regex the library uses for identifiers that must not be
reserved keywords. A scannerless grammar has no lexer to reserve keywords, and regexes without
lookahead cannot say "any word except these"; the helper spells that regular language out as a
trie-shaped regex.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterable

from structgen.errors import GrammarError

__all__ = ["grammars_dir", "names", "path", "load", "examples", "word_regex_excluding"]


def grammars_dir() -> Path:
    """The folder holding the library's ``<name>.lark`` files (``<repo>/grammars``)."""
    return Path(__file__).resolve().parent.parent / "grammars"


def names() -> list[str]:
    """Names of the shipped grammars (file stems of ``grammars/*.lark``), sorted."""
    d = grammars_dir()
    if not d.is_dir():
        return []
    return sorted(p.stem for p in d.glob("*.lark"))


def path(name: str) -> Path:
    """Path of the library grammar ``name``; :class:`GrammarError` if there is no such grammar."""
    p = grammars_dir() / f"{name}.lark"
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", name or "") or not p.is_file():
        raise GrammarError(f"unknown library grammar {name!r} (available: {', '.join(names()) or 'none'})")
    return p


def load(name: str) -> str:
    """Lark text of the library grammar ``name`` (e.g. ``"json"``, ``"sql"``)."""
    return path(name).read_text(encoding="utf-8")


def examples(name: str) -> dict[str, list[str]]:
    """``{"valid": [...], "invalid": [...]}`` example sentences for the library grammar ``name``."""
    path(name)  # validates the name
    p = grammars_dir() / "examples" / f"{name}.json"
    if not p.is_file():
        return {"valid": [], "invalid": []}
    data = json.loads(p.read_text(encoding="utf-8"))
    return {"valid": list(data.get("valid", [])), "invalid": list(data.get("invalid", []))}


def word_regex_excluding(words: Iterable[str], *, first: str = "A-Za-z_", rest: str = "A-Za-z0-9_",
                         case_insensitive: bool = False) -> str:
    """A regex (no lookaround, no flags needed) for ``[first][rest]*`` minus the given ``words``.

    ``first`` / ``rest`` are character-class bodies made of ASCII letters, digits, ``_`` and
    ranges. With ``case_insensitive=True`` a word is excluded in every upper/lower-case spelling
    (``"select"`` also excludes ``SeLeCt``); the result still needs no ``i`` flag, so it does not
    pick up Python's Unicode case folding (``ſ``, ``K``).
    """
    first_set = _class_chars(first)
    rest_set = _class_chars(rest)
    fold = (lambda c: c.lower()) if case_insensitive else (lambda c: c)
    trie: dict = {}
    for w in words:
        if not w:
            continue
        node = trie
        for i, c in enumerate(w):
            allowed = first_set if i == 0 else rest_set
            if c not in allowed:
                break  # the word is not of the identifier shape: nothing to exclude
            node = node.setdefault(fold(c), {})
        else:
            node[""] = {}
    rest_class = _render_class(rest_set)

    def variants(c: str) -> set[str]:
        return {c.lower(), c.upper()} if case_insensitive else {c}

    def build(node: dict, allowed: set[str], at_root: bool) -> str:
        alts = []
        children = sorted(k for k in node if k)
        taken = set().union(*(variants(c) for c in children)) if children else set()
        other = allowed - taken
        if other:
            alts.append(_render_class(other) + rest_class + "*")
        for c in children:
            cls = _render_class(variants(c) & allowed)
            alts.append(cls + build(node[c], rest_set, False))
        if not at_root and "" not in node:
            # the empty branch goes last so that Python's leftmost-first matching (which lark's
            # scanner uses) finds the longest identifier, like the regular-language reading
            alts.append("")
        if len(alts) == 1:
            return alts[0]
        return "(?:" + "|".join(alts) + ")"

    return build(trie, first_set, True)


def _class_chars(body: str) -> set[str]:
    chars: set[str] = set()
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            lo, hi = body[i], body[i + 2]
            chars.update(chr(c) for c in range(ord(lo), ord(hi) + 1))
            i += 3
        else:
            chars.add(body[i])
            i += 1
    bad = {c for c in chars if not (c.isascii() and (c.isalnum() or c == "_"))}
    if bad:
        raise ValueError(f"character class {body!r} may only hold ASCII letters, digits and '_'")
    return chars


def _render_class(chars: set[str]) -> str:
    if len(chars) == 1:
        return next(iter(chars))
    codes = sorted(ord(c) for c in chars)
    parts = []
    start = prev = codes[0]
    for c in codes[1:] + [None]:
        if c is not None and c == prev + 1:
            prev = c
            continue
        if prev - start >= 2:
            parts.append(f"{chr(start)}-{chr(prev)}")
        else:
            parts.extend(chr(x) for x in range(start, prev + 1))
        if c is not None:
            start = prev = c
    return "[" + "".join(parts) + "]"
