"""Evaluator: three-valued logic, exceptions (default logic), per-item rules, dates,
indeterminate with missing facts, because, and the transaction outcome."""

import pytest

from conftest import base_tx, decide, regime

EAR = '''
regime us-ear "EAR" binding
  version "2026-07-23" source "15 CFR"
set A5 "Country Group A:5" = {FR, DE, JP}
set D5 "Country Group D:5" = {CN, RU, NI from 2024-03-15}
define x515(eccn) = eccn startswith {"9A515", "9E515"}
rule ear.rs1 "Spacecraft need a licence (RS1)" cite "15 CFR 742.6(a)(1)"
  when x515(item.classification.eccn) and destination not in {AU, CA, GB}
  then license_required
rule ear.sta "STA (c)(1)" cite "15 CFR 740.20(c)(1)"
  exception to ear.rs1
  when destination in A5 and not "us-entity-list" in end_user.lists
  then authorized "STA"
rule ear.sta.limit "STA is not available for remote-sensing spacecraft" cite "ECCN 9A515 STA note"
  exception to ear.sta
  when item.classification.eccn startswith "9A515.a.1"
  then license_required
rule ear.d5 "Arms-embargoed destination" cite "15 CFR 742.4(b)(1)(ii)"
  when x515(item.classification.eccn) and destination in D5
  then prohibited
'''


@pytest.fixture
def ps(policy_dir):
    return policy_dir({"us-ear/us-ear.policy": EAR})


def fired(d):
    return sorted({f["rule"] for r in d["regimes"] for f in r["findings"]})


def test_rule_fires_per_item_and_names_it(ps):
    tx = base_tx(destination="BR")
    tx["items"].append({"id": "p-2", "origin": "US", "value": 5, "classification": {"eccn": "EAR99"}, "components": []})
    d = decide(ps, tx)
    f = regime(d, "us-ear")["findings"]
    assert [(x["rule"], x["item"]) for x in f] == [("ear.rs1", "sat-1")]
    assert f[0]["because"] == {"items[0].classification.eccn": "9A515.a.1", "destination": "BR"}
    assert f[0]["cite"] == "15 CFR 742.6(a)(1)"
    assert d["outcome"] == "license_required" and d["driven_by"] == ["us-ear"]


def test_exception_defeats_rule_and_names_authorization(ps):
    tx = base_tx(destination="DE")
    tx["items"][0]["classification"]["eccn"] = "9A515.x"
    d = decide(ps, tx)
    r = regime(d, "us-ear")
    assert r["outcome"] == "authorized"
    assert [(f["rule"], f["authorization"], f.get("exception_to")) for f in r["findings"]] == [("ear.sta", "STA", "ear.rs1")]
    assert r["missing"] == []


def test_exception_to_an_exception(ps):
    d = decide(ps, base_tx(destination="DE"))  # 9A515.a.1: STA excluded
    r = regime(d, "us-ear")
    assert r["outcome"] == "license_required"
    assert [f["rule"] for f in r["findings"]] == ["ear.sta.limit"]


def test_order_of_rules_does_not_matter(policy_dir, tmp_path):
    lines = EAR.strip().split("\nrule ")
    reordered = lines[0] + "".join("\nrule " + x for x in reversed(lines[1:])) + "\n"
    ps2 = policy_dir({"us-ear/us-ear.policy": reordered})
    tx = base_tx(destination="DE")
    tx["items"][0]["classification"]["eccn"] = "9A515.x"
    assert regime(decide(ps2, tx), "us-ear")["findings"][0]["rule"] == "ear.sta"


def test_unknown_fact_in_exception_keeps_the_rule_and_lists_it(ps):
    tx = base_tx(destination="DE")
    tx["items"][0]["classification"]["eccn"] = "9A515.x"
    del tx["end_user"]["lists"]
    r = regime(decide(ps, tx), "us-ear")
    assert r["outcome"] == "license_required"
    assert [f["rule"] for f in r["findings"]] == ["ear.rs1"]
    assert r["missing"] == ["end_user.lists"]


