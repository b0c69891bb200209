"""Strings: escape encoding, code-point lengths, patterns on decoded text, formats."""
from __future__ import annotations

import json
import random
import re

import pytest

from structgen.errors import UnsupportedSchemaError
from structgen.json_schema import charsets as cs
from structgen.json_schema import encoding as E

from .helpers import accepts, assert_sound, automaton, validator


def _spellings(c: str) -> list[str]:
    cp = ord(c)
    out = []
    if cs.contains(E.RAW, cp):
        out.append(c)
    if cp in E.SHORT_ESCAPES:
        out.append("\\" + E.SHORT_ESCAPES[cp])
    if cp < 0x10000:
        out += ["\\u%04x" % cp, "\\u%04X" % cp]
    else:
        h, lo = 0xD800 + ((cp - 0x10000) >> 10), 0xDC00 + ((cp - 0x10000) & 0x3FF)
        out += ["\\u%04x\\u%04x" % (h, lo), "\\u%04X\\u%04X" % (h, lo)]
    return out


SETS = [cs.UNIVERSE, cs.normalize([(0x41, 0x5A)]), cs.normalize([(0, 0x20)]), cs.complement(cs.of_chars('abc"/')),
        cs.normalize([(0x1F600, 0x1F64F), (0x10000, 0x10010), (0xE000, 0xFFFF)]), cs.of_chars('/\\"\n')]


@pytest.mark.parametrize("idx", range(len(SETS)))
def test_encode_set_is_exact_over_all_spellings(idx):
    S = SETS[idx]
    rx = re.compile(E.encode_set_regex(S))
    rng = random.Random(idx)
    for _ in range(3000):
        r = rng.random()
        cp = (rng.randint(0, 0x7F) if r < 0.4 else rng.randint(0, 0xFFFF) if r < 0.7
              else rng.randint(0x10000, 0x10FFFF) if r < 0.9
              else rng.choice([0x41, 0x5A, 0x1F600, 0x1F64F, 0x10010, 0xE000, 0xFFFF, 0x22, 0x2F]))
        if 0xD800 <= cp <= 0xDFFF:
            continue
        for sp in _spellings(chr(cp)):
            assert json.loads('"' + sp + '"') == chr(cp)
            assert (rx.fullmatch(sp) is not None) == cs.contains(S, cp), (hex(cp), sp)
    assert not rx.fullmatch("\\ud800") and not rx.fullmatch("\\uDFFF")  # no lone surrogates


def test_lengths_count_decoded_code_points():
    schema = {"type": "string", "minLength": 2, "maxLength": 2}
    a = automaton(schema)
    v = validator(schema)
    cases = ['"ab"', '"a\\n"', '"\\u0041\\u0042"', '"a😀"', '"a\\ud83d\\ude00"', '"a"', '"abc"', '"\\ud83d\\ude00"']
    for c in cases:
        assert accepts(a, c) == v.is_valid(json.loads(c)), c
    # lone surrogate escapes are never produced for counted strings
    assert not accepts(a, '"a\\ud800"')


def test_large_max_length_is_chunked():
    schema = {"type": "string", "maxLength": 5000, "minLength": 1000}
    a = automaton(schema)
    # ~100k states without chunking: 1024 inline copies, then a tail of 256-copy chunks
    assert a.n_states < 40000
    assert accepts(a, '"' + "x" * 1000 + '"') and accepts(a, '"' + "é" * 5000 + '"')
    assert not accepts(a, '"' + "x" * 999 + '"') and not accepts(a, '"' + "x" * 5001 + '"')
    # around the end of the inline part and of chunks, and the last chunk written inline
    for n in (1023, 1024, 1025, 1279, 1280, 1281, 1536, 4700, 4743, 4744, 4745, 4999):
        assert accepts(a, '"' + "é" * (n % 7) + "x" * (n - n % 7) + '"'), n


@pytest.mark.parametrize("pattern", [r"^[a-z]+$", r"^\d{3}-\d{4}$", r"ab", r"^(foo|bar)$", r"x$", r"^\S+@\S+$",
                                     r"(?i)^hello", r"^[^\"]*$", r"\n"])
