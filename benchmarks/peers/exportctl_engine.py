"""exportctl, compiled rules (engine/codegen.py): the fired-rule set of each transaction.

The ruleset is written in the exportctl language (ruleset/bench/bench.policy). `load()` parses,
checks and compiles it: the closures of engine/compile.py and the generated Python of
engine/codegen.py for every epoch (the dates at which a rule or a set member enters or
leaves force). `decide()` asks `FastEvaluator.fired_rules`, which returns the ids of the rules
whose findings `exportctl evaluate` would report, without building the decision document
(no `because`, no citations): what the other engines return. The outcome is the shared
`combine()` of the fired set, as for Cedar, CEL, ZEN and rule-engine. The transaction is not
validated against the schema (no engine here validates its input).
"""
from __future__ import annotations

from engines._common import Engine as _Base, combine

from _exportctl_common import POLICY, id_map, load_ruleset


class Engine(_Base):
    name = "exportctl"
    package = "exportctl"
    BATCH = False
    policy_ext = "policy"
    notes = "compiled (ast) fast path, fired rules only; outcome by combine()"

    def load(self) -> None:
        from exportctl.codegen import FastEvaluator
        from exportctl.facts import schema

        ps, regimes = load_ruleset()
        roots = frozenset(schema("transaction", ps.schema_folder)["properties"])
        self._ev = FastEvaluator(regimes, roots)
        self._ev.prepare()                      # every epoch compiled now, not on first use
        self._fired = self._ev.fired_rules
        self._ids = id_map(regimes)

    def decide(self, txn: dict) -> tuple:
        ids = self._ids
        fired = frozenset([ids[r] for r in self._fired(txn)])
        return fired, combine(fired)

    def policy_text(self) -> str:
        return POLICY.read_text(encoding="utf-8")
