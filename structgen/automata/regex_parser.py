"""Parse a Python regex with ``re``'s own parser into a small AST of code point sets.

The AST (:class:`Chars`, :class:`Concat`, :class:`Union`, :class:`Repeat`) has all flags resolved:
every single-character atom becomes the exact set of code points ``re`` would match there
(IGNORECASE, DOTALL, ASCII included). Anchors that are no-ops under full-match semantics are
dropped; every construct that cannot be compiled exactly raises :class:`RegexError` with the
construct's name and position.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from structgen.automata import charset as cs
from structgen.errors import RegexError

try:  # Python 3.11+
    import re._compiler as _sre_compile
    import re._constants as _c
    import re._parser as _sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_compile as _sre_compile  # type: ignore
    import sre_constants as _c  # type: ignore
    import sre_parse as _sre_parse  # type: ignore

MAXREPEAT = _c.MAXREPEAT
_TYPE_FLAGS = re.ASCII | re.LOCALE | re.UNICODE
_CHAR_FLAGS = re.IGNORECASE | re.DOTALL | re.ASCII | re.UNICODE  # flags that affect atoms
_KNOWN_FLAGS = (re.IGNORECASE | re.LOCALE | re.MULTILINE | re.DOTALL | re.UNICODE | re.VERBOSE
                | re.ASCII)
_POSSESSIVE = getattr(_c, "POSSESSIVE_REPEAT", None)
_ATOMIC = getattr(_c, "ATOMIC_GROUP", None)


# --------------------------------------------------------------------------- AST
class RNode:
    __slots__ = ()


@dataclass(frozen=True)
class Chars(RNode):
    """One character from a code point set (normalized ranges)."""
    ranges: cs.Ranges


@dataclass(frozen=True)
class Concat(RNode):
    items: tuple[RNode, ...]


@dataclass(frozen=True)
class Union(RNode):
    items: tuple[RNode, ...]


@dataclass(frozen=True)
class Repeat(RNode):
    item: RNode
    min: int
    max: int | None  # None = unbounded


EMPTY = Concat(())


# --------------------------------------------------------------------------- atoms → code point sets
def _freeze(av):
    if isinstance(av, list):
        return tuple(_freeze(x) for x in av)
    if isinstance(av, tuple):
        return tuple(_freeze(x) for x in av)
    return av


@functools.lru_cache(maxsize=8192)
def _atom_ranges(op, av, flags: int) -> cs.Ranges:
    """Exact code point set matched by one ``re`` single-character atom under ``flags``."""
    ascii_only = bool(flags & re.ASCII)
    if op is _c.LITERAL:
        base = ((av, av),)
    elif op is _c.NOT_LITERAL:
        base = cs.complement(((av, av),))
    elif op is _c.ANY:
        base = cs.ALL_CODE_POINTS if flags & re.DOTALL else cs.complement(((10, 10),))
    elif op is _c.IN:
        negate = False
        parts = []
        for iop, iav in av:
            if iop is _c.NEGATE:
                negate = True
            elif iop is _c.LITERAL:
                parts.append(((iav, iav),))
            elif iop is _c.RANGE:
                parts.append(((iav[0], iav[1]),))
            elif iop is _c.CATEGORY:
                parts.append(cs.category_ranges(str(iav), ascii_only))
            else:
                raise RegexError(f"unsupported character class item {iop}", construct=str(iop))
        base = cs.union(*parts)
        if negate:
            base = cs.complement(base)
    else:  # pragma: no cover - callers only pass atoms
        raise AssertionError(op)
    if flags & re.IGNORECASE and op is not _c.ANY:
        base = _apply_ignorecase(op, av, flags, base)
    return base


def _apply_ignorecase(op, av, flags: int, base: cs.Ranges) -> cs.Ranges:
    """Resolve case-insensitive matching with ``re`` itself on the case-sensitive code points."""
    sub = _sre_parse.SubPattern(_sre_parse.State(), [(op, list(av) if op is _c.IN else av)])
    sub.state.flags = flags
    pat = _sre_compile.compile(sub, 0)
    text = cs.case_sensitive_code_points()
    sensitive = cs.from_code_points(map(ord, text))
    matched = cs.from_code_points(ord(text[m.start()]) for m in pat.finditer(text))
    return cs.union(cs.difference(base, sensitive), matched)


# --------------------------------------------------------------------------- source positions
_WHITESPACE = " \t\n\r\v\f"
_OCTDIGITS = "01234567"


def _scan_constructs(pattern: str, verbose: bool) -> list[tuple[str, int]]:
    """Find, in source order, the positions of constructs relevant to error reporting:
    anchors (``^ $ \\A \\Z \\b \\B``), backreferences, lookarounds, atomic/conditional groups,
    possessive quantifiers. Only used to locate errors; ``re``'s parser decides what they are."""
    out: list[tuple[str, int]] = []
    n = len(pattern)
    stack = [verbose]
    i = 0
    while i < n:
        ch = pattern[i]
        verb = stack[-1]
        if verb and ch in _WHITESPACE:
            i += 1
            continue
        if verb and ch == "#":
            j = pattern.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if ch == "\\":
            nx = pattern[i + 1:i + 2]
            if nx in ("A", "Z", "b", "B"):
                out.append(("\\" + nx, i))
            elif nx and nx in "123456789":
                if (nx in _OCTDIGITS and pattern[i + 2:i + 3] and pattern[i + 2] in _OCTDIGITS
                        and pattern[i + 3:i + 4] and pattern[i + 3] in _OCTDIGITS):
                    i += 4
                    continue
                out.append(("backreference", i))
            i += 2
            continue
        if ch == "[":
            j = i + 1
            if pattern[j:j + 1] == "^":
                j += 1
            if pattern[j:j + 1] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            i = j + 1
            continue
        if ch == "(":
            if pattern.startswith("(?#", i):
                j = pattern.find(")", i)
                i = n if j < 0 else j + 1
                continue
            if pattern.startswith("(?", i):
                rest = pattern[i + 2:i + 4]
                kind = None
                if rest.startswith("="):
                    kind = "lookahead"
                elif rest.startswith("!"):
                    kind = "negative lookahead"
                elif rest.startswith("<="):
                    kind = "lookbehind"
                elif rest.startswith("<!"):
                    kind = "negative lookbehind"
                elif rest.startswith(">"):
                    kind = "atomic group"
                elif rest.startswith("("):
                    kind = "conditional group"
                elif rest.startswith("P="):
                    kind = "backreference"
                if kind is not None:
                    out.append((kind, i))
                    if kind == "backreference":
                        j = pattern.find(")", i)
                        i = n if j < 0 else j + 1
                        continue
                    stack.append(verb)
                    i += 2
                    continue
                # flags: (?aiLmsux-imsx:...) or (?aiLmsux)
                j = i + 2
                while j < n and pattern[j] in "aiLmsux-":
                    j += 1
                flags_txt = pattern[i + 2:j]
                if j < n and pattern[j] == ":":
                    on, _, off = flags_txt.partition("-")
                    v = (verb or "x" in on) and "x" not in off
                    stack.append(v)
                    i = j + 1
                    continue
                if j < n and pattern[j] == ")" and flags_txt:
                    i = j + 1
                    continue
                stack.append(verb)  # (?: (?P<name> ...
                i += 2
                continue
            stack.append(verb)
            i += 1
            continue
        if ch == ")":
            if len(stack) > 1:
                stack.pop()
            i += 1
            continue
        if ch in "*+?" or (ch == "{" and re.match(r"\{\d*(,\d*)?\}", pattern[i:])):
            qstart = i
            if ch == "{":
                i += re.match(r"\{\d*(,\d*)?\}", pattern[i:]).end()
            else:
                i += 1
            if pattern[i:i + 1] == "+":
                out.append(("possessive quantifier", qstart))
                i += 1
            elif pattern[i:i + 1] == "?":
                i += 1
            continue
        if ch in "^$":
            out.append((ch, i))
        i += 1
    return out


