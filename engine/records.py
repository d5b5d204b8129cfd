"""Append-only, hash-chained decision records.

Auditors ask "why did you ship this on that day". Each screening decision is
stored as one JSON Lines record that names its inputs (``input_digest``), the
policy it was judged under (``policy_digest``) and the full decision, and that
is chained to the record before it by hash, so an edited, removed or reordered
record shows up in :func:`verify`.

File format (one record per line, UTF-8, ``"\\n"``-terminated)::

    {"as_of":"2026-11-28","decision":{...},"hash":"sha256:<hex>",
     "input_digest":"sha256:...","outcome":"license_required",
     "policy_digest":"sha256:...","prev":"sha256:<hex>",
     "recorded_at":"2026-11-28T18:30:00Z","seq":0,"transaction":"TX-1"}

Every line is :func:`canonical_json` (sorted keys, compact separators, no
ASCII escaping). ``hash`` is :func:`digest` of the record without its
``hash`` key; ``prev`` is the previous record's ``hash`` (``"sha256:"`` and
64 zeros for ``seq`` 0).

Design choices:

* Writers take an exclusive ``fcntl.flock`` around "read the tail, write the
  line", so two processes appending to one file cannot fork the chain. A
  record is written with one ``os.write`` on an ``O_APPEND`` descriptor and
  then ``os.fsync``-ed (plus the directory when the file was just created):
  once ``append`` returns, the record survives a crash.
* A torn write (a process killed mid-write) leaves an unterminated prefix of
  a record line. History is never rewritten, so the fragment is not
  truncated away: the next append writes ``"\\n"`` to terminate it and chains
  the new record to the last *valid* record before it. ``verify`` reports
  such a fragment as ``R005`` (a warning: only that one record was lost, and
  the chain across it is still checked). A fragment is recognised by shape:
  it does not parse and is a prefix of ``{"as_of":"``-led record text, which
  is what every torn write of this module looks like. Any other damage is an
  error.
* ``append`` refuses (:class:`ChainError`) to chain onto a tail that is
  unreadable or edited: chaining onto it would launder the edit, chaining
  around it would fork the chain. Run :func:`verify` and investigate instead.
* The chain proves the order and integrity of what is in the file, not that
  nothing was cut off its end. Keep :attr:`VerifyReport.head` (the last hash)
  somewhere else if truncation of the newest records must be detectable.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Iterable, Iterator

__all__ = [
    "GENESIS",
    "ChainError",
    "Problem",
    "VerifyReport",
    "append",
    "append_many",
    "canonical_json",
    "digest",
    "verify",
]

GENESIS = "sha256:" + "0" * 64
"""``prev`` of the first record: there is nothing before it to chain to."""

WARNING_CODES = frozenset({"R005"})
"""Problem codes that do not make a file fail verification."""

_DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}\Z")
_RECORD_PREFIX = b'{"as_of":"'  # every canonical record line starts so
_BLOCK = 64 * 1024
_FIELDS = frozenset(
    {
        "seq",
        "recorded_at",
        "as_of",
        "transaction",
        "input_digest",
        "policy_digest",
        "outcome",
        "decision",
        "prev",
        "hash",
    }
)


class ChainError(Exception):
    """The file's tail is damaged, so a new record has nothing safe to chain to."""


@dataclass(frozen=True)
class Problem:
    """One finding of :func:`verify`, tied to a 1-based line so it can be shown."""

    line: int
    code: str
    message: str

    @property
    def is_warning(self) -> bool:
        """Torn writes lose one record but are not tampering."""
        return self.code in WARNING_CODES


@dataclass
class VerifyReport:
    """Outcome of :func:`verify`; ``head`` is the last record hash, for anchoring."""

    ok: bool
    records: int
    problems: list[Problem] = field(default_factory=list)
    head: str | None = None


