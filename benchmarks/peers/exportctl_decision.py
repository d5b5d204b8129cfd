"""exportctl, compiled rules, full decision: what `exportctl evaluate` computes per transaction.

Same ruleset and load as exportctl_engine.py, but each transaction gets the whole decision
document of DESIGN.md (`FastEvaluator.evaluate`): every finding with its citation, message and
`because` facts (fired rules re-run through their closures to collect them), regime entries,
missing facts, conflicts. The fired set is read from the findings; the outcome is `combine()`
of it (exportctl's own outcome follows default logic, see README). Not validated, not
serialised to JSON: that is the CLI's cost, measured by benchmarks/scale.py.
"""
from __future__ import annotations

from engines._common import Engine as _Base, combine

from _exportctl_common import POLICY, id_map, load_ruleset, transaction_date


class Engine(_Base):
    name = "exportctl decision"
    package = "exportctl"
    BATCH = False
    policy_ext = "policy"
    notes = "compiled fast path, full decision document with explanations"

    def load(self) -> None:
        from exportctl.codegen import FastEvaluator
        from exportctl.facts import schema

        ps, regimes = load_ruleset()
        roots = frozenset(schema("transaction", ps.schema_folder)["properties"])
        self._ev = FastEvaluator(regimes, roots)
        self._ev.prepare()
        self._digest = ps.digest
        self._ids = id_map(regimes)

    def decide(self, txn: dict) -> tuple:
        d = self._ev.evaluate(txn, transaction_date(txn), self._digest)
        ids = self._ids
        fired = frozenset([ids[f["rule"]] for r in d["regimes"] for f in r["findings"]])
        return fired, combine(fired)

    def policy_text(self) -> str:
        return POLICY.read_text(encoding="utf-8")
