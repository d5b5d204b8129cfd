"""Fuzz targets: the transaction reader, the policy parser and checker, and `records verify`.

Each target takes bytes and fails only on a crash: any exception other than the documented
bad-input error (ExportctlError, or OSError/UnicodeDecodeError for a record file, which the CLI
reports as exit 2). Inputs are seeds from fuzz/corpus/ mutated by hypothesis; each target also
has a `fuzz_one_input(data: bytes)` form for a coverage-guided driver (atheris), and
fuzz/run.py runs them for a given time."""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path

from hypothesis import strategies as st

CORPUS = Path(__file__).resolve().parent / "corpus"


@lru_cache(maxsize=None)
def seeds(kind: str) -> tuple[bytes, ...]:
    return tuple(p.read_bytes() for p in sorted((CORPUS / kind).iterdir()) if p.is_file())


# Tokens that reach the interesting corners: nesting, escapes, numbers, keywords, YAML syntax.
_PIECES = ["(", ")", "{", "}", "not ", "- ", " + ", " and ", " or ", "any c in items: ", '"', "\\", "\\x",
           "\\u00e9", "9" * 50, "2024-02-30", "\n", "#", ":", "[", "]", "&a", "*a", "!!python/object", "---",
           "\x00", "é", "set a = a\n", "define f(x) = f(x)\n", "use mtcr\n", "1e999", "%", "null", "~"]


@st.composite
def mutated(draw, kind: str) -> bytes:
    """A seed with a few slices replaced by pieces, random text or other seeds' slices."""
    data = bytearray(draw(st.sampled_from(seeds(kind))))
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(data)))
        cut = draw(st.integers(0, min(64, len(data) - at)))
        piece = draw(st.one_of(st.sampled_from(_PIECES).map(str.encode),
                               st.text(max_size=24).map(lambda t: t.encode("utf-8", "surrogatepass")),
                               st.binary(max_size=8)))
        times = draw(st.sampled_from([1, 1, 1, 2, 50, 300]))
        data[at:at + cut] = piece * times
    return bytes(data)


def transaction(data: bytes) -> None:
    """exportctl.facts.read_text over a transaction text (YAML, JSON or JSON Lines)."""
    from exportctl import facts
    from exportctl.diagnostics import ExportctlError

    text = data.decode("utf-8", "replace")
    for name in ("tx.yaml", "tx.jsonl"):
        try:
            for _rec in facts.read_text(text, name):
                pass
        except ExportctlError:
            pass


def policy(data: bytes) -> None:
    """Parse and check one policy text (with the bundled mtcr policy beside it for `use`)."""
    from exportctl.check import check
    from exportctl.diagnostics import ExportctlError
    from exportctl.facts import schema
    from exportctl.parse import parse_policy

    text = data.decode("utf-8", "replace")
    try:
        pol = parse_policy(text, "fuzz.policy")
    except ExportctlError:
        return
    check([pol, _mtcr()], schema("transaction"))


@lru_cache(maxsize=1)
def _mtcr():
    from exportctl.parse import parse_policy

    return parse_policy((CORPUS / "policies" / "mtcr.policy").read_text(encoding="utf-8"), "mtcr.policy")


def records(data: bytes) -> None:
    """`records verify` over a record file's bytes."""
    from exportctl import records as R

    fd, path = tempfile.mkstemp(suffix=".jsonl", prefix="exportctl-fuzz-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            R.verify(path)
        except (OSError, UnicodeDecodeError):
            pass
    finally:
        os.unlink(path)


TARGETS = {"transactions": transaction, "policies": policy, "records": records}


def fuzz_one_input(data: bytes) -> None:
    """One input for a coverage-guided driver: the first byte picks the target."""
    if not data:
        return
    kind = sorted(TARGETS)[data[0] % len(TARGETS)]
    TARGETS[kind](data[1:])
