"""Reading the bytes of a transaction safely: the limits, a YAML loader that refuses what could
change a value's meaning (duplicate keys, aliases, non-finite numbers, impossible dates), and JSON
read with its nesting checked before the parser sees it. `facts` validates what this reads."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

from .diagnostics import Diagnostic, ExportctlError
from .source import Span


@dataclass(frozen=True)
class Limits:
    """Ceilings on one input, gathered in one place (docs/formats.md#limits lists them).

    Generous for real transactions (a real one is a few kilobytes, nested under 15 levels),
    small enough that a hostile file is refused at once instead of exhausting the stack,
    memory or the CPU. Every limit that bites is a located E603."""

    file_bytes: int = 32 * 1024 * 1024       # a YAML or JSON file, or stdin that is not JSON Lines
    line_bytes: int = 1024 * 1024            # one line of JSON Lines
    depth: int = 64                          # mappings and lists nested in one document
    items: int = 10_000                      # items plus components (all levels) of one transaction
    int_digits: int = 30                     # digits of an integer
    string_chars: int = 10_000               # characters of one string (or mapping key)
    record_line_bytes: int = 16 * 1024 * 1024   # one line of a decision record file
    record_depth: int = 100                  # nesting of one decision record


LIMITS = Limits()


def _classes() -> tuple:
    """(InputError, Loader), defined on first use: they subclass PyYAML's, and a start that reads
    no YAML, or only YAML `quick_yaml` reads (plain transaction files), never imports yaml."""
    done = globals().get("_CLASSES")
    if done:
        return done
    import yaml

    class InputError(yaml.MarkedYAMLError):
        """A YAML value that parses but must not be accepted (alias, duplicate key, NaN, impossible
        date, too deep or too large), with its mark and diagnostic code. A YAMLError, so every reader
        of Loader (transactions, golden case files) reports it located."""

        def __init__(self, code: str, message: str, mark):
            super().__init__(problem=message, problem_mark=mark)
            self.code = code

    class Loader(yaml.SafeLoader):
        """SafeLoader without YAML 1.1 booleans (`NO` is Norway, not false) and hardened: no aliases,
        bounded nesting (so composing cannot blow the stack), no duplicate keys, no NaN/Infinity,
        no impossible dates, bounded integers and strings."""

        limits = LIMITS
        _depth = 0

        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                ev = self.peek_event()
                raise InputError("E608", f"YAML alias *{ev.anchor} is not accepted: aliases can expand without "
                                         "bound; write the value out", ev.start_mark)
            if not self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent):
                return super().compose_node(parent, index)
            self._depth += 1
            try:
                if self._depth > self.limits.depth:
                    raise InputError("E603", f"nested deeper than {self.limits.depth} levels", self.peek_event().start_mark)
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

        def construct_mapping(self, node, deep=False):
            if isinstance(node, yaml.MappingNode):
                seen: dict = {}
                for key_node, _ in node.value:
                    if isinstance(key_node, yaml.ScalarNode):
                        key = self.construct_object(key_node, deep=True)
                        try:
                            first = seen.get(key)
                        except TypeError:
                            continue
                        if first is not None:
                            raise InputError("E605", f"duplicate key {key!r} (first given on line {first}): "
                                                     "which one is meant?", key_node.start_mark)
                        seen[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep)

        def _float(self, node):
            import math

            value = yaml.SafeLoader.construct_yaml_float(self, node)
            if not math.isfinite(value):
                raise InputError("E604", f"{node.value!r} is not a finite number", node.start_mark)
            return value

        def _int(self, node):
            digits = sum(c.isdigit() for c in node.value)
            if digits > self.limits.int_digits:
                raise InputError("E603", f"integer of {digits} digits (at most {self.limits.int_digits})", node.start_mark)
            return yaml.SafeLoader.construct_yaml_int(self, node)

        def _timestamp(self, node):
            try:
                return yaml.SafeLoader.construct_yaml_timestamp(self, node)
            except (ValueError, OverflowError) as e:
                raise InputError("E606", f"{node.value!r} is not a date that exists ({e})", node.start_mark)

        def _str(self, node):
            if len(node.value) > self.limits.string_chars:
                raise InputError("E603", f"string of {len(node.value):,} characters (at most "
                                         f"{self.limits.string_chars:,})", node.start_mark)
            return yaml.SafeLoader.construct_yaml_str(self, node)

    Loader.yaml_implicit_resolvers = {
        k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
    }
    Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                  list("tTfF"))
    Loader.add_constructor("tag:yaml.org,2002:float", Loader._float)
    Loader.add_constructor("tag:yaml.org,2002:int", Loader._int)
    Loader.add_constructor("tag:yaml.org,2002:timestamp", Loader._timestamp)
    Loader.add_constructor("tag:yaml.org,2002:str", Loader._str)

    for cls in (InputError, Loader):
        cls.__qualname__ = cls.__name__      # picklable by name, through the module's __getattr__
    return globals().setdefault("_CLASSES", (InputError, Loader))    # two threads: the first wins


def __getattr__(name: str):
    if name in ("InputError", "Loader"):
        return _classes()[name == "Loader"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def yaml_load(text: str):
    """Safe YAML load (no Norway problem). Raises yaml.YAMLError."""
    import yaml

    return yaml.load(text, Loader=_classes()[1])  # noqa: S506 - Loader is a SafeLoader


def yaml_load_all(text: str):
    import yaml

    return list(yaml.load_all(text, Loader=_classes()[1]))  # noqa: S506 - Loader is a SafeLoader


def yaml_documents(text: str) -> list:
    """(node, data) of every document, composed once (the node gives the lines). Raises yaml.YAMLError."""
    loader = _classes()[1](text)
    try:
        out = []
        while loader.check_node():
            node = loader.get_node()
            out.append((node, loader.construct_document(node)))
        return out
    finally:
        loader.dispose()


def yaml_error(e, source: str, code: str = "E601") -> Diagnostic:
    """A located diagnostic for a YAML error (InputError keeps its own code)."""
    mark = getattr(e, "problem_mark", None)
    line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    problem = getattr(e, "problem", None) or str(e)
    if isinstance(e, _classes()[0]):
        return Diagnostic(e.code, problem, Span(source, line, col))
    return Diagnostic(code, f"invalid YAML: {problem}", Span(source, line, col))


_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def _offset_span(text: str, offset: int, source: str, line: int = 0) -> Span:
    """Span of a character offset in `text` (`line`: the line `text` starts on, for JSON Lines)."""
    ln = text.count("\n", 0, offset)
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Span(source, (line or 1) + ln, col)


def too_deep(text: str, limit: int) -> int | None:
    """Offset of the first bracket nested deeper than `limit`, found without recursing."""
    if text.count("[") + text.count("{") <= limit:
        return None
    depth = 0
    for m in _JSON_TOKENS.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > limit:
                return m.start()
        elif c in "]}":
            depth -= 1
    return None


class _JsonValueError(ValueError):
    def __init__(self, code: str, message: str, needle: str):
        super().__init__(message)
        self.code, self.message, self.needle = code, message, needle


def _pairs(pairs):
    d = dict(pairs)
    if len(d) != len(pairs):
        seen = set()
        for k, _ in pairs:
            if k in seen:
                raise _JsonValueError("E605", f"duplicate key {k!r}: which one is meant?",
                                      json.dumps(k, ensure_ascii=False))
            seen.add(k)
    return d


def _constant(name):
    raise _JsonValueError("E604", f"{name} is not a finite number", name)


def json_load(text: str, source: str, line: int = 0, depth: int | None = None):
    """json.loads that cannot blow the stack and refuses duplicate keys, NaN and Infinity and
    over-long integers: each a located ExportctlError. `line`: the line `text` starts on."""
    limit = LIMITS.depth if depth is None else depth
    off = too_deep(text, limit)
    if off is not None:
        raise ExportctlError(Diagnostic("E603", f"nested deeper than {limit} levels", _offset_span(text, off, source, line)))
    try:
        return json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant)
    except json.JSONDecodeError as e:
        raise ExportctlError(Diagnostic("E601", f"invalid JSON: {e.msg}",
                                        Span(source, (line or 1) + e.lineno - 1 if line else e.lineno, e.colno)))
    except _JsonValueError as e:
        pos = _find_token(text, e.needle, second=e.code == "E605")
        raise ExportctlError(Diagnostic(e.code, e.message, _offset_span(text, pos, source, line)))
    except (ValueError, RecursionError) as e:  # an integer beyond Python's own digit limit
        m = re.search(r"\d{%d,}" % (LIMITS.int_digits + 1), text)
        where = _offset_span(text, m.start() if m else 0, source, line)
        what = f"integer of {len(m.group()):,} digits (at most {LIMITS.int_digits})" if m else f"value out of range: {e}"
        raise ExportctlError(Diagnostic("E603", what, where))


def _find_token(text: str, needle: str, second: bool = False) -> int:
    """Offset of `needle` outside strings (a key: its second use), best effort; 0 if not found."""
    hits = [m.start() for m in re.finditer(re.escape(needle) + (r"\s*:" if second else ""), text)]
    if not hits:
        return 0
    return hits[1] if second and len(hits) > 1 else hits[0]


# ------------------------------------------------------------------ the plain YAML of transactions

class _NotPlain(Exception):
    """The text leaves the subset `quick_yaml` reads: PyYAML reads it instead."""


_SPECIAL = {"null": None, "Null": None, "NULL": None, "~": None,
            "true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(?: +(.*))?\Z")
_FLOW_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*): +")
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+\Z")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")
_SINGLE = re.compile(r"'((?:[^']|'')*)'")
_DOUBLE = re.compile(r'"([^"\\]*)"')
_FLOW_PLAIN = re.compile(r"[^,\[\]{}]*")
_NUMBERISH = None       # PyYAML's own float, int and timestamp patterns, compiled on first need
_INDICATORS = "-?:,[]{}#&*!|>'\"%@`<="
_MAX_DEPTH = 48         # deeper goes to PyYAML, whose loader words the limit (64)


def _numberish():
    """PyYAML's implicit float, int and timestamp resolvers (resolver.py, YAML 1.1), copied: a plain
    scalar starting with a digit, sign or dot that matches one of them but not the few forms
    `_scalar` builds itself goes to PyYAML."""
    global _NUMBERISH
    if _NUMBERISH is None:
        _NUMBERISH = re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
                    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
                    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN)
                    |[-+]?0b[0-1_]+
                    |[-+]?0[0-7_]+
                    |[-+]?(?:0|[1-9][0-9_]*)
                    |[-+]?0x[0-9a-fA-F_]+
                    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
                    |[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
                    |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
                     (?:[Tt]|[ \t]+)[0-9][0-9]?
                     :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
                     (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""", re.X)
    return _NUMBERISH


