"""xgrammar EBNF translations of the library's Lark grammars (``json``, ``sql``, ...), for cfg_masks.

xgrammar takes no Lark, so each grammar is translated mechanically from the grammar tree lark's own
loader builds (``lark.load_grammar.load_grammar``: rules and terminals with their EBNF operators
``? * + ~ [..]`` kept), which keeps the translation exact instead of hand-copied:

- every Lark rule -> ``r_<name> ::= ...`` and every terminal -> ``t_<NAME> ::= ...`` with the same
  structure (alternatives, sequences, ``?``, ``*``, ``+``, ``{m,n}``; aliases and ``?``/``_`` rule
  markers do not change the language and are dropped);
- a string literal -> an EBNF literal (``"x"i`` -> one ``[Xx]`` class per letter);
- a regex literal -> the rules xgrammar's own regex converter (``Grammar.from_regex``) produces;
- ``%ignore`` terminals -> ``ign ::= (T1 | T2 ...)*``, placed between adjacent items of every rule
  sequence, between iterations of repeated items, and around the start symbol (never inside
  terminals), so ignored text may appear between any two terminals.

xgrammar's EBNF is scannerless (a terminal is any string of its language, no lexer), which is also
structgen's reading of Lark, so both engines get the same language. (llguidance reads Lark with a
lexer; where that differs the benchmark's example checks show it.)

    python -m benchmarks.grammars_ebnf json     # print the EBNF
"""
from __future__ import annotations

import re
import sys
from typing import Iterable

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def ebnf_literal(text: str) -> str:
    """``text`` as an xgrammar EBNF string literal."""
    out = []
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _class_escape(ch: str) -> str:
    return "\\" + ch if ch in "[]\\^-" else ch


def literal_expr(text: str, case_insensitive: bool) -> str:
    """An EBNF expression for a string terminal (per-letter classes when case-insensitive)."""
    if not text:
        return '""'
    if not case_insensitive:
        return ebnf_literal(text)
    parts = []
    for ch in text:
        lo, up = ch.lower(), ch.upper()
        if lo != up and len(lo) == 1 and len(up) == 1:
            parts.append(f"[{_class_escape(up)}{_class_escape(lo)}]")
        else:
            parts.append(ebnf_literal(ch))
    return "(" + " ".join(parts) + ")"


def _rename_identifiers(body: str, rename) -> str:
    """Apply ``rename`` to rule identifiers in an EBNF body, leaving string literals and classes alone."""
    out = []
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c == '"' or c == "[":
            close = '"' if c == '"' else "]"
            j = i + 1
            while j < n and body[j] != close:
                j += 2 if body[j] == "\\" else 1
            out.append(body[i:j + 1])
            i = j + 1
            continue
        m = _IDENT.match(body, i)
        if m:
            out.append(rename(m.group(0)))
            i = m.end()
            continue
        out.append(c)
        i += 1
    return "".join(out)


def regex_rules(pattern: str, name: str) -> list[str]:
    """EBNF rules for a regex terminal via xgrammar's converter; the entry rule is called ``name``."""
    import xgrammar as xgr

    # raw control characters (lark keeps "\t" etc. decoded) must be escapes in xgrammar's output
    pattern = re.sub(r"[\x00-\x1f\x7f]", lambda m: {"\n": r"\n", "\t": r"\t", "\r": r"\r"}.get(
        m.group(0), f"\\x{ord(m.group(0)):02x}"), pattern)
    text = str(xgr.Grammar.from_regex(pattern))
    rename = lambda ident: name + ident[len("root"):] if re.fullmatch(r"root(_[0-9]+)*", ident) else ident  # noqa: E731
    lines = []
    for line in text.strip().splitlines():
        head, sep, body = line.partition("::=")
        if not sep:
            continue
        lines.append(f"{rename(head.strip())} ::= {_rename_identifiers(body.strip(), rename)}")
    return lines