def canonical_json(obj: Any) -> str:
    """One fixed text per value, so a hash over it is reproducible anywhere."""
    return json.dumps(
        obj,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def digest(obj: Any) -> str:
    """``"sha256:<hex>"`` of the canonical JSON of *obj* (bytes hashed as-is)."""
    if isinstance(obj, (bytes, bytearray, memoryview)):
        data = bytes(obj)
    else:
        data = canonical_json(obj).encode("utf-8")
    return "sha256:" + hashlib.sha256(data).hexdigest()


def append(
    path: str | os.PathLike[str],
    decision: dict[str, Any],
    *,
    input_digest: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record one decision durably and return the record exactly as written."""
    return append_many(path, [(decision, input_digest)], now=now)[0]


def append_many(
    path: str | os.PathLike[str],
    items: Iterable[tuple[dict[str, Any], str]],
    *,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Record ``(decision, input_digest)`` pairs under one lock and one fsync.

    The whole batch goes out in one write, so it is cheaper than repeated
    :func:`append` and no other writer's record lands in the middle of it.
    """
    items = list(items)
    stamp = _timestamp(now)
    for decision, input_digest in items:  # fail before touching the file
        _check_inputs(decision, input_digest)
    if not items:
        return []

    fd, created = _open_for_append(os.fspath(path))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        last, unterminated = _last_valid(fd, size)
        seq = 0 if last is None else last["seq"] + 1
        prev = GENESIS if last is None else last["hash"]
        lines: list[str] = []
        records: list[dict[str, Any]] = []
        for decision, input_digest in items:
            record = {
                "seq": seq,
                "recorded_at": stamp,
                "as_of": decision["as_of"],
                "transaction": decision["transaction"],
                "input_digest": input_digest,
                "policy_digest": decision["policy_digest"],
                "outcome": decision["outcome"],
                "decision": decision,
                "prev": prev,
            }
            record["hash"] = digest(record)
            line = canonical_json(record)
            lines.append(line + "\n")
            records.append(json.loads(line))  # a copy the caller cannot alias
            prev, seq = record["hash"], seq + 1
        data = ("\n" if unterminated else "") + "".join(lines)
        payload = data.encode("utf-8")
        written = os.write(fd, payload)
        if written != len(payload):
            # The tail is now torn; the next append terminates it (see module doc).
            raise OSError(f"short write to {os.fspath(path)}: {written} of {len(payload)} bytes")
        os.fsync(fd)  # os.write is unbuffered, so fsync is the only flush needed
        if created:
            _fsync_dir(os.fspath(path))
    finally:
        os.close(fd)  # also releases the lock
    return records


def verify(path: str | os.PathLike[str]) -> VerifyReport:
    """Check every line and link so tampering, gaps and torn writes are found.

    Raises FileNotFoundError for a missing file: "no records" must not be
    mistaken for "no file". An empty file is a valid, empty chain.
    """
    problems: list[Problem] = []
    count = 0
    prev_hash: str | None = GENESIS  # what the next record's prev must be
    prev_seq: int | None = -1
    head: str | None = None
    with _open_regular(path) as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_SH)  # a snapshot between appends
        for lineno, raw in enumerate(_lines(fh), 1):
            terminated = raw.endswith(b"\n")
            line = raw[:-1] if terminated else raw
            kind, payload = _classify(line)
            if kind == "torn":
                if terminated:
                    msg = "partial record from an interrupted write, terminated by a later append; ignored"
                else:
                    msg = "partial last line from an interrupted write; ignored"
                problems.append(Problem(lineno, "R005", msg))
                continue
            if kind == "unreadable":
                code = "E802" if payload.startswith("not a canonical") else (
                    "E803" if payload.startswith(("line of", "nested")) else "R001")
                problems.append(Problem(lineno, code, f"unreadable: {payload}"))
                continue
            rec = payload
            count += 1
            if kind == "edited":
                problems.append(Problem(lineno, "R002", "edited: hash does not match the record's content"))
            if kind == "malformed":
                problems.append(Problem(lineno, "E802", "edited: the line is not the record's canonical JSON "
                                                        "(spacing, key order or escapes changed)"))
            if prev_hash is not None and rec.get("prev") != prev_hash:
                problems.append(
                    Problem(
                        lineno,
                        "R003",
                        f"broken chain: prev is {rec.get('prev')!r}, previous record's hash is {prev_hash!r}"
                        " (record removed, inserted or reordered)",
                    )
                )
            seq = rec.get("seq")
            seq_ok = isinstance(seq, int) and not isinstance(seq, bool)
            if prev_seq is not None and (not seq_ok or seq != prev_seq + 1):
                problems.append(
                    Problem(lineno, "R004", f"sequence gap: seq is {seq!r}, expected {prev_seq + 1}")
                )
            prev_hash = rec["hash"]
            prev_seq = seq if seq_ok else None
            head = rec["hash"]
    ok = all(p.is_warning for p in problems)
    return VerifyReport(ok=ok, records=count, problems=problems, head=head)


# --- internals -------------------------------------------------------------


def _open_regular(path):
    """Open for reading, refusing (OSError) anything but a regular file: a FIFO must not hang."""
    import stat

    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise IsADirectoryError(0, "not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _lines(fh) -> Iterator[bytes]:
    """The file's lines, an over-long one cut to its first limit + 1 bytes (memory stays bounded)."""
    from .facts import LIMITS

    limit = LIMITS.record_line_bytes + 1
    while True:
        line = fh.readline(limit)
        if not line:
            return
        if len(line) >= limit and not line.endswith(b"\n"):
            while True:
                more = fh.readline(limit)
                if not more or more.endswith(b"\n"):
                    line += b"\n"
                    break
        yield line



def _timestamp(now: datetime | None) -> str:
    """UTC with a Z suffix; naive times are refused because their zone is a guess."""
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_inputs(decision: Any, input_digest: Any) -> None:
    """Reject what would make a record unusable as evidence, before writing."""
    if not isinstance(decision, dict):
        raise TypeError(f"decision must be a dict, not {type(decision).__name__}")
    missing = [k for k in ("as_of", "transaction", "policy_digest", "outcome") if k not in decision]
    if missing:
        raise ValueError(f"decision lacks {', '.join(missing)}")
    as_of = decision["as_of"]
    try:
        ok_date = isinstance(as_of, str) and date.fromisoformat(as_of).isoformat() == as_of
    except ValueError:
        ok_date = False
    if not ok_date:
        raise ValueError(f"decision as_of must be an ISO date string YYYY-MM-DD, got {as_of!r}")
    if not isinstance(input_digest, str) or not _DIGEST_RE.match(input_digest):
        raise ValueError(f"input_digest must look like 'sha256:<64 hex>', got {input_digest!r}")
    canonical_json(decision)  # TypeError/ValueError now rather than mid-batch


def _open_for_append(path: str) -> tuple[int, bool]:
    """Open read+append, telling whether this call created the file."""
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(path, flags | os.O_EXCL, 0o644), True
    except FileExistsError:
        return os.open(path, flags, 0o644), False


def _fsync_dir(path: str) -> None:
    """Make a new file's directory entry durable, not just its contents."""
    dfd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def _reverse_segments(fd: int, size: int) -> Iterator[bytes]:
    """Yield the text after the last newline, then each line, newest first."""
    pos, rest = size, b""
    while pos > 0:
        n = min(_BLOCK, pos)
        pos -= n
        rest = os.pread(fd, n, pos) + rest
        parts = rest.split(b"\n")
        rest = parts[0]
        yield from reversed(parts[1:])
    yield rest


def _last_valid(fd: int, size: int) -> tuple[dict[str, Any] | None, bool]:
    """Find the record to chain to, skipping torn fragments, reading only the tail.

    Returns (record or None for an empty chain, whether the file lacks a final
    newline and so needs one before the next record).
    """
    if size == 0:
        return None, False
    segments = _reverse_segments(fd, size)
    tail = next(segments)
    unterminated = tail != b""
    candidates = _prepend(tail, segments) if unterminated else segments
    for lineno_from_end, line in enumerate(candidates, 1):
        kind, payload = _classify(line)
        if kind == "record":
            if not (isinstance(payload["seq"], int) and not isinstance(payload["seq"], bool)):
                raise ChainError("last record has a non-integer seq; run verify()")
            return payload, unterminated
        if kind == "torn":
            continue
        what = "edited" if kind in ("edited", "malformed") else f"unreadable ({payload})"
        raise ChainError(
            f"line {lineno_from_end} from the end is {what}; refusing to chain onto it, run verify()"
        )
    return None, unterminated


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    """Put the unterminated tail back in front of the complete lines."""
    yield first
    yield from rest


class _Malformed(ValueError):
    """A line that parses only by guessing: a duplicate key or a non-finite number."""


def _strict_pairs(pairs):
    d = dict(pairs)
    if len(d) != len(pairs):
        keys = [k for k, _ in pairs]
        dup = next(k for i, k in enumerate(keys) if k in keys[:i])
        raise _Malformed(f"duplicate key {dup!r}")
    return d


def _no_constant(name):
    raise _Malformed(f"{name} is not a number JSON allows")


def _classify(line: bytes) -> tuple[str, Any]:
    """Sort a line into record / edited / malformed / torn / unreadable, as verify and append agree.

    A record counts only if its bytes are exactly its canonical JSON: any edit a reader could see
    (a duplicate key, reordered keys, escapes, spaces) changes those bytes."""
    from .facts import LIMITS, too_deep

    if len(line) > LIMITS.record_line_bytes:
        return "unreadable", f"line of {len(line):,} bytes (at most {LIMITS.record_line_bytes:,})"
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and too_deep(text, LIMITS.record_depth) is not None:
        return "unreadable", f"nested deeper than {LIMITS.record_depth} levels"
    try:
        if text is None:
            raise ValueError("not UTF-8")
        obj = json.loads(text, object_pairs_hook=_strict_pairs, parse_constant=_no_constant)
    except _Malformed as e:
        return "unreadable", f"not a canonical record: {e}"
    except (ValueError, RecursionError):
        if line and (line.startswith(_RECORD_PREFIX) or _RECORD_PREFIX.startswith(line)):
            return "torn", None
        return "unreadable", "not JSON"
    if not isinstance(obj, dict) or not isinstance(obj.get("hash"), str):
        return "unreadable", "not a record (no hash)"
    body = {k: v for k, v in obj.items() if k != "hash"}
    try:
        ok = digest(body) == obj["hash"]
        canonical = canonical_json(obj).encode("utf-8") == line
    except (TypeError, ValueError):  # NaN/Infinity cannot be canonical
        ok = canonical = False
    if not ok:
        return "edited", obj
    if set(obj) != _FIELDS:
        return "unreadable", "not a decision record (fields differ)"
    if not canonical:
        return "malformed", obj
    return "record", obj
