"""Every answer right, or openly unsure: encoded scope, partial lists, the basis of every "no",
bounds on an indeterminate answer, questions in words, warnings, advisory regimes in text.
(The semantics themselves are in tests/conformance/11-14; this file tests the decision around them.)"""

import datetime as dt

from conftest import base_tx, decide, regime
from exportctl.codegen import compile_fast
from exportctl.render import decision_text

EAR = '''
regime us-ear "EAR" binding
  version "2026-07-23" source "15 CFR"
encodes item.classification.eccn {"9A515", "EAR99"} cite "15 CFR Part 774, Supp. No. 1 (Category 9 rows encoded here)"
define x515(i) = i.classification.eccn startswith "9A515"
rule ear.rs1 "Spacecraft need a licence (RS1)" cite "15 CFR 742.6(a)(1)"
  when x515(item) and destination not in {AU, CA, GB}
  then license_required
rule ear.sta "STA" cite "15 CFR 740.20(c)(1)" exception to ear.rs1
  when destination in {FR, DE, JP} and item.parameters.separable_mt_propulsion == false
  then authorized "STA"
rule ear.el "Entity List" cite "15 CFR 744.16" when any p in parties: "us-entity-list" in p.lists
  then license_required
rule ear.gp4 "Denied party" cite "15 CFR 736.2(b)(4)" when any p in parties: "us-denied-persons" in p.lists
  then prohibited denial absolute
'''
MTCR = '''
regime mtcr "MTCR" advisory
  version "2022-10-21" source "MTCR Annex"
applies when any i in items: i.classification.mtcr != null cite "MTCR Guidelines para. 1"
rule mtcr.cat1 "Category I" cite "MTCR Guidelines para. 2"
  when item.classification.mtcr startswith "1." then prohibited denial presumption_of_denial
'''


def policies(policy_dir):
    return policy_dir({"us-ear/us-ear.policy": EAR, "mtcr/mtcr.policy": MTCR})


def base(**over):
    tx = base_tx(**over)
    tx["items"][0]["classification"]["mtcr"] = None
    return tx


def both(ps, tx, as_of=None):
    """The closure evaluator's decision, after checking the compiled one gives the same."""
    d = decide(ps, tx, as_of)
    day = dt.date.fromisoformat(as_of or tx["date"])
    fast = compile_fast(ps.regimes, None, strict=True).evaluate(tx, day, ps.digest)
    assert fast == d
    return d


def test_eccn_outside_the_encoded_scope_is_never_no_licence(policy_dir):
    ps = policies(policy_dir)
    tx = base(destination="CN", parties=[])
    tx["items"][0]["classification"]["eccn"] = "3A001.a.1"
    d = both(ps, tx)
    r = regime(d, "us-ear")
    assert r["outcome"] == "indeterminate"
    (f,) = r["findings"]
    assert f["rule"] == "us-ear.scope.eccn" and f["item"] == "sat-1" and f["outcome"] == "indeterminate"
    assert "3A001.a.1 is outside what this policy encodes" in f["message"]
    assert f["cite"].startswith("15 CFR Part 774")
    assert (r["at_least"], r["at_most"]) == ("no_license_required", "prohibited")
    # the same item classified inside the scope, or checked and not listed, is decided
    tx["items"][0]["classification"]["eccn"] = "EAR99"
    assert regime(both(ps, tx), "us-ear")["outcome"] == "no_license_required"
    tx["items"][0]["classification"]["eccn"] = None
    assert regime(both(ps, tx), "us-ear")["outcome"] == "no_license_required"


def test_no_licence_carries_what_was_checked(policy_dir):
    ps = policies(policy_dir)
    tx = base(destination="GB", parties=[{"role": "purchaser", "name": "Airbus", "country": "GB", "lists": []}])
    d = both(ps, tx)
    r = regime(d, "us-ear")
    assert r["outcome"] == "no_license_required"
    by_rule = {c["rule"]: c for c in r["checked"]}
    assert by_rule["ear.rs1"]["failed"] == "destination not in {AU, CA, GB}"
    assert by_rule["ear.rs1"]["facts"] == {"destination": "GB"}
    assert by_rule["ear.rs1"]["cite"] == "15 CFR 742.6(a)(1)" and by_rule["ear.rs1"]["item"] == "sat-1"
    assert by_rule["ear.el"]["facts"] == {"parties[0].lists": []}
    # a regime that does not apply says why
    m = regime(d, "mtcr")
    assert m["outcome"] == "not_applicable"
    assert m["checked"] == [{"rule": "mtcr.applies", "cite": "MTCR Guidelines para. 1", "item": None,
                             "message": "when the regime applies",
                             "failed": "any i in items: i.classification.mtcr != null",
                             "facts": {"items[0].classification.mtcr": None}}]