def test_unknown_classification_makes_regime_indeterminate(ps):
    tx = base_tx(destination="BR")
    del tx["items"][0]["classification"]["eccn"]
    d = decide(ps, tx)
    r = regime(d, "us-ear")
    assert r["outcome"] == "indeterminate"
    assert r["missing"] == ["items[0].classification.eccn"]
    assert d["outcome"] == "indeterminate" and d["missing"] == ["items[0].classification.eccn"]


def test_null_classification_means_checked_not_listed(ps):
    tx = base_tx(destination="BR")
    tx["items"][0]["classification"]["eccn"] = None
    r = regime(decide(ps, tx), "us-ear")
    assert r["outcome"] == "no_license_required" and r["missing"] == []


def test_unknown_that_cannot_make_it_stricter_is_not_missing(ps):
    # prohibited is already known for sat-1: an unknown second item cannot make it stricter
    tx = base_tx(destination="CN")
    tx["items"].append({"id": "p-2", "origin": "US", "value": 5, "components": []})
    r = regime(decide(ps, tx), "us-ear")
    assert r["outcome"] == "prohibited" and r["missing"] == []


def test_dated_set_member(ps):
    tx = base_tx(destination="NI", date="2024-03-14")
    assert "ear.d5" not in fired(decide(ps, tx))
    assert "ear.d5" in fired(decide(ps, base_tx(destination="NI", date="2024-03-15")))
    # --as-of overrides the transaction date
    assert "ear.d5" in fired(decide(ps, base_tx(destination="NI", date="2024-03-14"), as_of="2024-03-15"))


KLEENE = '''
regime k "K" binding version "1" source "s"
rule k.and "and" cite "c" when item.parameters.payload_kg >= 500 and item.parameters.range_km >= 300 then prohibited
rule k.or "or" cite "c" when item.parameters.payload_kg >= 500 or item.parameters.range_km >= 300 then license_required
rule k.not "not" cite "c" when not item.parameters.complete_system then license_required
'''


@pytest.mark.parametrize("params,outcome,missing", [
    ({"payload_kg": 600, "range_km": 400, "complete_system": True}, "prohibited", []),
    ({"payload_kg": 100, "complete_system": True}, "indeterminate", ["items[0].parameters.range_km"]),  # unknown or false
    ({"range_km": 100, "complete_system": True}, "indeterminate", ["items[0].parameters.payload_kg"]),
    ({"payload_kg": 100, "range_km": 100, "complete_system": True}, "no_license_required", []),
    ({"payload_kg": 600, "complete_system": True}, "indeterminate", ["items[0].parameters.range_km"]),  # or is true -> LR known; and unknown -> could be prohibited
    ({"range_km": 100, "payload_kg": 100}, "indeterminate", ["items[0].parameters.complete_system"]),
])
def test_kleene_logic(policy_dir, params, outcome, missing):
    ps = policy_dir({"k/k.policy": KLEENE})
    tx = base_tx()
    tx["items"][0]["parameters"] = params
    r = regime(decide(ps, tx), "k")
    assert (r["outcome"], r["missing"]) == (outcome, missing)


def test_unknown_and_false_is_false(policy_dir):
    ps = policy_dir({"k/k.policy": KLEENE})
    tx = base_tx()
    tx["items"][0]["parameters"] = {"payload_kg": 100, "range_km": 100, "complete_system": True}
    del tx["items"][0]["parameters"]["range_km"]
    # k.and: unknown and false -> false; k.or: false or unknown -> unknown
    r = regime(decide(ps, tx), "k")
    assert r["outcome"] == "indeterminate" and r["missing"] == ["items[0].parameters.range_km"]


TREE = '''
regime us-itar "ITAR" binding version "1" source "s"
applies when any i in items: i.classification.usml is known and i.classification.usml != null
  or (any c in components_of(i): c.classification.usml != null)
rule itar.see "A USML part anywhere in the item" cite "22 CFR 123.9"
  when any c in components_of(item): c.classification.usml != null
  then license_required
'''