# --------------------------------------------------------------------------- conversion
_AT_KIND = {
    _c.AT_BEGINNING: ("^", "start"), _c.AT_BEGINNING_LINE: ("^", "start"),
    _c.AT_BEGINNING_STRING: ("\\A", "start"),
    _c.AT_END: ("$", "end"), _c.AT_END_LINE: ("$", "end"), _c.AT_END_STRING: ("\\Z", "end"),
    _c.AT_BOUNDARY: ("\\b", None), _c.AT_NON_BOUNDARY: ("\\B", None),
}
_AT_NAME = {"^": "'^' anchor", "$": "'$' anchor", "\\A": "'\\A' anchor", "\\Z": "'\\Z' anchor",
            "\\b": "word boundary '\\b'", "\\B": "non-word-boundary '\\B'"}
_ANCHOR_KINDS = ("^", "$", "\\A", "\\Z", "\\b", "\\B")


def _combine_flags(flags: int, add: int, remove: int) -> int:
    if add & _TYPE_FLAGS:
        flags &= ~_TYPE_FLAGS
    return (flags | add) & ~remove


def _is_zero_width(op, av) -> bool:
    if op is _c.AT:
        return True
    if op is _c.SUBPATTERN:
        return all(_is_zero_width(o, a) for o, a in av[-1].data)
    if op is _c.BRANCH:
        return all(all(_is_zero_width(o, a) for o, a in b.data) for b in av[1])
    return False