_NUMBER_CHARS = frozenset("0123456789_.:+-eE")


def _maybe_number(s: str) -> bool:
    """Whether PyYAML could resolve `s` as a float, int or timestamp. Its big pattern is compiled
    only for the text that could need it: every alternative but five is written with the
    characters of _NUMBER_CHARS alone, and those five need '.inf'/'.nan', '0x', '0b' or a date's
    '-' at [4] (an ECCN like 9A515.a needs none of them)."""
    if _NUMBER_CHARS.issuperset(s) or "0x" in s or "0b" in s or len(s) >= 8 and s[4] == "-":
        return _numberish().match(s) is not None
    return s.lstrip("+-") in (".inf", ".Inf", ".INF") or s in (".nan", ".NaN", ".NAN")


def _scalar(s: str):
    """A plain scalar's value as `Loader` resolves and builds it, or _NotPlain when unsure."""
    if s in _SPECIAL:
        return _SPECIAL[s]
    c = s[0]
    if c in "-+.0123456789":
        if _INT.match(s):
            if sum(ch.isdigit() for ch in s) > LIMITS.int_digits:
                raise _NotPlain
            return int(s)
        if _FLOAT.match(s):
            return float(s)
        m = _DATE.match(s)
        if m:
            try:
                return _dt_date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                raise _NotPlain     # PyYAML words it (E606)
        if _maybe_number(s) or c == "-" and (len(s) == 1 or s[1] == " "):
            raise _NotPlain
    elif c in _INDICATORS:
        raise _NotPlain
    if ": " in s or s.endswith(":") or "#" in s or len(s) > LIMITS.string_chars:
        raise _NotPlain
    return s