class _Translator:
    """Lark grammar tree (``lark.load_grammar``: EBNF operators kept) -> xgrammar EBNF rules."""

    def __init__(self, ignore: list[str]):
        self.ignore = bool(ignore)
        self.extra: list[str] = []
        self._fresh = 0

    def fresh(self, base: str) -> str:
        self._fresh += 1
        return f"{base}_x{self._fresh}"

    def tx(self, node, in_rule: bool, owner: str) -> str:
        from lark import Tree
        from lark.grammar import NonTerminal, Terminal

        if isinstance(node, NonTerminal):
            return f"r_{_safe(node.name)}"
        if isinstance(node, Terminal):
            return f"t_{_safe(node.name)}"
        if not isinstance(node, Tree):
            raise ValueError(f"unexpected grammar node {node!r}")
        kind, kids = node.data, node.children
        if kind == "expansions":
            alts = [self.tx(k, in_rule, owner) for k in kids]
            return alts[0] if len(alts) == 1 else "(" + " | ".join(alts) + ")"
        if kind == "expansion":
            items = [self.tx(k, in_rule, owner) for k in kids]
            if not items:
                return '""'
            glue = " ign " if (self.ignore and in_rule) else " "
            return "(" + glue.join(items) + ")"
        if kind in ("alias", "value"):
            return self.tx(kids[0], in_rule, owner)
        if kind == "maybe":
            return "(" + self.tx(kids[0], in_rule, owner) + ")?"
        if kind == "literal":
            return self.literal(kids[0], owner)
        if kind == "range":
            lo, hi = (self._string_value(k) for k in kids)
            return f"[{_class_escape(lo)}-{_class_escape(hi)}]"
        if kind == "expr":
            item = self.tx(kids[0], in_rule, owner)
            op = str(kids[1])
            sep = self.ignore and in_rule
            if op == "?":
                return f"({item})?"
            if op == "*":
                return f"({item} (ign {item})*)?" if sep else f"({item})*"
            if op == "+":
                return f"({item} (ign {item})*)" if sep else f"({item})+"
            if op == "~":
                lo = int(kids[2])
                hi = int(kids[3]) if len(kids) > 3 else lo
                if not sep:
                    return f"({item}){{{lo},{hi}}}"
                if hi == 0:
                    return '""'
                rest = f"(ign {item}){{{max(lo - 1, 0)},{hi - 1}}}"
                return f"({item} {rest})" if lo > 0 else f"({item} {rest})?"
            raise ValueError(f"unsupported operator {op!r}")
        raise ValueError(f"unsupported Lark construct {kind!r} (templates are not translated)")

    @staticmethod
    def _string_value(token) -> str:
        from lark.load_grammar import _literal_to_pattern

        return _literal_to_pattern(token).value

    def literal(self, token, owner: str) -> str:
        from lark.load_grammar import _literal_to_pattern

        pattern = _literal_to_pattern(token)
        flags = set(pattern.flags or ())
        if type(pattern).__name__ == "PatternStr":
            return literal_expr(pattern.value, "i" in flags)
        regex = pattern.value
        if flags:
            regex = f"(?{''.join(sorted(flags))}:{regex})"
        name = self.fresh(owner)
        self.extra.extend(regex_rules(regex, name))
        return name


_CLASS_PLUS = re.compile(r"^\[([^\[\]\\]+)\]\+$")


def _ignore_expr(grammar, ignore: list[str]) -> str:
    """``(T1 | T2 ...)*``; for a single ignored terminal ``/[chars]+/`` the same language as ``[chars]*``
    (xgrammar handles a character-class star much faster than a starred rule)."""
    if len(ignore) == 1:
        defs = {name: tree for name, (tree, _prio) in grammar.term_defs}
        tree = defs.get(ignore[0])
        try:
            token = tree.children[0].children[0].children[0].children[0]  # expansions/expansion/value/literal
        except (AttributeError, IndexError):
            token = None
        if token is not None and getattr(token, "type", "") == "REGEXP":
            from lark.load_grammar import _literal_to_pattern

            pattern = _literal_to_pattern(token)
            m = _CLASS_PLUS.match(pattern.value)
            if m and not pattern.flags and len(tree.children) == 1 and len(tree.children[0].children) == 1:
                body = "".join({"\t": "\\t", "\n": "\\n", "\r": "\\r"}.get(c, c) for c in m.group(1))
                return f"[{body}]*"
    return "(" + " | ".join(f"t_{_safe(t)}" for t in ignore) + ")*"


def lark_to_ebnf(text: str, start: str = "start") -> str:
    """Translate Lark grammar text to xgrammar EBNF with root rule ``root`` (see module docstring)."""
    from lark.load_grammar import load_grammar

    grammar, _ = load_grammar(text, "<grammar>", None, False)
    ignore = list(grammar.ignore)
    tr = _Translator(ignore)
    lines = [f"root ::= {'ign ' if ignore else ''}r_{_safe(start)}{' ign' if ignore else ''}"]
    if ignore:
        lines.append(f"ign ::= {_ignore_expr(grammar, ignore)}")
    for name, params, tree, _options in grammar.rule_defs:
        if params:
            raise ValueError(f"rule {name!r}: Lark templates are not translated")
        lines.append(f"r_{_safe(name)} ::= {tr.tx(tree, True, 'r_' + _safe(name))}")
    for name, (tree, _priority) in grammar.term_defs:
        lines.append(f"t_{_safe(name)} ::= {tr.tx(tree, False, 't_' + _safe(name))}")
    return "\n".join(lines + tr.extra) + "\n"


def library_ebnf(name: str) -> str:
    """EBNF for the library grammar ``name`` (``structgen.grammars.load(name)``)."""
    from structgen.grammars import load

    return lark_to_ebnf(load(name))


def main(argv: Iterable[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    for name in args or ["json"]:
        print(library_ebnf(name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
