"""What the exportctl adapters of the benchmark share: loading the ruleset without any cache
(so that every `load()` really parses, checks and compiles), and the rule-id mapping.

The ruleset is `ruleset/` beside this file: `bench/bench.policy` (the 37 rules of
../shared/bench/ruleset.md in the exportctl language), its golden cases, and
`schema/transaction.schema.json` (the flat benchmark transaction)."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

RULESET = Path(__file__).resolve().parent / "ruleset"
POLICY = RULESET / "bench" / "bench.policy"


def bench_id(rule_id: str) -> str:
    """`bench.x515_01` -> `X515-01` (ruleset.md's id)."""
    return rule_id.split(".", 1)[1].upper().replace("_", "-")


def load_ruleset():
    """(PolicySet, compiled regimes): read, parse, check and compile the ruleset, bypassing the
    per-process caches of `exportctl.policyset.load` so that the work is really done."""
    from exportctl.diagnostics import ExportctlError
    from exportctl.policyset import read_policies

    ps = read_policies(RULESET)
    if ps.errors:
        raise ExportctlError(ps.errors)
    return ps, ps.regimes


def id_map(regimes: dict) -> dict:
    return {rid: bench_id(rid) for reg in regimes.values() for rid in reg.all_rules}


def transaction_date(txn: dict) -> _dt.date:
    return _dt.date.fromisoformat(txn["date"])