def _dt_date(y: int, m: int, d: int):
    import datetime

    return datetime.date(y, m, d)


def _quoted(s: str, line: int):
    """('scalar', line, text) of a whole single- or double-quoted scalar (no escapes), else _NotPlain."""
    m = (_SINGLE if s[0] == "'" else _DOUBLE).fullmatch(s)
    if not m:
        raise _NotPlain
    text = m[1].replace("''", "'") if s[0] == "'" else m[1]
    if len(text) > LIMITS.string_chars:
        raise _NotPlain
    return ("scalar", line, text)


def _inline(s: str, line: int, depth: int):
    """The node of a value written on one line after `key: ` or `- `."""
    c = s[0]
    if c == "[" or c == "{":
        node, end = _flow(s, 0, line, depth + 1)
        if end != len(s):
            raise _NotPlain
        return node
    if c == "'" or c == '"':
        return _quoted(s, line)
    return ("scalar", line, _scalar(s))


def _flow(s: str, p: int, line: int, depth: int):
    """A flow collection starting at s[p] ('[' or '{'), on one line: (node, offset after it)."""
    if depth > _MAX_DEPTH:
        raise _NotPlain
    close = "]" if s[p] == "[" else "}"
    items: list = []
    p += 1
    n, done = len(s), True
    while True:
        while p < n and s[p] == " ":
            p += 1
        if p >= n:
            raise _NotPlain
        if s[p] == close:
            if items and not done:     # "[a, ]": PyYAML's business
                raise _NotPlain
            return (("seq" if close == "]" else "map"), line, items), p + 1
        key = None
        if close == "}":
            m = _FLOW_KEY.match(s, p)
            if not m or m[1] in _SPECIAL or any(k == m[1] for k, _, _ in items):
                raise _NotPlain
            key, p = m[1], m.end()
        c = s[p] if p < n else ""
        if c == "[" or c == "{":
            value, p = _flow(s, p, line, depth + 1)
        elif c == "'" or c == '"':
            q = s.find(c, p + 1)
            if c == "'":
                while q != -1 and s.startswith("''", q):
                    q = s.find("'", q + 2)
            if q == -1:
                raise _NotPlain
            value, p = _quoted(s[p:q + 1], line), q + 1
        else:
            m = _FLOW_PLAIN.match(s, p)
            text = m[0].rstrip(" ")
            if not text or ":" in text or "?" in text:
                raise _NotPlain
            value, p = ("scalar", line, _scalar(text)), m.end()
        items.append((key, line, value) if key is not None else value)
        while p < n and s[p] == " ":
            p += 1
        done = True
        if p < n and s[p] == ",":
            p += 1
            done = False
        elif p >= n or s[p] != close:
            raise _NotPlain


