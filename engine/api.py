"""The few functions every adapter uses: load, check, evaluate."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from . import facts
from .diagnostics import Diagnostic, ExportctlError
from .codegen import compile_fast
from .policyset import PolicySet, load


def load_policies(root: str | Path | None = None) -> PolicySet:
    """Policies parsed, checked and ready; raises ExportctlError if any has an error."""
    ps = load(root)
    if ps.errors:
        raise ExportctlError(ps.errors)
    return ps


def check(root: str | Path | None = None) -> list[Diagnostic]:
    return load(root).diagnostics


def decide(ps: PolicySet, tx: facts.Transaction, as_of: _dt.date | None = None, screening=None) -> dict:
    """The decision for one validated transaction.

    `screening` (screening.Options): every party is screened against the policy folder's
    restricted-party lists first, unless switched off (default: on, when the folder has lists/).

    Treat the decision as read-only: the compiled evaluator remembers check entries across
    decisions, and a check's `facts` mapping may be the same object in several decisions of
    the process. `copy.deepcopy` it before changing it."""
    from .screening import decide_with

    day = as_of or tx.date
    # The compiled evaluator (codegen): the closures' decisions exactly (tests/test_codegen.py),
    # with rule conditions compiled to Python and indexed, after a short warm-up.
    fast = compile_fast(ps)
    return decide_with(ps.root, tx.data, day,
                       lambda data, explain=True: fast.evaluate(data, day, ps.digest, bundled=ps.bundled,
                                                                explain=explain), screening)


def evaluate(data: dict, *, policies: str | Path | PolicySet | None = None,
             as_of: _dt.date | str | None = None) -> dict:
    """Validate `data` (one transaction) and decide it. Raises ExportctlError on bad input.
    The decision is read-only, as `decide` says."""
    ps = policies if isinstance(policies, PolicySet) else load_policies(policies)
    if isinstance(as_of, str):
        as_of = _dt.date.fromisoformat(as_of)
    return decide(ps, facts.from_data(data, folder=ps.schema_folder), as_of)