SHARE = '''
regime us-ear "EAR" binding version "1" source "s"
define us_value(x) = (sum c.value for c in x.components where c.origin == "US")
  + (sum us_value(c) for c in x.components where c.origin != "US")
rule ear.share "US share above 25%" cite "x" when us_value(item) / item.value > 25% then license_required
'''


def sat(components):
    return {"id": "sat", "origin": "FR", "value": 100, "classification": {"usml": None}, "components": components}


def test_component_tree_at_any_depth(policy_dir):
    ps = policy_dir({"us-itar/p.policy": TREE})
    deep = sat([{"id": "bus", "origin": "FR", "value": 50, "components": [
        {"id": "twta", "origin": "US", "value": 1, "classification": {"usml": "XV(e)"}, "components": []}]}])
    d = decide(ps, base_tx(items=[deep], ship_from="FR", destination="CN"))
    f = regime(d, "us-itar")["findings"][0]
    assert f["rule"] == "itar.see"
    assert f["because"] == {"items[0].components[0].components[0].classification.usml": "XV(e)"}


def test_component_without_bill_of_materials_is_unknown(policy_dir):
    ps = policy_dir({"us-itar/p.policy": TREE})
    part = {"id": "bus", "origin": "FR", "value": 50, "classification": {"usml": None}}  # no components key
    d = decide(ps, base_tx(items=[sat([part])], ship_from="FR", destination="CN"))
    r = regime(d, "us-itar")
    assert r["outcome"] == "indeterminate"
    assert "items[0].components[0].components" in r["missing"]


def test_recursive_definition_sums_first_us_level(policy_dir):
    ps = policy_dir({"us-ear/p.policy": SHARE})
    tree = sat([
        {"id": "a", "origin": "US", "value": 20, "classification": {"usml": None},
         "components": [{"id": "a1", "origin": "US", "value": 20, "classification": {"usml": None}, "components": []}]},
        {"id": "b", "origin": "DE", "value": 30, "classification": {"usml": None},
         "components": [{"id": "b1", "origin": "US", "value": 6, "classification": {"usml": None}, "components": []}]},
    ])
    r = regime(decide(ps, base_tx(items=[tree], ship_from="FR")), "us-ear")
    assert [f["rule"] for f in r["findings"]] == ["ear.share"]   # (20 + 6) / 100 > 25 %: a1 is not counted twice
    tree["components"][1]["components"][0]["value"] = 5
    assert regime(decide(ps, base_tx(items=[tree], ship_from="FR")), "us-ear")["findings"] == []


def test_regime_not_applicable(policy_dir):
    ps = policy_dir({"us-itar/p.policy": TREE})
    d = decide(ps, base_tx(items=[sat([])], ship_from="FR"))
    assert regime(d, "us-itar")["outcome"] == "not_applicable"
    assert d["outcome"] == "not_applicable" and d["driven_by"] == []


def test_rule_effective_period(policy_dir):
    text = '''
regime x "X" binding version "1" source "s"
rule x.old "old" cite "c" until 2024-11-30 when destination == "CN" then prohibited
rule x.new "new" cite "c" from 2024-12-01 when destination == "CN" then license_required
'''
    ps = policy_dir({"x/x.policy": text})
    assert fired(decide(ps, base_tx(destination="CN", date="2024-11-30"))) == ["x.old"]
    assert fired(decide(ps, base_tx(destination="CN", date="2024-12-01"))) == ["x.new"]


def test_regime_in_force_period(policy_dir):
    text = 'regime x "X" binding version "1" source "s" from 2020-12-01\nrule x.a "a" cite "c" when true then license_required\n'
    ps = policy_dir({"x/x.policy": text})
    r = regime(decide(ps, base_tx(date="2019-06-01")), "x")
    assert r["outcome"] == "not_applicable" and "not in force" in r["note"]


