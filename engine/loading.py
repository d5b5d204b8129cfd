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
    no YAML (JSON input, or a transaction file read before: facts keeps it) never imports yaml."""
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