def test_patterns_exact_on_decoded_text(pattern):
    schema = {"type": "string", "pattern": pattern}
    a = automaton(schema)
    rng = random.Random(0)
    alphabet = ['a', 'b', 'x', 'z', 'f', 'o', 'r', '1', '2', '-', '@', ' ', '"', '\n', 'H', 'é', '\\u0061', '\\n', '\\"']
    for _ in range(600):
        body = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        text = '"' + body + '"'
        try:
            decoded = json.loads(text)
        except json.JSONDecodeError:
            assert not accepts(a, text), text
            continue
        strict = pattern.replace("$", r"\Z")  # "$" = end of string (ECMA reading; sound for re)
        assert accepts(a, text) == (re.search(strict, decoded) is not None), (pattern, text)


def test_pattern_and_length_intersect():
    schema = {"type": "string", "pattern": "^[a-c]+$", "maxLength": 3, "minLength": 2}
    a = automaton(schema)
    for s, ok in [("ab", True), ("abc", True), ("a", False), ("abca", False), ("ad", False)]:
        assert accepts(a, json.dumps(s)) == ok, s
    assert_sound(schema, n=20)


def test_negated_pattern_and_excluded_strings():
    schema = {"type": "string", "not": {"pattern": "^a"}, "maxLength": 3}
    a = automaton(schema)
    assert accepts(a, '"ba"') and not accepts(a, '"ab"') and not accepts(a, '"\\u0061b"')
    schema = {"type": "string", "not": {"enum": ["x", "yy"]}}
    a = automaton(schema)
    assert accepts(a, '"xy"') and accepts(a, '""') and not accepts(a, '"x"') and not accepts(a, '"\\u0078"')


def test_unsupported_pattern_names_keyword_and_pointer():
    with pytest.raises(UnsupportedSchemaError) as ei:
        automaton({"properties": {"a": {"type": "string", "pattern": "(x)(?=y)\\1"}}})
    assert ei.value.keyword == "pattern"
    assert ei.value.pointer == "/properties/a/pattern"


FORMAT_EXAMPLES = {
    "date": (["2024-02-29", "2000-02-29", "1999-12-31"], ["2023-02-29", "1900-02-29", "2021-13-01", "0000-01-01", "2021-1-01"]),
    "date-time": (["2021-06-01T12:30:00Z", "2021-06-01t12:30:00.123+05:30"], ["2021-06-01 12:30:00Z", "2021-06-01T24:00:00Z"]),
    "time": (["23:59:59Z", "00:00:00.5-01:00"], ["24:00:00Z", "12:00:00"]),
    "email": (["a.b@example.com", "x@y"], ["no-at-sign"]),
    "ipv4": (["127.0.0.1", "255.255.255.255"], ["256.1.1.1", "01.2.3.4", "1.2.3"]),
    "ipv6": (["::1", "2001:db8::8a2e:370:7334", "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8"], ["1:2:3:4:5:6:7:8:9", "12345::", ":::"]),
    "uuid": (["123e4567-e89b-12d3-a456-426614174000"], ["123e4567e89b12d3a456426614174000"]),
    "uri": (["https://example.com/a?b=c#d", "urn:isbn:0451450523"], ["//no-scheme", "http://exa mple.com"]),
    "json-pointer": (["", "/a/b~0c~1d"], ["a", "/a~2"]),
    "hostname": (["example.com", "a-b.c"], ["-ab.com", "a..b"]),
    "duration": (["P1Y2M3DT4H5M6S", "PT5M", "P2W"], ["P", "PT", "P1D2Y"]),
}


@pytest.mark.parametrize("fmt", sorted(FORMAT_EXAMPLES))
def test_formats(fmt):
    schema = {"type": "string", "format": fmt}
    a = automaton(schema)
    good, bad = FORMAT_EXAMPLES[fmt]
    for s in good:
        assert accepts(a, json.dumps(s)), (fmt, s)
    for s in bad:
        assert not accepts(a, json.dumps(s)), (fmt, s)
    # random members pass jsonschema's FormatChecker (where it checks this format)
    assert_sound(schema, n=25, seed=1)


def test_unknown_format_is_annotation():
    a = automaton({"type": "string", "format": "int32"})
    assert accepts(a, '"anything"')


def test_format_with_length_combination():
    schema = {"type": "string", "format": "date", "maxLength": 10}
    a = automaton(schema)
    assert accepts(a, '"2020-01-01"')
    schema = {"type": "string", "format": "email", "maxLength": 12}
    a = automaton(schema)
    assert accepts(a, '"ab@cd.ef"') and not accepts(a, '"abcdef@ghijkl.mn"')
    assert_sound(schema, n=20)


