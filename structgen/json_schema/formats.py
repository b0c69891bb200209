"""``format`` keyword: regular languages for the formats structgen enforces.

Each enforced format maps to one or more Python regexes (full-match, over *decoded* characters),
most preferred first. Every regex is a subset of what ``jsonschema``'s ``FormatChecker`` accepts
for that format (checked in ``tests/json_schema/test_formats.py`` by sampling), so outputs validate
whether or not format assertions are turned on:

- checked by ``jsonschema`` here: ``date`` (calendar-exact, leap years included), ``time`` and
  ``date-time`` (RFC 3339 as ``rfc3339-validator`` accepts it), ``email`` / ``idn-email``
  (RFC 5322-style addresses; ``jsonschema`` only requires an ``@``, which is the fallback),
  ``ipv4``, ``ipv6`` (RFC 4291 text forms), ``uuid``, ``json-pointer``, ``relative-json-pointer``,
  and sound subsets of ``idn-hostname`` and ``regex`` (see :mod:`~structgen.json_schema.regex_format`);
- not checked by ``jsonschema`` in this environment (so any string validates), enforced anyway as
  generation guidance: ``hostname``, ``uri``, ``uri-reference``, ``iri``, ``iri-reference``,
  ``duration``, ``uri-template``. When such a format cannot be combined with other constraints within the size
  budget it is dropped (with a warning) instead of failing — that stays sound.
- every other format name is an annotation (``jsonschema`` accepts any string): no constraint —
  unless ``jsonschema`` checks it in the running environment (an optional checker package is
  installed), which raises ``UnsupportedSchemaError`` instead of accepting any string.
"""
from __future__ import annotations

from .regex_format import REGEX_PLAIN, REGEX_SUBSET

_D = "[0-9]"
_YEAR = "(?:[0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)"
_MONTH_DAY = ("(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
              "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
              "|02-(?:0[1-9]|1[0-9]|2[0-8]))")
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
DATE = f"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
_HH = "(?:[01][0-9]|2[0-3])"
_MM = "[0-5][0-9]"
TIME = f"{_HH}:{_MM}:{_MM}(?:\\.[0-9]+)?(?:[Zz]|[+-]{_HH}:{_MM})"
DATE_TIME = f"{DATE}[Tt]{TIME}"

_ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL = f"{_ATEXT}+(?:\\.{_ATEXT}+)*@{_LABEL}(?:\\.{_LABEL})*"
EMAIL_LOOSE = ".*@.*"  # exactly jsonschema's check (contains '@'); DOTALL below
HOSTNAME = f"{_LABEL}(?:\\.{_LABEL})*"
IDN_HOSTNAME = "[A-Za-z0-9]{1,63}(?:\\.[A-Za-z0-9]{1,63}){0,2}"

_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
IPV4 = f"{_OCTET}(?:\\.{_OCTET}){{3}}"
_H16 = "[0-9a-fA-F]{1,4}"
_LS32 = f"(?:{_H16}:{_H16}|{IPV4})"
IPV6 = ("(?:"
        f"(?:{_H16}:){{6}}{_LS32}"
        f"|::(?:{_H16}:){{5}}{_LS32}"
        f"|(?:{_H16})?::(?:{_H16}:){{4}}{_LS32}"
        f"|(?:(?:{_H16}:){{0,1}}{_H16})?::(?:{_H16}:){{3}}{_LS32}"
        f"|(?:(?:{_H16}:){{0,2}}{_H16})?::(?:{_H16}:){{2}}{_LS32}"
        f"|(?:(?:{_H16}:){{0,3}}{_H16})?::{_H16}:{_LS32}"
        f"|(?:(?:{_H16}:){{0,4}}{_H16})?::{_LS32}"
        f"|(?:(?:{_H16}:){{0,5}}{_H16})?::{_H16}"
        f"|(?:(?:{_H16}:){{0,6}}{_H16})?::"
        ")")
_HEX = "[0-9a-fA-F]"
UUID = f"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"

_PCT = "%[0-9A-Fa-f]{2}"
_PCHAR = f"(?:[A-Za-z0-9\\-._~!$&'()*+,;=:@]|{_PCT})"
_PCHAR_NC = f"(?:[A-Za-z0-9\\-._~!$&'()*+,;=@]|{_PCT})"
_USERINFO = f"(?:[A-Za-z0-9\\-._~!$&'()*+,;=:]|{_PCT})*"
_REGNAME = f"(?:[A-Za-z0-9\\-._~!$&'()*+,;=]|{_PCT})*"
_AUTHORITY = f"(?:{_USERINFO}@)?{_REGNAME}(?::[0-9]*)?"
_PATH_ABEMPTY = f"(?:/{_PCHAR}*)*"
_PATH_ABSOLUTE = f"/(?:{_PCHAR}+(?:/{_PCHAR}*)*)?"
_PATH_ROOTLESS = f"{_PCHAR}+(?:/{_PCHAR}*)*"
_PATH_NOSCHEME = f"{_PCHAR_NC}+(?:/{_PCHAR}*)*"
_QUERY = f"(?:{_PCHAR}|[/?])*"
_SCHEME = "[A-Za-z][A-Za-z0-9+.\\-]*"
URI = (f"{_SCHEME}:(?://{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_PATH_ROOTLESS})?"
       f"(?:\\?{_QUERY})?(?:#{_QUERY})?")
