"""Transactions in: read YAML or JSON keeping line numbers, validate, apply schema defaults.

A key that is absent stays absent (unknown to the evaluator); nothing is guessed here.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import yaml
from jsonschema import Draft202012Validator

from .diagnostics import Diagnostic, ExportctlError
from .source import Span


class _Loader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1 booleans: `NO` is Norway, not false."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


def yaml_load(text: str):
    """Safe YAML load (no Norway problem). Raises yaml.YAMLError."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader


def yaml_load_all(text: str):
    return list(yaml.load_all(text, Loader=_Loader))  # noqa: S506 - _Loader is a SafeLoader


@dataclass
class Transaction:
    """Validated facts of one transaction, with where each fact came from."""

    data: dict
    source: str
    lines: dict = field(default_factory=dict)  # json path -> line
    digest: str = ""

    @property
    def id(self) -> str:
        return str(self.data.get("id", "?"))

    @property
    def date(self) -> _dt.date:
        return _dt.date.fromisoformat(self.data["date"])


def schema_dir() -> Path:
    from .policyset import policies_root

    return policies_root() / "schema"


@lru_cache(maxsize=None)
def schema(name: str = "transaction", folder: str | None = None) -> dict:
    """A JSON Schema by name: from `folder` (a policy set's own schema/) or the bundled one."""
    base = Path(folder) if folder else schema_dir()
    return json.loads((base / f"{name}.schema.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def _validator(name: str = "transaction", folder: str | None = None) -> Draft202012Validator:
    return Draft202012Validator(schema(name, folder), format_checker=Draft202012Validator.FORMAT_CHECKER)


def json_path(parts) -> str:
    """['items', 0, 'classification'] -> 'items[0].classification'."""
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _normalise(value):
    """Dates that YAML parsed become ISO strings; everything else unchanged."""
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()[:10]
    return value


def _yaml_lines(node, path=(), out=None, offset=0) -> dict:
    out = {} if out is None else out
    out[json_path(path)] = node.start_mark.line + 1 + offset
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            out[json_path(path + (k.value,))] = k.start_mark.line + 1 + offset
            _yaml_lines(v, path + (k.value,), out, offset)
            out[json_path(path + (k.value,))] = k.start_mark.line + 1 + offset
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _yaml_lines(v, path + (i,), out, offset)
    return out


def validate(data, source: str, lines: dict | None = None, schema_name: str = "transaction",
             folder: str | None = None) -> list[Diagnostic]:
    """Every schema violation as a diagnostic with its JSON path and, when known, its line."""
    lines = lines or {}
    diags = []
    errors = sorted(_validator(schema_name, folder).iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    for err in errors:
        path = json_path(err.absolute_path)
        message = _explain(err)
        parts = list(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            if extra:
                parts = parts + [extra[0]]
        line = _line_for(lines, parts)
        where = path or "(top level)"
        diags.append(Diagnostic("E602", f"{where}: {message}", Span(source, line, 1) if line else Span(source, 0, 0)))
    return diags


def _line_for(lines: dict, parts: list) -> int:
    while True:
        p = json_path(parts)
        if p in lines:
            return lines[p]
        if not parts:
            return lines.get("", 0)
        parts = parts[:-1]


def _explain(err) -> str:
    """jsonschema's message, made actionable for the common cases."""
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        allowed = ", ".join(sorted(err.schema.get("properties", {})))
        return f"unknown key {', '.join(repr(x) for x in extra)} (allowed here: {allowed})"
    if err.validator == "enum":
        return f"{err.instance!r} is not one of {', '.join(map(str, err.validator_value))}"
    if err.validator == "required":
        return err.message.replace("is a required property", "is required")
    if err.validator == "pattern":
        desc = err.schema.get("description", "")
        return f"{err.instance!r} is not in the expected form" + (f" ({desc})" if desc else "")
    return err.message


def _apply_defaults(data: dict) -> dict:
    data.setdefault("kind", "export")
    data.setdefault("currency", "USD")

    def item(it):
        if isinstance(it, dict):
            it.setdefault("type", "commodity")
            for c in it.get("components") or []:
                item(c)

    for it in data.get("items") or []:
        item(it)
    return data


def digest_of(data) -> str:
    import hashlib

    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def from_data(data, source: str = "<data>", lines: dict | None = None, folder: str | None = None) -> Transaction:
    """Validate one transaction given as Python data. Raises ExportctlError (E602)."""
    data = _normalise(data)
    if not isinstance(data, dict):
        raise ExportctlError(Diagnostic("E602", f"a transaction is a mapping, not {type(data).__name__}",
                                        Span(source, 1, 1)))
    diags = validate(data, source, lines, folder=folder)
    if diags:
        raise ExportctlError(diags)
    digest = digest_of(data)
    return Transaction(_apply_defaults(data), source, lines or {}, digest)


@dataclass
class Record:
    """One input record of a stream: a transaction, or the error that replaced it."""

    source: str
    transaction: Transaction | None = None
    error: ExportctlError | None = None
    pending: tuple | None = None   # read but not yet validated: (data, lines, source, line, folder)

    def validated(self) -> "Record":
        """This record with its transaction validated (worker processes do this in parallel)."""
        if self.pending is None:
            return self
        return _record(*self.pending[:1], self.source, *self.pending[1:])


def read_text(text: str, source: str, folder: str | None = None, defer: bool = False) -> Iterator[Record]:
    """The transactions in one text: JSON Lines (.jsonl), a JSON document, or YAML documents."""
    if source.endswith(".jsonl") or source.endswith(".ndjson"):
        yield from read_lines(text.splitlines(), source, folder, defer)
        return
    stripped = text.lstrip()
    if source.endswith(".json") or stripped.startswith("{") or stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            if source.endswith(".json"):
                yield Record(source, error=ExportctlError(Diagnostic("E601", f"invalid JSON: {e.msg}", Span(source, e.lineno, e.colno))))
                return
        else:
            for i, d in enumerate(data if isinstance(data, list) else [data]):
                yield _record(d, source if not isinstance(data, list) else f"{source}[{i}]", {}, source, 0, folder, defer)
            return
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
        docs = yaml_load_all(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = getattr(e, "problem", None) or str(e)
        yield Record(source, error=ExportctlError(Diagnostic("E601", f"invalid YAML: {problem}", Span(source, line, col))))
        return
    docs = [(n, d) for n, d in zip(nodes, docs) if d is not None]
    if not docs:
        yield Record(source, error=ExportctlError(Diagnostic("E601", "no transaction in the file", Span(source, 1, 1))))
    for i, (node, data) in enumerate(docs):
        where = source if len(docs) == 1 else f"{source}#{i + 1}"
        yield _record(data, where, _yaml_lines(node), source, 0, folder, defer)


def read_lines(lines, source: str, folder: str | None = None, defer: bool = False) -> Iterator[Record]:
    """JSON Lines, one record per line, streamed: memory does not grow with the input."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{source}:{n}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as e:
            yield Record(where, error=ExportctlError(Diagnostic("E601", f"invalid JSON: {e.msg}", Span(source, n, e.colno))))
            continue
        yield _record(data, where, {"": n}, source, n, folder, defer)


def _record(data, where: str, lines: dict, source: str, line: int, folder: str | None = None,
            defer: bool = False) -> Record:
    if defer:
        return Record(where, pending=(data, lines, source, line, folder))
    try:
        tx = from_data(data, source, lines, folder)
        tx.source = where
        return Record(where, transaction=tx)
    except ExportctlError as e:
        if line:
            e.diagnostics = [Diagnostic(d.code, d.message, Span(source, line, 1), d.severity, d.hint)
                             for d in e.diagnostics]
        return Record(where, error=e)


def read_path(path: str, folder: str | None = None, stdin=None, defer: bool = False) -> Iterator[Record]:
    """Read a file, `-` (stdin) or a folder (its .yaml/.yml/.json/.jsonl files, sorted by name)."""
    import sys

    if path == "-":
        stream = stdin or sys.stdin
        first = stream.readline()
        if first.lstrip().startswith("{") and first.rstrip().endswith("}"):
            # JSON Lines on stdin: stream it
            yield from read_lines(_chain([first], stream), "<stdin>.jsonl", folder, defer)
        else:
            yield from read_text(first + stream.read(), "<stdin>", folder, defer)
        return
    p = Path(path)
    if p.is_dir():
        for f in sorted(x for x in p.rglob("*") if x.suffix in {".yaml", ".yml", ".json", ".jsonl"} and x.is_file()):
            yield from read_path(str(f), folder, defer=defer)
        return
    if p.suffix in (".jsonl", ".ndjson") and p.is_file():
        try:
            with p.open(encoding="utf-8") as fh:
                yield from read_lines(fh, path, folder, defer)
        except (OSError, UnicodeDecodeError) as e:
            yield Record(path, error=ExportctlError(Diagnostic("E601", f"cannot read {path}: {e}", Span(path, 0, 0))))
        return
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        yield Record(path, error=ExportctlError(Diagnostic("E601", f"cannot read {path}: {reason}", Span(path, 0, 0))))
        return
    yield from read_text(text, path, folder, defer)


def _chain(first, rest):
    yield from first
    yield from rest