class _Converter:
    def __init__(self, pattern: str, verbose: bool):
        self.pattern = pattern
        self.verbose = verbose
        self._scan: list[tuple[str, int]] | None = None
        self.anchor_count = 0  # AT nodes seen so far (tree order)

    def _positions(self, kind: str) -> list[int]:
        if self._scan is None:
            self._scan = _scan_constructs(self.pattern, self.verbose)
        return [p for k, p in self._scan if k == kind]

    def fail(self, construct: str, kind: str, message: str, nth: int = 0):
        positions = self._positions(kind)
        pos = positions[nth] if nth < len(positions) else (positions[0] if positions else None)
        raise RegexError(message, self.pattern, pos, construct)

    def fail_anchor(self, kind: str, message: str):
        # the i-th AT node in tree order corresponds to the i-th anchor token in source order
        scan = self._positions_any(_ANCHOR_KINDS)
        idx = self.anchor_count
        pos = None
        if idx < len(scan) and scan[idx][0] == kind:
            pos = scan[idx][1]
        else:
            same = [p for k, p in scan if k == kind]
            pos = same[0] if same else None
        raise RegexError(message, self.pattern, pos, _AT_NAME[kind])

    def _positions_any(self, kinds) -> list[tuple[str, int]]:
        if self._scan is None:
            self._scan = _scan_constructs(self.pattern, self.verbose)
        return [(k, p) for k, p in self._scan if k in kinds]

    def seq(self, items, flags: int, at_start: bool, at_end: bool) -> RNode:
        n = len(items)
        zero = [_is_zero_width(op, av) for op, av in items]
        prefix_zero = [True] * (n + 1)
        for i in range(n):
            prefix_zero[i + 1] = prefix_zero[i] and zero[i]
        suffix_zero = [True] * (n + 1)
        for i in range(n - 1, -1, -1):
            suffix_zero[i] = suffix_zero[i + 1] and zero[i]
        out: list[RNode] = []
        for i, (op, av) in enumerate(items):
            node = self.item(op, av, flags, at_start and prefix_zero[i], at_end and suffix_zero[i + 1])
            if node is None:
                continue
            if isinstance(node, Concat):
                out.extend(node.items)
            else:
                out.append(node)
        if len(out) == 1:
            return out[0]
        return Concat(tuple(out))

    def item(self, op, av, flags: int, at_start: bool, at_end: bool) -> RNode | None:
        if op in (_c.LITERAL, _c.NOT_LITERAL, _c.ANY, _c.IN):
            key = _freeze(av) if op is _c.IN else av
            try:
                return Chars(_atom_ranges(op, key, flags & _CHAR_FLAGS))
            except RegexError as e:
                raise RegexError(str(e.args[0]) if e.args else "unsupported class item",
                                 self.pattern, None, e.construct) from None
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            lo, hi, sub = av
            bounded_once = hi != MAXREPEAT and hi <= 1
            body = self.seq(sub.data, flags, at_start and bounded_once, at_end and bounded_once)
            return Repeat(body, int(lo), None if hi == MAXREPEAT else int(hi))
        if op is _c.SUBPATTERN:
            _group, add, remove, sub = av
            return self.seq(sub.data, _combine_flags(flags, add, remove), at_start, at_end)
        if op is _c.BRANCH:
            branches = [self.seq(b.data, flags, at_start, at_end) for b in av[1]]
            return Union(tuple(branches))
        if op is _c.AT:
            kind, where = _AT_KIND.get(av, (None, None))
            if kind is None:
                raise RegexError(f"unsupported anchor {av}", self.pattern, None, str(av))
            if where is None:
                self.fail_anchor(kind, f"{_AT_NAME[kind]} is not supported (no exact regular equivalent)")
            if where == "start" and not at_start:
                self.fail_anchor(kind, f"{_AT_NAME[kind]} is only supported at the start of the pattern")
            if where == "end" and not at_end:
                self.fail_anchor(kind, f"{_AT_NAME[kind]} is only supported at the end of the pattern")
            self.anchor_count += 1
            return None
        if op is _c.GROUPREF:
            self.fail("backreference", "backreference", "backreferences are not supported")
        if op is _c.GROUPREF_EXISTS:
            self.fail("conditional group", "conditional group", "conditional groups are not supported")
        if op in (_c.ASSERT, _c.ASSERT_NOT):
            direction = av[0]
            kind = ("lookahead" if direction == 1 else "lookbehind")
            if op is _c.ASSERT_NOT:
                kind = "negative " + kind
            self.fail(kind, kind, f"{kind} assertions are not supported")
        if _POSSESSIVE is not None and op is _POSSESSIVE:
            self.fail("possessive quantifier", "possessive quantifier",
                      "possessive quantifiers are not supported")
        if _ATOMIC is not None and op is _ATOMIC:
            self.fail("atomic group", "atomic group", "atomic groups are not supported")
        raise RegexError(f"unsupported regex construct {op}", self.pattern, None, str(op))