def test_counted_classes_with_large_utf8_structure_are_chunked_not_inlined():
    """``\\w`` spelled in JSON has hundreds of DFA states per character: 253 inline copies made a
    200k-state automaton. Past ``INLINE_MAX_STATES`` the count goes to √-sized chunk rules; the
    language is unchanged."""
    from structgen.cfg.compiler import compile_grammar_automaton
    from structgen.json_schema import irtools
    from structgen.json_schema.api import schema_to_ir
    from .helpers import accepts

    schema = {"type": "string", "pattern": "^([\\w/-]|[\\w-][\\w/-]*[\\w-])$", "maxLength": 255}
    aut = compile_grammar_automaton(schema_to_ir(schema))
    assert aut.n_states < 60_000
    assert accepts(aut, '"taco"') and accepts(aut, '"a/b-c"') and accepts(aut, '"' + "é" * 255 + '"')
    assert not accepts(aut, '"a b"') and not accepts(aut, '"-/"') and not accepts(aut, '"' + "x" * 256 + '"')
    assert irtools.terminal_states(irtools.ir.Literal("abc")) == 4


def test_uri_template_is_enforced_as_guidance():
    aut = automaton({"type": "string", "format": "uri-template"})
    for text, ok in [("http://x/{+path}/here{?q,lang}", True), ("/users/{id:3}{/rest*}", True),
                     ("http://example.com/resource/{", False), ("a b", False), ("{}", False)]:
        assert accepts(aut, json.dumps(text)) is ok, text


def test_a_format_jsonschema_checks_without_a_language_here_is_refused():
    """An optional checker package can make jsonschema check a format structgen has no language
    for; accepting any string would then be unsound, so it raises."""
    import jsonschema

    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    checker.checks("x-even-length")(lambda s: not isinstance(s, str) or len(s) % 2 == 0)
    try:
        with pytest.raises(UnsupportedSchemaError, match="x-even-length") as e:
            automaton({"type": "string", "format": "x-even-length"})
        assert e.value.keyword == "format"
    finally:
        del checker.checkers["x-even-length"]
    automaton({"type": "string", "format": "x-even-length"})  # an annotation again


def _format_probe_texts(rng) -> dict[str, list[str]]:
    """Strings near each exactly-checked format's language: valid ones, and mutations of them."""
    import ipaddress

    dates = [f"{y:04d}-{m:02d}-{d:02d}" for y in (0, 1, 1900, 2000, 2023, 2024, 9999)
             for m in (0, 1, 2, 12, 13) for d in (0, 1, 28, 29, 30, 31, 32)]
    ips = [".".join(str(rng.choice([rng.randint(0, 300), rng.randint(0, 9)])) for _ in range(rng.choice([3, 4, 4, 5])))
           for _ in range(300)] + ["01.2.3.4", "1.2.3.4", "255.255.255.255", "1.2.3.4 "]
    pieces = ["::", ":", "0", "1", "ffff", "FFFF", "12345", "abcd", "g", "", "1.2.3.4", "01.2.3.4", "%eth0", "%", "."]
    v6 = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 10))) for _ in range(1500)]
    for _ in range(1500):
        a = ipaddress.IPv6Address(rng.getrandbits(128) if rng.random() < .5
                                  else rng.getrandbits(16) << rng.choice([0, 16, 64, 112]))
        t = rng.choice([a.compressed, a.exploded, a.compressed.upper()])
        if rng.random() < .3:
            t = t.rsplit(":", 2)[0] + ":" + ".".join(str(rng.randint(0, 255)) for _ in range(4))
        if rng.random() < .5:
            i = rng.randrange(len(t) + 1)
            t = t[:i] + rng.choice([":", "::", "0", "", ".", "1", "\n", " "]) + t[i + rng.randint(0, 2):]
        v6.append(t)
    times = [f"{rng.choice([0, 9, 23, 24]):02d}:{rng.choice([0, 59, 60]):02d}:{rng.choice([0, 59, 60]):02d}"
             + rng.choice(["", ".5", ".", ".123"]) + rng.choice(["Z", "z", "+01:00", "-23:59", "+24:00", "", "Zz"])
             + rng.choice(["", "", "\n", "\n\n", " "]) for _ in range(3000)]
    date_times = [rng.choice(dates) + rng.choice(["T", "t", " ", "Tt"]) + t for t in times]
    other = ["a@b", "@", "ab", "", "é@x"]
    return {"email": dates[:20] + other, "date": dates + ips[:20] + other, "ipv4": ips + dates[:20] + other,
            "ipv6": v6 + ips[:50] + other, "time": times + other, "date-time": date_times + other}


