"""exportctl, closure evaluator (engine/evaluate.py, the default path before engine/codegen.py):
the full decision document per transaction, for comparison with exportctl_decision.py.
"""
from __future__ import annotations

from engines._common import Engine as _Base, combine

from _exportctl_common import POLICY, id_map, load_ruleset, transaction_date


class Engine(_Base):
    name = "exportctl closures"
    package = "exportctl"
    BATCH = False
    policy_ext = "policy"
    notes = "three-valued closure evaluator, full decision document"

    def load(self) -> None:
        from exportctl.evaluate import evaluate

        ps, self._regimes = load_ruleset()
        self._evaluate = evaluate
        self._digest = ps.digest
        self._ids = id_map(self._regimes)

    def decide(self, txn: dict) -> tuple:
        d = self._evaluate(self._regimes, txn, transaction_date(txn), self._digest)
        ids = self._ids
        fired = frozenset([ids[f["rule"]] for r in d["regimes"] for f in r["findings"]])
        return fired, combine(fired)

    def policy_text(self) -> str:
        return POLICY.read_text(encoding="utf-8")