def test_licence_required_lists_the_exception_considered(policy_dir):
    ps = policies(policy_dir)
    d = both(ps, base(destination="BR", parties=[]))
    r = regime(d, "us-ear")
    sta = [c for c in r["checked"] if c["rule"] == "ear.sta"]
    assert sta == [{"rule": "ear.sta", "cite": "15 CFR 740.20(c)(1)", "item": "sat-1", "message": "STA",
                    "outcome": "authorized", "exception_to": "ear.rs1", "authorization": "STA",
                    "failed": "destination in {FR, DE, JP}", "facts": {"destination": "BR"}}]


def test_questions_name_the_item_the_rules_and_whether_one_answer_settles(policy_dir):
    ps = policies(policy_dir)
    tx = base(destination="DE", parties=[])
    d = both(ps, tx)   # STA's separable_mt_propulsion fact is unknown: the licence requirement stands
    assert d["outcome"] == "license_required"
    (q,) = d["questions"]
    assert q["fact"] == "items[0].parameters.separable_mt_propulsion" and q["item"] == "sat-1"
    assert q["ask"].startswith("For item sat-1: what is its")
    assert q["rules"] == [{"rule": "ear.rs1", "cite": "15 CFR 742.6(a)(1)"}]
    del tx["parties"]
    d = both(ps, tx)
    assert d["outcome"] == "indeterminate" and (d["at_least"], d["at_most"]) == ("license_required", "prohibited")
    asked = {q["fact"]: q for q in d["questions"]}
    assert asked["parties"]["settles"] is True
    assert {r["rule"] for r in asked["parties"]["rules"]} == {"ear.el", "ear.gp4"}


def test_advisory_questions_are_apart_and_never_make_the_decision_indeterminate(policy_dir):
    ps = policies(policy_dir)
    tx = base(destination="GB", parties=[])
    tx["items"][0]["classification"]["mtcr"] = "1.A.1"
    d = both(ps, tx)
    assert regime(d, "mtcr")["outcome"] == "prohibited" and regime(d, "mtcr")["denial_kind"] == "presumption_of_denial"
    assert d["outcome"] == "no_license_required"
    text = decision_text(d)
    assert "Advisory regimes" in text and "partners would deny (strong presumption of denial)" in text
    assert " PROHIBITED " not in text


def test_denial_kind_on_an_absolute_ban(policy_dir):
    ps = policies(policy_dir)
    d = both(ps, base(destination="DE", parties=[
        {"role": "ultimate_consignee", "name": "X", "country": "DE", "lists": ["us-denied-persons"]}]))
    r = regime(d, "us-ear")
    assert r["outcome"] == "prohibited" and r["denial_kind"] == "absolute"
    assert "(absolute ban)" in decision_text(d)


def test_warnings_stale_law_and_custom_policies(policy_dir):
    ps = policies(policy_dir)
    d = both(ps, base(destination="BR", parties=[]), as_of="2028-01-01")
    codes = {(w["code"], w.get("regime")) for w in d["warnings"]}
    assert ("law-may-have-changed", "us-ear") in codes
    assert ("law-may-have-changed", "mtcr") not in codes       # not applicable: nothing to warn about
    d = both(ps, base(destination="BR", parties=[]))
    assert not any(w["code"] == "law-may-have-changed" for w in d["warnings"])
    assert ps.bundled is False


def test_unverified_rule_deciding_the_outcome_is_a_warning(policy_dir):
    ps = policy_dir({"us-ear/us-ear.policy": EAR.replace(
        'rule ear.el "Entity List" cite "15 CFR 744.16"',
        'rule ear.el "Entity List" cite "15 CFR 744.16" unverified "not confirmed"')})
    d = decide(ps, base(destination="GB", parties=[
        {"role": "purchaser", "name": "Y", "country": "GB", "lists": ["us-entity-list"]}]))
    assert [w["code"] for w in d["warnings"]] == ["unverified-rule-decided"]


def test_partial_list_asks_a_person(policy_dir):
    ps = policy_dir({"eu-dual-use/eu.policy": '''
regime eu-dual-use "EU" binding version "1" source "Reg. 2021/821"
set embargoed "Arms embargoes" cite "Art. 4(1)(b)" partial "only the confirmed embargoes" = {RU, BY}
rule eu.art4 "Military end use in an embargoed country" cite "Art. 4(1)(b)"
  when "military" in end_use and destination in embargoed then license_required
'''})
    tx = base(destination="AM", end_use=["military"])
    d = both(ps, tx)
    assert d["outcome"] == "indeterminate"
    (q,) = d["questions"]
    assert q["fact"] == "destination in eu-dual-use.embargoed"
    assert q["ask"].startswith("Is AM on `eu-dual-use.embargoed`?") and "partial" in q["ask"]
    tx["destination"] = "RU"
    assert both(ps, tx)["outcome"] == "license_required"
    tx["end_use"] = ["telecommunications"]
    assert both(ps, tx)["outcome"] == "no_license_required"