def _re_error_to_regex_error(pattern: str, err: re.error) -> RegexError:
    msg = getattr(err, "msg", None) or str(err)
    return RegexError(f"invalid regex: {msg}", pattern, getattr(err, "pos", None), "syntax")


@functools.lru_cache(maxsize=1024)
def parse_regex(pattern: str, flags: int = 0) -> RNode:
    """Parse ``pattern`` (``re`` syntax, ``str``) into the flag-resolved AST.

    Raises :class:`RegexError` for invalid syntax (``re``'s message and position) and for
    constructs without an exact regular equivalent.
    """
    if not isinstance(pattern, str):
        raise RegexError(f"pattern must be str, not {type(pattern).__name__}", None, None, "type")
    flags = int(flags) & ~re.DEBUG
    if flags & ~_KNOWN_FLAGS:
        raise RegexError(f"unsupported regex flags {flags & ~_KNOWN_FLAGS:#x} (e.g. re.TEMPLATE)",
                         pattern, None, "flags")
    try:
        # re's own parser: syntax errors and flag checks exactly as re.compile reports them
        # (re's compile step adds only errors for lookbehinds, which are rejected anyway)
        tree = _sre_parse.parse(pattern, flags)
    except re.error as e:
        raise _re_error_to_regex_error(pattern, e) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as e:
        raise RegexError(f"invalid regex: {e}", pattern, None, "syntax") from None
    global_flags = tree.state.flags
    conv = _Converter(pattern, bool(global_flags & re.VERBOSE))
    return conv.seq(tree.data, global_flags, True, True)
