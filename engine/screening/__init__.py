"""Restricted-party screening: every party of a transaction, by name, against versioned lists,
with fuzzy matching that explains itself (docs/screening.md).

`decide_with` is the hook `api.decide` uses: it screens, decides a copy of the transaction with
the matched lists added, and makes the decision openly unsure where a review-level match would
change it."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from .model import Lists, load
from .screen import Screening, screen

__all__ = ["Options", "Lists", "Screening", "decide_with", "load", "screen"]


@dataclass(frozen=True)
class Options:
    """How a decision screens: on or off (`--no-screening`), and whose good-guy records."""

    enabled: bool = True
    good_guys: str | None = None


DEFAULT = Options()


def decide_with(root, data: dict, day: _dt.date, evaluate, options: Options | None = None) -> dict:
    """The decision of `evaluate(data)` with the policy folder's lists screened in.

    `evaluate(data, explain=True)` maps transaction data to a decision (`explain=False`: without
    `checked`, for the decision with review-level matches taken as true, of which only outcomes
    and findings are read). A policy folder without `lists/` is not screened (the decision has no
    `screening` section)."""
    options = options or DEFAULT
    lists = load(root, options.good_guys)
    if lists is None:
        return evaluate(data)
    if not options.enabled:
        d = evaluate(data)
        d["screening"] = {"enabled": False, "as_of": day.isoformat(), "lists_digest": lists.digest,
                          "parties": [], "questions": []}
        return d
    s = screen(lists, data, day)
    low = evaluate(s.augmented(data))
    if s.has_review and s.review_adds(data):
        high = evaluate(s.augmented(data, with_review=True), explain=False)
        low = _unsure(low, high, s)
    low["screening"] = s.section()
    return low


def _stricter(a: str, b: str) -> str:
    from ..ast import RANK

    return a if RANK[a] >= RANK[b] else b


def _unsure(low: dict, high: dict, s: Screening) -> dict:
    """`low` (review matches taken as false) made indeterminate wherever `high` (taken as true)
    decides otherwise: the answer to "is party X the listed Y?" would change it."""
    from ..ast import RANK

    qs = [q for q in s.questions() if q["party"] in {r.path for r in s.results if r.lists_given}]
    facts = sorted({q["fact"] for q in qs})
    by_regime = {e["regime"]: e for e in high["regimes"]}
    changed = []
    for e in low["regimes"]:
        h = by_regime.get(e["regime"])
        if h is None or h["outcome"] == e["outcome"]:
            continue
        changed.append((e, h))
        e["at_least"] = e.get("at_least", e["outcome"]) if e["outcome"] == "indeterminate" else e["outcome"]
        e["at_most"] = _stricter(e.get("at_most", e["outcome"]), h.get("at_most", h["outcome"]))
        e["outcome"] = "indeterminate"
        e["missing"] = sorted(set(e["missing"]) | set(facts))
        e["note"] = ((e.get("note") + " ") if e.get("note") else "") + (
            "Indeterminate: a party's name is close to a listed party's (screening review); see the decision's "
            "screening questions.")
    if not changed:
        return low
    binding = [e for e in low["regimes"] if e["binding"] and e["outcome"] != "not_applicable"]
    if binding:
        low["outcome"] = max((e["outcome"] for e in binding), key=RANK.get)
        low["driven_by"] = [e["regime"] for e in binding if e["outcome"] == low["outcome"]]
    low["missing"] = sorted({m for e in low["regimes"] for m in e["missing"]})
    if low["outcome"] == "indeterminate":
        low["at_least"] = max((e.get("at_least", e["outcome"]) for e in binding), key=RANK.get)
        low["at_most"] = max((e.get("at_most", e["outcome"]) for e in binding), key=RANK.get)
    low_fired = {(e["regime"], f["rule"]) for e in low["regimes"] for f in e["findings"]}
    for q in qs:
        rules, regimes = [], []
        for e, h in changed:
            if not e["binding"]:
                continue
            regimes.append(e["regime"])
            for f in h["findings"]:
                if (h["regime"], f["rule"]) not in low_fired and not any(r["rule"] == f["rule"] for r in rules):
                    rules.append({"rule": f["rule"], "cite": f["cite"]})
        if regimes:
            low.setdefault("questions", []).append({"fact": q["fact"], "item": None, "ask": q["ask"],
                                                    "regimes": regimes, "rules": rules, "settles": True})
    obligations = low.get("obligations")
    if low["outcome"] == "indeterminate" and isinstance(obligations, list) and low.get("questions") and \
            not any(o.get("kind") == "answer" for o in obligations):
        obligations.insert(0, {"id": "answer-questions", "kind": "answer", "regime": None,
                               "text": f"Answer the {len(low['questions'])} open question(s) below and evaluate again: "
                                       "the outcome depends on them.", "form": None, "authority": None,
                               "by": "exporter", "cite": "", "rules": [], "items": []})
    return low
