"""Transactions in: read YAML or JSON keeping line numbers, validate, apply schema defaults.

A key that is absent stays absent (unknown to the evaluator); nothing is guessed here.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
from math import isfinite
from pathlib import Path
from collections.abc import Iterator

from .diagnostics import Diagnostic, ExportctlError, json_path
from .source import Span


from .loading import (  # noqa: F401 - reading lives in loading; these are used here and re-exported
    Limits, LIMITS, yaml_load, yaml_load_all, yaml_documents, yaml_error, too_deep, json_load, quick_yaml,
)


def __getattr__(name: str):
    """`facts.InputError` and `facts.Loader` (loading's), built when first asked for: they need yaml."""
    if name in ("InputError", "Loader"):
        from . import loading

        return getattr(loading, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check_values(data, source: str, lines: dict | None = None, limits: Limits = LIMITS) -> list[Diagnostic]:
    """Limits and meaning of every value, walked without recursion (so Python data handed to the
    API cannot blow the stack either): depth, item count, integer and string size, finite numbers.
    Data within every limit (nearly every record) is passed by `_within_limits`, which keeps no
    paths; `_value_problems` locates the problems of the rest."""
    if _within_limits(data, limits):
        return []
    return _value_problems(data, source, lines, limits)


def _value_problems(data, source: str, lines: dict | None, limits: Limits) -> list[Diagnostic]:
    """`check_values`, walked with the path of every value: at most five problems, located."""
    lines = lines or {}
    diags: list[Diagnostic] = []
    items = 0
    stack = [(data, (), 1, None)]
    while stack and len(diags) < 5:
        value, path, depth, key = stack.pop()
        problem = None
        if isinstance(value, (dict, list)):
            if depth > limits.depth:
                problem = ("E603", f"nested deeper than {limits.depth} levels")
            elif isinstance(value, dict):
                for k, v in value.items():
                    if isinstance(k, str) and len(k) > limits.string_chars:
                        problem = ("E603", f"key of {len(k):,} characters (at most {limits.string_chars:,})")
                        break
                    stack.append((v, path + (k,), depth + 1, k))
            else:
                if key in ("items", "components"):
                    items += len(value)
                    if items > limits.items:
                        problem = ("E603", f"more than {limits.items:,} items and components")
                stack.extend((v, path + (i,), depth + 1, None) for i, v in enumerate(value))
        elif isinstance(value, bool) or value is None:
            pass
        elif isinstance(value, int):
            if abs(value) >= 10 ** limits.int_digits:
                problem = ("E603", f"integer of more than {limits.int_digits} digits")
        elif isinstance(value, float):
            if not isfinite(value):
                problem = ("E604", f"{value!r} is not a finite number")
        elif isinstance(value, str) and len(value) > limits.string_chars:
            problem = ("E603", f"string of {len(value):,} characters (at most {limits.string_chars:,})")
        if problem:
            where = json_path(path) or "(top level)"
            line = _line_for(lines, list(path))
            diags.append(Diagnostic(problem[0], f"{where}: {problem[1]}", Span(source, line, 1) if line else Span(source, 0, 0)))
            if problem[0] == "E603":
                break
    return diags


def _within_limits(data, limits: Limits) -> bool:
    """Whether `check_values` finds nothing: the same tests on every value, in one walk that
    builds no path (the batch path's commonest case). Plain strings, numbers, booleans and null
    are tested where they lie; anything else is pushed and tested as `check_values` tests it."""
    max_depth, chars, cap, big = limits.depth, limits.string_chars, limits.items, 10 ** limits.int_digits
    items = 0
    stack = [(data, 1, None)]
    pop, push = stack.pop, stack.append
    while stack:
        value, depth, key = pop()
        if isinstance(value, dict):
            if depth > max_depth:
                return False
            pairs = value.items()
        elif isinstance(value, list):
            if depth > max_depth:
                return False
            if key in ("items", "components"):
                items += len(value)
                if items > cap:
                    return False
            pairs = zip(repeat(None), value)       # an element has no key
        else:
            if isinstance(value, bool) or value is None:
                pass
            elif isinstance(value, int):
                if abs(value) >= big:
                    return False
            elif isinstance(value, float):
                if not isfinite(value):
                    return False
            elif isinstance(value, str) and len(value) > chars:
                return False
            continue
        depth += 1
        for k, v in pairs:
            if isinstance(k, str) and len(k) > chars:
                return False
            t = type(v)
            if t is str:
                if len(v) > chars:
                    return False
            elif t is int:
                if abs(v) >= big:
                    return False
            elif t is float:
                if not isfinite(v):
                    return False
            elif v is not None and t is not bool:
                push((v, depth, k))
    return True


# ---------------------------------------------------------------- country codes

from .countries import (  # noqa: E402,F401 - the country codes live in countries; used here and re-exported
    COMMON_CONFUSIONS, COUNTRY_SHAPE, country_fields, country_problem,
)


def check_countries(data, source: str, lines: dict | None = None, folder: str | None = None) -> list[Diagnostic]:
    """E607 for every country field whose code does not exist (the schema checks only its shape)."""
    lines = lines or {}
    diags = []
    for path, code in country_fields(data, schema("transaction", folder)):
        if not COUNTRY_SHAPE.match(code):
            continue  # the schema reports the shape (E602)
        problem = country_problem(code)
        if problem:
            line = _line_for(lines, list(path))
            diags.append(Diagnostic("E607", f"{json_path(path)}: {problem}",
                                    Span(source, line, 1) if line else Span(source, 0, 0)))
    return diags




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
    from .locations import policies_root

    return policies_root() / "schema"


@lru_cache(maxsize=None)
def schema(name: str = "transaction", folder: str | None = None) -> dict:
    """A JSON Schema by name: from `folder` (a policy set's own schema/) or the bundled one."""
    base = Path(folder) if folder else schema_dir()
    return json.loads((base / f"{name}.schema.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def _validator(name: str = "transaction", folder: str | None = None):
    """jsonschema's validator, imported only when a record needs its words (import costs ~70 ms)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema(name, folder), format_checker=Draft202012Validator.FORMAT_CHECKER)


def normalise(value):
    """Dates that YAML parsed become ISO strings; everything else unchanged."""
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()[:10]
    return value


def yaml_lines(node, path=(), out=None, offset=0) -> dict:
    import yaml

    out = {} if out is None else out
    out[json_path(path)] = node.start_mark.line + 1 + offset
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            out[json_path(path + (k.value,))] = k.start_mark.line + 1 + offset
            yaml_lines(v, path + (k.value,), out, offset)
            out[json_path(path + (k.value,))] = k.start_mark.line + 1 + offset
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            yaml_lines(v, path + (i,), out, offset)
    return out


def quick_lines(node, path=(), out=None) -> dict:
    """`yaml_lines` of a node of `loading.quick_yaml`: the same paths, lines and order."""
    out = {} if out is None else out
    kind, line, value = node
    out[json_path(path)] = line
    if kind == "map":
        for k, kline, v in value:
            quick_lines(v, path + (k,), out)        # (its first entry is the key's own place)
            out[json_path(path + (k,))] = kline     # the key's line, not its value's
    elif kind == "seq":
        for i, v in enumerate(value):
            quick_lines(v, path + (i,), out)
    return out


@lru_cache(maxsize=None)
def _fast_validator(name: str = "transaction", folder: str | None = None):
    """A compiled validator's `is_valid` (jsonschema-rs, else fastjsonschema), or None when
    neither is installed (the `fast` extra). Only a yes/no: a record it rejects is validated
    again by jsonschema, which words the errors, so messages never depend on it."""
    try:
        import jsonschema_rs
    except ImportError:
        jsonschema_rs = None
    if jsonschema_rs is not None:
        try:
            return jsonschema_rs.validator_for(schema(name, folder), validate_formats=True).is_valid
        except Exception:  # a schema it cannot compile: the plain path only
            return None
    try:
        import copy

        import fastjsonschema
    except ImportError:
        return None
    try:
        # fastjsonschema rewrites the schema it is given: hand it a copy
        check = fastjsonschema.compile(copy.deepcopy(schema(name, folder)))
    except Exception:
        return None

    def is_valid(data) -> bool:
        try:
            check(data)
            return True
        except Exception:
            return False

    return is_valid


class _Known:
    """The cache of valid inputs for one schema: `hit(digest)`, or `remember(digest)`."""

    def __init__(self, key: str, entries: list):
        self.key, self.entries = key, entries

    def hit(self, digest: str) -> bool:
        return digest in self.entries

    def remember(self, digest: str) -> None:
        from . import policy_cache

        self.entries = [digest] + [e for e in self.entries if e != digest][:KNOWN_VALID - 1]
        policy_cache.put(self.key, self.entries)


KNOWN_VALID = 64     # inputs kept in the cache of valid inputs


def _validating_engine() -> str | None:
    """Which package says yes to a valid input here, and which copy of it (its file, size and
    time: a reinstall changes them): jsonschema-rs, else fastjsonschema (the `fast` extra), else
    jsonschema itself (a plain `pip install .`). None when none can be found."""
    import importlib.util

    for module in ("jsonschema_rs", "fastjsonschema", "jsonschema"):
        try:
            spec = importlib.util.find_spec(module)
            st = os.stat(spec.origin)
        except (AttributeError, TypeError, OSError, ImportError, ValueError):
            continue
        return f"{module}\0{spec.origin}\0{st.st_size}\0{st.st_mtime_ns}"
    return None


@lru_cache(maxsize=None)
def _known(name: str, folder: str | None) -> _Known | None:
    """The cache of valid inputs of a schema (None when caching is off or no validator is found)."""
    from . import policy_cache

    engine = _validating_engine()
    if engine is None:
        return None
    key = policy_cache.content_key("valid-inputs", name, json.dumps(schema(name, folder), sort_keys=True), engine)
    if key is None:
        return None
    entries = policy_cache.get(key)
    if not (isinstance(entries, list) and all(isinstance(e, str) for e in entries)):
        entries = []
    return _Known(key, entries)


def _known_valid(data, name: str, folder: str | None):
    """(the cache of valid inputs, this input's digest) before the first validation of a
    process, else None. The validator accepted exactly this input before (same schema, engine
    and validator: jsonschema-rs, or jsonschema where the `fast` extra is not installed) when its
    digest is there: a start that evaluates a transaction again need not import jsonschema-rs
    (20-40 ms: it imports `email.utils`) or jsonschema (over 100 ms). A batch asks until its
    first miss, and remembers that record only."""
    if _fast_validator.cache_info().currsize:
        return None
    known = _known(name, folder)
    return None if known is None else (known, digest_of(data))


FAST = os.environ.get("EXPORTCTL_FAST_VALIDATION", "1") != "0"
"""EXPORTCTL_FAST_VALIDATION=0: jsonschema only (the plain path, for comparisons)."""


def validate(data, source: str, lines: dict | None = None, schema_name: str = "transaction",
             folder: str | None = None) -> list[Diagnostic]:
    """Every schema violation as a diagnostic with its JSON path and, when known, its line."""
    known = None
    if FAST:
        known = _known_valid(data, schema_name, folder)
        if known is not None and known[0].hit(known[1]):
            return []
        fast = _fast_validator(schema_name, folder)
        if fast is not None and fast(data):
            if known is not None:
                known[0].remember(known[1])
            return []
        if fast is not None:
            known = None            # rejected: jsonschema words it, never remembered
    lines = lines or {}
    diags = []
    errors = sorted(_validator(schema_name, folder).iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if not errors and known is not None:     # jsonschema alone (no `fast` extra) said yes
        known[0].remember(known[1])
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
        code = "E606" if _impossible_date(err) else "E602"
        diags.append(Diagnostic(code, f"{where}: {message}", Span(source, line, 1) if line else Span(source, 0, 0)))
    return diags


def _line_for(lines: dict, parts: list) -> int:
    while True:
        p = json_path(parts)
        if p in lines:
            return lines[p]
        if not parts:
            return lines.get("", 0)
        parts = parts[:-1]


def _impossible_date(err) -> bool:
    """A date of the right shape that does not exist (2026-02-30): E606, not a shape error."""
    return (err.validator == "format" and err.validator_value == "date" and isinstance(err.instance, str)
            and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", err.instance) is not None)


def _explain(err) -> str:
    """jsonschema's message, made actionable for the common cases."""
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        allowed = ", ".join(sorted(err.schema.get("properties", {})))
        return f"unknown key {', '.join(repr(x) for x in extra)} (allowed here: {allowed})"
    if err.validator == "enum":
        return f"{err.instance!r} is not one of {', '.join(map(str, err.validator_value))}"
    if _impossible_date(err):
        return f"{err.instance!r} is not a date that exists"
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
    """The SHA-256 of the data's compact JSON with sorted keys. Written by `jsonout.compact` (the
    same bytes, by orjson where it can) once JSON output has loaded it: a batch's digests cost a
    tenth; a single decision in text does not import orjson for one digest."""
    import hashlib

    jsonout = sys.modules.get(__package__ + ".jsonout")
    if jsonout is not None:
        text = jsonout.compact(data)
    else:
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def from_data(data, source: str = "<data>", lines: dict | None = None, folder: str | None = None,
              fresh_json: bool = False) -> Transaction:
    """Validate one transaction given as Python data. Raises ExportctlError (E602, E603-E607).
    `fresh_json`: `data` was just parsed from JSON (string keys, no dates, nobody else holds it),
    so it needs no normalised copy."""
    diags = check_values(data, source, lines)
    if diags:
        raise ExportctlError(diags)
    if not fresh_json:
        data = normalise(data)
    if not isinstance(data, dict):
        raise ExportctlError(Diagnostic("E602", f"a transaction is a mapping, not {type(data).__name__}",
                                        Span(source, 1, 1)))
    diags = validate(data, source, lines, folder=folder) + check_countries(data, source, lines, folder)
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


def _error(where: str, code: str, message: str, source: str, line: int = 0, col: int = 0) -> Record:
    return Record(where, error=ExportctlError(Diagnostic(code, message, Span(source, line, col))))


def read_text(text: str, source: str, folder: str | None = None, defer: bool = False) -> Iterator[Record]:
    """The transactions in one text: JSON Lines (.jsonl), a JSON document, or YAML documents."""
    if source.endswith(".jsonl") or source.endswith(".ndjson"):
        yield from read_lines(text.splitlines(), source, folder, defer)
        return
    stripped = text.lstrip()
    if source.endswith(".json") or stripped.startswith("{") or stripped.startswith("["):
        try:
            data = json_load(text, source)
        except ExportctlError as e:
            if source.endswith(".json") or e.diagnostics[0].code != "E601":
                yield Record(source, error=e)
                return
        else:
            for i, d in enumerate(data if isinstance(data, list) else [data]):
                yield _record(d, source if not isinstance(data, list) else f"{source}[{i}]", {}, source, 0, folder, defer)
            return
    # never from the cache: the cache folder holds no transaction data
    quick = quick_yaml(text)
    if quick is not None:
        docs = [(quick_lines(quick[0]), quick[1])]
    else:
        import yaml

        try:
            docs = yaml_documents(text)
        except yaml.YAMLError as e:
            yield Record(source, error=ExportctlError(yaml_error(e, source)))
            return
        docs = [(yaml_lines(n), d) for n, d in docs if d is not None]
    if not docs:
        yield Record(source, error=ExportctlError(Diagnostic("E601", "no transaction in the file", Span(source, 1, 1))))
    for i, (lines, data) in enumerate(docs):
        where = source if len(docs) == 1 else f"{source}#{i + 1}"
        yield _record(data, where, lines, source, 0, folder, defer)


class TooLong:
    """Stands for a JSON Lines line longer than the limit (its bytes were skipped, not kept)."""


def read_lines(lines, source: str, folder: str | None = None, defer: bool = False,
               first: int = 1) -> Iterator[Record]:
    """JSON Lines, one record per line, streamed: memory does not grow with the input. Lines may
    be bytes (decoded one by one, so a bad byte costs one record, not the rest of the file).
    `first`: the line number of the first line (a Chunk read elsewhere)."""
    limit = LIMITS.line_bytes
    for n, line in enumerate(lines, first):
        where = f"{source}:{n}"
        if line is TooLong or len(line) > limit + 1:
            yield _error(where, "E603", f"line longer than {limit:,} bytes", source, n, 1)
            continue
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError as e:
                yield _error(where, "E601", f"not UTF-8: byte 0x{line[e.start]:02x} at column {e.start + 1}",
                             source, n, e.start + 1)
                continue
        if not line.strip():
            continue
        try:
            data = json_load(line, source, n)
        except ExportctlError as e:
            yield Record(where, error=e)
            continue
        yield _record(data, where, {"": n}, source, n, folder, defer, fresh_json=True)


def _record(data, where: str, lines: dict, source: str, line: int, folder: str | None = None,
            defer: bool = False, fresh_json: bool = False) -> Record:
    if defer:
        return Record(where, pending=(data, lines, source, line, folder))
    try:
        tx = from_data(data, source, lines, folder, fresh_json=fresh_json)
        tx.source = where
        return Record(where, transaction=tx)
    except ExportctlError as e:
        if line:
            e.diagnostics = [Diagnostic(d.code, d.message, Span(source, line, 1), d.severity, d.hint)
                             for d in e.diagnostics]
        return Record(where, error=e)


SUFFIXES = (".yaml", ".yml", ".json", ".jsonl")


@dataclass
class Chunk:
    """Raw lines of JSON Lines, not yet parsed: what `--jobs` hands a worker, which parses,
    validates and decides them (read_lines(chunk.lines, chunk.source, first=chunk.first))."""

    source: str
    first: int
    lines: list


def _jsonl(lines, source: str, folder, defer: bool, chunk: int):
    """read_lines, or (chunk > 0) the same lines unparsed, `chunk` at a time."""
    if not chunk:
        yield from read_lines(lines, source, folder, defer)
        return
    block: list = []
    first = 1
    for n, line in enumerate(lines, 1):
        block.append(line)
        if len(block) >= chunk:
            yield Chunk(source, first, block)
            block, first = [], n + 1
    if block:
        yield Chunk(source, first, block)


def bounded_lines(stream, limit: int):
    """Lines of a stream (bytes or text), none longer than `limit` kept in memory: an over-long
    line is skipped to its end and stands as TooLong."""
    while True:
        line = stream.readline(limit + 2)
        if not line:
            return
        nl = b"\n" if isinstance(line, bytes) else "\n"
        if len(line) > limit + 1 and not line.endswith(nl):
            yield TooLong   # first, so a caller that stops here never reads an endless line
            while True:
                more = stream.readline(limit + 2)
                if not more or more.endswith(nl):
                    break
        else:
            yield line


def _kind(mode: int) -> str:
    import stat

    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a regular file"


def _reason(e: OSError) -> str:
    import errno

    if e.errno == errno.ELOOP:
        return "symbolic link loop"
    if e.errno == errno.ENOENT:
        return "no such file (or a dangling symbolic link)"
    return e.strerror or str(e)


def read_path(path: str, folder: str | None = None, stdin=None, defer: bool = False,
              chunk: int = 0) -> Iterator[Record | Chunk]:
    """Read a file, `-` (stdin) or a folder (its .yaml/.yml/.json/.jsonl files, sorted by name).

    Only regular files are opened (a FIFO or device is an error, never a hang); a folder is walked
    without following links out of it or in loops, and every entry that cannot be read is an error
    record in its place."""
    import stat

    if path == "-":
        yield from _read_stdin(stdin, folder, defer, chunk)
        return
    try:
        st = os.stat(path)
    except OSError as e:
        yield _error(path, "E601", f"cannot read {path}: {_reason(e)}", path)
        return
    if stat.S_ISDIR(st.st_mode):
        yield from _read_folder(path, folder, defer, chunk)
    elif not stat.S_ISREG(st.st_mode):
        yield _error(path, "E609", f"cannot read {path}: {_kind(st.st_mode)}; only regular files, folders and "
                                   "- (stdin) are read", path)
    else:
        yield from _read_file(path, folder, defer, chunk)


def _read_file(path: str, folder: str | None, defer: bool, chunk: int = 0) -> Iterator[Record | Chunk]:
    import stat

    try:
        # O_NONBLOCK: a FIFO swapped in after the stat must not hang the open
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        yield _error(path, "E601", f"cannot read {path}: {_reason(e)}", path)
        return
    fh = os.fdopen(fd, "rb")
    with fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            yield _error(path, "E609", f"cannot read {path}: {_kind(st.st_mode)}", path)
            return
        try:
            os.set_blocking(fd, True)
            if path.endswith((".jsonl", ".ndjson")):
                yield from _jsonl(bounded_lines(fh, LIMITS.line_bytes), path, folder, defer, chunk)
                return
            if st.st_size > LIMITS.file_bytes:
                yield _error(path, "E603", f"file of {st.st_size:,} bytes (at most {LIMITS.file_bytes:,}); "
                                           "split it, or use JSON Lines", path)
                return
            raw = fh.read(LIMITS.file_bytes + 1)
        except OSError as e:
            yield _error(path, "E601", f"cannot read {path}: {_reason(e)}", path)
            return
    if len(raw) > LIMITS.file_bytes:
        yield _error(path, "E603", f"file larger than {LIMITS.file_bytes:,} bytes", path)
        return
    text = _decode(raw, path)
    if isinstance(text, Record):
        yield text
        return
    yield from read_text(text, path, folder, defer)


def _decode(raw: bytes, source: str):
    """UTF-8 text, or an error record at the line and column of the first bad byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        return _error(source, "E601", f"not UTF-8: byte 0x{raw[e.start]:02x}", source, line, col)


def _read_stdin(stdin, folder, defer, chunk: int = 0) -> Iterator[Record | Chunk]:
    import sys

    stream = stdin or sys.stdin
    stream = getattr(stream, "buffer", stream)  # bytes when there are bytes to read
    lines = bounded_lines(stream, LIMITS.line_bytes)
    first = next(lines, "")
    head = first.decode("utf-8", "replace") if isinstance(first, bytes) else first
    if first is not TooLong and head.lstrip().startswith("{") and head.rstrip().endswith("}"):
        # JSON Lines on stdin: stream it
        yield from _jsonl(_chain([first], lines), "<stdin>.jsonl", folder, defer, chunk)
        return
    if first is TooLong:
        yield _error("<stdin>", "E603", f"stdin: first line longer than {LIMITS.line_bytes:,} bytes", "<stdin>", 1, 1)
        return
    rest = stream.read(LIMITS.file_bytes + 1 - len(first))
    raw = first + rest
    if len(raw) > LIMITS.file_bytes:
        yield _error("<stdin>", "E603", f"stdin holds more than {LIMITS.file_bytes:,} bytes; use JSON Lines",
                     "<stdin>", 1, 1)
        return
    text = _decode(raw, "<stdin>") if isinstance(raw, bytes) else raw
    if isinstance(text, Record):
        yield text
        return
    yield from read_text(text, "<stdin>", folder, defer)


def walk(root: str) -> Iterator[tuple[str, str | None]]:
    """(path, None) for each transaction file under `root`, or (path, problem) for an entry that
    cannot be read: in sorted order, without recursion, never following a link out of `root`, to a
    folder, or in a loop."""
    import stat

    base = os.path.realpath(root)
    stack = [root]
    while stack:
        here = stack.pop()
        try:
            with os.scandir(here) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            yield here, f"cannot read folder {here}: {_reason(e)}"
            continue
        subdirs = []
        for entry in entries:
            p = entry.path
            try:
                st = entry.stat(follow_symlinks=False)
                if stat.S_ISLNK(st.st_mode):
                    target = os.path.realpath(p)
                    st = os.stat(p)
                    if stat.S_ISDIR(st.st_mode):
                        yield p, "a symbolic link to a folder; not followed"
                        continue
                    if os.path.commonpath([base, target]) != base:
                        yield p, "a symbolic link out of the folder; not followed"
                        continue
            except OSError as e:
                yield p, _reason(e)
                continue
            if stat.S_ISDIR(st.st_mode):
                subdirs.append(p)
            elif not stat.S_ISREG(st.st_mode):
                yield p, _kind(st.st_mode)
            elif entry.name.endswith(SUFFIXES):
                yield p, None
        stack.extend(reversed(subdirs))


def _read_folder(root: str, folder: str | None, defer: bool, chunk: int = 0) -> Iterator[Record | Chunk]:
    for p, problem in sorted(walk(root), key=lambda x: Path(x[0]).parts):
        if problem:
            yield _error(p, "E609", f"cannot read {p}: {problem}", p)
        else:
            yield from _read_file(p, folder, defer, chunk)


def _chain(first, rest):
    yield from first
    yield from rest