_RELATIVE_REF = (f"(?://{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_PATH_NOSCHEME})?"
                 f"(?:\\?{_QUERY})?(?:#{_QUERY})?")
URI_REFERENCE = f"(?:{URI}|{_RELATIVE_REF})"

_DUR_TIME = "T(?:[0-9]+H(?:[0-9]+M(?:[0-9]+S)?)?|[0-9]+M(?:[0-9]+S)?|[0-9]+S)"
_DUR_DATE = f"(?:[0-9]+D|[0-9]+M(?:[0-9]+D)?|[0-9]+Y(?:[0-9]+M(?:[0-9]+D)?)?)(?:{_DUR_TIME})?"
DURATION = f"P(?:{_DUR_DATE}|{_DUR_TIME}|[0-9]+W)"

JSON_POINTER = "(?:/(?:[^~/]|~[01])*)*"
RELATIVE_JSON_POINTER = f"(?:0|[1-9][0-9]*)(?:#|{JSON_POINTER})"


#: format -> candidate regexes (preferred first), all full-match and compiled with re.DOTALL
#: RFC 6570 URI templates (a subset: ASCII literals, expressions of dotted ASCII variable names
#: with an optional operator, prefix or explode modifier)
_VARSPEC = r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*(?::[1-9][0-9]{0,3}|\*)?"
URI_TEMPLATE = (r"(?:[!#$&(-;=?-\[\]_a-z~]|%[0-9A-Fa-f]{2}"
                rf"|\{{[+#./;?&=,!@|]?{_VARSPEC}(?:,{_VARSPEC})*\}})*")

FORMAT_REGEXES: dict[str, tuple[str, ...]] = {
    "date": (DATE,),
    "time": (TIME,),
    "date-time": (DATE_TIME,),
    "email": (EMAIL, EMAIL_LOOSE),
    "idn-email": (EMAIL, EMAIL_LOOSE),
    "ipv4": (IPV4,),
    "ipv6": (IPV6,),
    "uuid": (UUID,),
    "hostname": (HOSTNAME,),
    "idn-hostname": (IDN_HOSTNAME,),
    "uri": (URI,),
    "iri": (URI,),
    "uri-reference": (URI_REFERENCE,),
    "iri-reference": (URI_REFERENCE,),
    "duration": (DURATION,),
    "uri-template": (URI_TEMPLATE,),
    "json-pointer": (JSON_POINTER,),
    "relative-json-pointer": (RELATIVE_JSON_POINTER,),
    "regex": (REGEX_SUBSET, REGEX_PLAIN),
}


#: formats whose checker in ``jsonschema`` accepts exactly the strings this ``re.search`` pattern
#: finds (checked by brute force and random strings in the tests), so ``not: {format: …}`` is
#: expressible exactly. ``date-time``/``time``: ``rfc3339-validator`` matches the upper-cased text
#: with ``$``, which also admits one trailing newline; ``ipv6``: ``ipaddress.IPv6Address`` without
#: a scope id.
EXACT_FORMAT_SEARCH: dict[str, str] = {
    "email": "@",
    "idn-email": "@",
    "date": rf"\A{DATE}\Z",
    "ipv4": rf"\A{IPV4}\Z",
    "ipv6": rf"\A{IPV6}\Z",
    "date-time": rf"\A{DATE_TIME}\n?\Z",
    "time": rf"\A{TIME}\n?\Z",
}

#: the ``jsonschema`` checker functions (by name) the regexes of the formats it checks were verified
#: against. A validator class whose checker is another function -- Draft 3's ``time`` is
#: ``strptime("%H:%M:%S")`` -- gets no regex: such a format raises instead.
VERIFIED_CHECKERS: dict[str, str] = {
    "date": "is_date", "time": "is_time", "date-time": "is_datetime", "email": "is_email",
    "idn-email": "is_email", "ipv4": "is_ipv4", "ipv6": "is_ipv6", "uuid": "is_uuid",
    "idn-hostname": "is_idn_host_name", "json-pointer": "is_json_pointer",
    "relative-json-pointer": "is_relative_json_pointer", "regex": "is_regex",
}


def checker_verified(name: str, format_checker) -> bool:
    """False when ``format_checker`` checks ``name`` with a function other than the one this
    module's languages for ``name`` were verified against (True for unchecked formats)."""
    entry = format_checker.checkers.get(name)
    want = VERIFIED_CHECKERS.get(name)
    return entry is None or want is None or getattr(entry[0], "__name__", None) == want


def format_regexes(name: str) -> tuple[str, ...]:
    """Candidate regexes for ``name`` (empty: not enforced, any string)."""
    return FORMAT_REGEXES.get(name, ())