def test_negated_checked_formats_with_exact_languages():
    """``not: {format: …}`` for formats whose jsonschema checker is an exact regular language
    (email, date, ipv4, ipv6, time, date-time): the search pattern agrees with the checker on
    strings near each language, and the compiled negation accepts iff valid, other types never."""
    import random

    from jsonschema import Draft202012Validator

    from structgen.json_schema.formats import EXACT_FORMAT_SEARCH

    checker = Draft202012Validator.FORMAT_CHECKER
    texts = _format_probe_texts(random.Random(3))
    assert set(texts) <= set(EXACT_FORMAT_SEARCH)
    for fmt, probes in texts.items():
        n_valid = 0
        for s in probes:  # the regex is exactly the checker
            ok = checker.conforms(s, fmt)
            n_valid += ok
            assert (re.search(EXACT_FORMAT_SEARCH[fmt], s) is not None) == ok, (fmt, s)
        assert 0 < n_valid < len(probes), fmt  # the probes straddle the language's border
        schema = {"not": {"format": fmt}}
        a = automaton(schema)
        v = validator(schema)
        for s in probes[::23] + [p for p in probes if checker.conforms(p, fmt)][:40]:
            assert accepts(a, json.dumps(s)) == v.is_valid(s), (fmt, s)
        for t in ["3", "null", "[]"]:
            assert not accepts(a, t)
    with pytest.raises(UnsupportedSchemaError):
        automaton({"not": {"format": "uuid"}})  # the uuid checker accepts more than its regex


def test_formats_need_the_checker_they_were_verified_against():
    """A validator whose checker for a format is another function than the one structgen's
    language was verified against (Draft 3's strptime ``time``) gets no language for it."""
    from jsonschema import Draft3Validator, Draft202012Validator

    from structgen.json_schema.formats import checker_verified

    assert checker_verified("time", Draft202012Validator.FORMAT_CHECKER)
    assert not checker_verified("time", Draft3Validator.FORMAT_CHECKER)
    assert checker_verified("x-unknown", Draft3Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("schema,instances", [
    ({"type": "string", "not": {"pattern": "^a$"}}, ["a\n", "a", "b\n", "ab"]),
    ({"type": "string", "not": {"pattern": "^[0-9a-z_-]{1,255}$"}}, ["ab\n", "ab", "a b", "\n"]),
    ({"type": "object", "patternProperties": {"^a$": {"type": "integer"}}}, [{"a\n": "s"}, {"a\n": 1}, {"a": "s"}, {"b": "s"}]),
    ({"type": "object", "patternProperties": {"^a$": {"type": "integer"}}, "additionalProperties": {"type": "string"}},
     [{"a\n": "s"}, {"a\n": 1}, {"a": 1}, {"b": "s"}]),
    ({"oneOf": [{"type": "string", "pattern": "^a$"}, {"type": "string", "pattern": "\n$"}]}, ["a\n", "a", "b\n"]),
])
def test_negated_patterns_read_dollar_as_python_does(schema, instances):
    """``jsonschema``'s ``re.search`` lets ``$`` match before a final newline: where a pattern must
    *not* match (``not``, keys outside ``patternProperties``, the other ``oneOf`` branch), "a\\n"
    counts as matching ``^a$``. Positive uses keep the strict reading, so such strings are just
    never generated."""
    a = automaton(schema, property_order="any")
    v = validator(schema)
    for x in instances:
        text = json.dumps(x)
        assert v.is_valid(x) or not accepts(a, text), f"accepted invalid {text}"
        if not text.endswith('\\n"') and '\\n"' not in text:
            assert accepts(a, text) == v.is_valid(x), text


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("fmt,length,members", [
    ("uri", 255, ["https://www.example.com/hamlet.jpg", "http://localhost:8080/api/v1/users?id=12&x=y#frag"]),
    ("uri-reference", 255, ["/path/to/resource.json", "https://github.com/org/repo"]),
    ("hostname", 253, ["api.example-service.com"]),
])
def test_format_with_max_length_keeps_ordinary_members(fmt, length, members):
    """A format whose exact intersection with a maximum length is too large is a subset; a common
    repetition cap left only a few characters per URI segment (``https://www.example.com/x.jpg``
    was refused under maxLength 255), so short exact members are used instead."""
    schema = {"type": "string", "format": fmt, "maxLength": length}
    a = automaton(schema)
    for m in members:
        assert accepts(a, json.dumps(m)), m
    assert assert_sound(schema, n=30) > 0