def test_advisory_regime_does_not_set_the_outcome(policy_dir):
    adv = 'regime mtcr "MTCR" advisory version "1" source "s"\nrule mtcr.a "a" cite "c" when true then prohibited\n'
    bind = 'regime x "X" binding version "1" source "s"\nrule x.a "a" cite "c" when true then license_required\n'
    ps = policy_dir({"mtcr/m.policy": adv, "x/x.policy": bind})
    d = decide(ps, base_tx())
    assert regime(d, "mtcr")["outcome"] == "prohibited"
    assert d["outcome"] == "license_required" and d["driven_by"] == ["x"]


def test_names_match_without_case_or_punctuation_and_aliases(policy_dir):
    text = '''
regime cn "CN" binding version "1" source "s"
set listed = {"Sierra Nevada Corporation" aka "SNC" from 2025-04-04, "IHI Aerospace" aka "IHI Aerospace Co., Ltd."}
rule cn.listed "Listed party" cite "c" when end_user.name in listed then prohibited
'''
    ps = policy_dir({"cn/cn.policy": text})
    for name, hit in [("SIERRA NEVADA CORPORATION", True), ("snc", True), ("IHI AEROSPACE CO LTD", True),
                      ("Sierra Nevada", False)]:
        tx = base_tx(date="2025-06-01")
        tx["end_user"]["name"] = name
        assert (fired(decide(ps, tx)) == ["cn.listed"]) is hit, name
    tx = base_tx(date="2025-04-03")
    tx["end_user"]["name"] = "SNC"
    assert fired(decide(ps, tx)) == []


def test_conflict_is_reported_not_resolved(policy_dir):
    us = 'regime us-ear "EAR" binding version "1" source "s"\nrule ear.a "a" cite "c" when destination == "CN" then prohibited\n'
    cn = '''regime cn-export-control "CN" binding version "1" source "s"
conflict cn.afsl "Complying may be a foreign discriminatory measure" cite "AFSL Art. 12"
  with us-ear, cn-export-control
  when outcome("us-ear") == "prohibited" and end_user.country == "CN"
'''
    ps = policy_dir({"us-ear/u.policy": us, "cn/c.policy": cn})
    tx = base_tx(destination="CN")
    tx["end_user"]["country"] = "CN"
    d = decide(ps, tx)
    assert [c["conflict"] for c in d["conflicts"]] == ["cn.afsl"]
    assert d["conflicts"][0]["regimes"] == ["us-ear", "cn-export-control"]
    assert d["outcome"] == "prohibited"


def test_unverified_rule_is_marked_in_findings(policy_dir):
    text = 'regime x "X" binding version "1" source "s"\nrule x.a "a" cite "c" unverified "wording not checked" when true then license_required\n'
    ps = policy_dir({"x/x.policy": text})
    f = regime(decide(ps, base_tx()), "x")["findings"][0]
    assert f["unverified"] == "wording not checked"


GA = '''
regime r "R" binding version "1" source "s"
rule r.base "Listed item needs a licence" cite "x" when item.classification.eu != null then license_required
rule r.ga "General authorisation to JP" cite "x" exception to r.base when destination == "JP" then authorized "GA"
rule r.ga.limit "Not for a missile end use" cite "x" exception to r.ga when "missile" in end_use then license_required
'''


@pytest.mark.parametrize("end_use,outcome,rules,missing", [
    (None, "license_required", ["r.base"], ["end_use"]),        # the limit is unknown: the authorisation cannot be relied on
    ([], "authorized", ["r.ga"], []),
    (["missile"], "license_required", ["r.ga.limit"], []),
])
def test_unknown_limit_of_an_exception_never_relaxes(policy_dir, end_use, outcome, rules, missing):
    ps = policy_dir({"r/r.policy": GA})
    tx = {"id": "T1", "date": "2026-01-01", "destination": "JP", "items": [{"id": "i1", "classification": {"eu": "9A004.b"}}]}
    if end_use is not None:
        tx["end_use"] = end_use
    r = regime(decide(ps, tx), "r")
    assert (r["outcome"], [f["rule"] for f in r["findings"]], r["missing"]) == (outcome, rules, missing)