def _block(lines: list, i: int, col: int, depth: int):
    """The block node whose first line is lines[i] (at column `col`): (node, next line)."""
    if depth > _MAX_DEPTH:
        raise _NotPlain
    text = lines[i][2]
    if text.startswith("- "):
        return _sequence(lines, i, col, depth)
    return _mapping(lines, i, col, depth)


def _sequence(lines: list, i: int, col: int, depth: int):
    first, items, n = lines[i][0], [], len(lines)
    while i < n and lines[i][1] == col and lines[i][2].startswith("- "):
        line, _, text = lines[i]
        rest = text[2:]
        inner = col + 2 + len(rest) - len(rest.lstrip(" "))
        rest = rest.lstrip(" ")
        if not rest or rest.startswith("-"):
            raise _NotPlain
        if _KEY.match(rest):
            lines[i] = (line, inner, rest)
            node, i = _mapping(lines, i, inner, depth + 1)
        else:
            node, i = _inline(rest, line, depth), i + 1
        if i < n and lines[i][1] > col:
            raise _NotPlain
        items.append(node)
    return ("seq", first, items), i


def _mapping(lines: list, i: int, col: int, depth: int):
    first, pairs, seen, n = lines[i][0], [], set(), len(lines)
    while i < n and lines[i][1] == col:
        line, _, text = lines[i]
        m = _KEY.match(text)
        if not m or m[1] in _SPECIAL or m[1] in seen:
            raise _NotPlain
        seen.add(m[1])
        rest = m[2]
        i += 1
        if rest:
            value = _inline(rest, line, depth)
        elif i < n and lines[i][1] > col:
            value, i = _block(lines, i, lines[i][1], depth + 1)
        elif i < n and lines[i][1] == col and lines[i][2].startswith("- "):
            value, i = _sequence(lines, i, col, depth + 1)
        else:
            value = ("scalar", line, None)
        if i < n and lines[i][1] > col:
            raise _NotPlain
        pairs.append((m[1], line, value))
    return ("map", first, pairs), i


def _printable(text: str) -> bool:
    """Only characters PyYAML's reader accepts, and no tab, carriage return or other line break
    than '\\n' (those are PyYAML's business): printable ASCII, or from U+00A0 on."""
    if text.isascii():
        return not any(c in text for c in "\t\r\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11"
                                          "\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f")
    for c in set(text):
        o = ord(c)
        if o < 0x20 and c != "\n" or 0x7F <= o < 0xA0 or o in (0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF) \
                or 0xD800 <= o < 0xE000:
            return False
    return True


def quick_yaml(text: str):
    """The one document of a plain transaction file, as (node, data), without importing PyYAML
    (its import and pure-Python composer are about a fifth of a cold start), or None when the text
    leaves the subset read here: block mappings with simple keys, block sequences, one-line flow
    collections, one-line plain and quoted scalars (no escapes), comment lines. None sends the
    text to `yaml_documents`, which reads everything else and words every error, so a file gives
    the same data, lines and messages either way (tests/test_cold_start.py compares them). Nodes
    are ('map', line, [(key, line, node)]), ('seq', line, [node]) and ('scalar', line, value),
    lines counted from 1."""
    if not _printable(text):
        return None
    lines = []
    for n, raw in enumerate(text.split("\n"), 1):
        s = raw.rstrip(" ")
        body = s.lstrip(" ")
        if not body or body[0] == "#":
            continue
        lines.append((n, len(s) - len(body), body))
    if lines and lines[0][1:] == (0, "---"):     # the document's start marker, alone on its line
        del lines[0]
    if not lines:
        return None
    try:
        node, i = _block(lines, 0, lines[0][1], 1)
    except (_NotPlain, RecursionError):
        return None
    if i != len(lines):
        return None
    return node, _data(node)


def _data(node):
    kind, _, value = node
    if kind == "scalar":
        return value
    if kind == "seq":
        return [_data(v) for v in value]
    return {k: _data(v) for k, _, v in value}
