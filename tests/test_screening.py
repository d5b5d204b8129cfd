"""Screening: names matched with their reasons, decisions that cite the listing, review-level
matches that make a decision openly unsure, good guys, switches, digests, list imports."""

import copy
import datetime as _dt
import io
import json
import shutil
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from exportctl import facts
from exportctl.api import decide, load_policies
from exportctl.cli import main
from exportctl.policyset import policies_root
from exportctl.screening import Options, model
from exportctl.screening.match import Scorer
from exportctl.screening.names import Normaliser

FIX = Path(__file__).parent / "fixtures" / "screening"
SCHEMA = json.loads((policies_root() / "schema" / "decision.schema.json").read_text(encoding="utf-8"))


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(""), stdout=out, stderr=err, env={})
    return code, out.getvalue(), err.getvalue()


def tx(end_user: dict, date="2026-06-01", **extra) -> dict:
    data = {
        "id": "TX-S", "date": date, "ship_from": "US", "destination": "CN",
        "exporter": {"name": "Example Space Inc.", "country": "US"},
        "end_user": {"country": "CN", "kind": "research", **end_user},
        "end_use": ["scientific_research"], "consignees": [], "parties": [],
        "items": [{"id": "p1", "description": "connector", "type": "commodity", "origin": "US", "value": 1000,
                   "components": [],
                   "classification": {"usml": None, "eccn": "EAR99", "eu": None, "mtcr": None, "wassenaar": None, "cn": None}}],
    }
    data.update(extra)
    return data


@pytest.fixture(scope="module")
def ps():
    return load_policies()


@pytest.fixture(scope="module")
def lists():
    return model.load(policies_root())


def decision(ps, data, **kw):
    d = decide(ps, facts.from_data(data), **kw)
    assert list(Draft202012Validator(SCHEMA).iter_errors(d)) == []
    return d


def regime(d, rid):
    return next(r for r in d["regimes"] if r["regime"] == rid)


def fired(d):
    return {f["rule"] for r in d["regimes"] for f in r["findings"]}


# ---------------------------------------------------------------- matching

def test_pinyin_matches_chinese_script_and_says_which_variants_paired(lists):
    hits = lists.index().search(["Zhuhai Oubite Yuhang Keji"], _dt.date(2026, 1, 1), "CN")
    assert hits[0].entry.key == "us-entity-list/zhuhai-orbita"
    assert hits[0].entry_name == "珠海欧比特宇航科技股份有限公司"
    assert {(p.party, p.entry, p.how) for p in hits[0].pairs} >= {("zhuhai", "zhu hai", "joined"), ("oubite", "ou bi te", "joined")}


def test_company_forms_case_and_punctuation_do_not_count(lists):
    n = Normaliser(lists.params)
    assert n.tokens("IHI AEROSPACE CO., LTD.") == n.tokens("IHI Aerospace") == ("ihi", "aerospace")
    assert n.tokens("珠海欧比特宇航科技股份有限公司") == n.tokens("珠海欧比特宇航科技")


def test_different_institute_numbers_never_match(lists):
    s = Scorer(lists.params)
    score, _ = s.score(("cast", "502", "research", "institute"), ("cast", "513", "research", "institute"))
    assert score <= lists.params.number_mismatch_cap < lists.params.review


def test_abbreviation_of_the_words_matches(lists):
    hits = lists.index().search(["BMTI"], _dt.date(2026, 1, 1), "CN")
    assert hits and hits[0].entry.key == "us-entity-list/casc-9-772"
    assert hits[0].pairs[0].how == "abbreviation"


def test_entries_not_yet_listed_or_removed_are_not_screened(lists):
    assert lists.index().search(["IHI Aerospace"], _dt.date(2026, 2, 23), "JP") == []
    assert lists.index().search(["IHI Aerospace"], _dt.date(2026, 2, 24), "JP")[0].score == 1.0


def test_a_match_in_another_country_is_lowered_to_review(lists):
    h = lists.index().search(["IHI Aerospace"], _dt.date(2026, 3, 1), "US")[0]
    assert h.country_penalty and lists.params.review <= h.score < lists.params.threshold


def test_of_two_spellings_that_score_the_same_the_entrys_first_is_reported(lists, monkeypatch):
    # "IHI Aerospace Co., Ltd." and its alias "IHI Aerospace" are the same tokens: both score 1.0.
    # The entry's own name (its first spelling) is reported whatever order the candidates come
    # in (a set of (entry, spelling) pairs gathered from string keys: its order is no rule).
    from exportctl.screening.index import Index

    index = lists.index()
    found = Index.candidates
    got = set()
    for order in (sorted, lambda c: sorted(c, reverse=True)):
        monkeypatch.setattr(Index, "candidates", lambda self, names, order=order: order(found(self, names)))
        for names in (["IHI Aerospace"], ["Gigra Nisu Systems", "IHI Aerospace"]):
            h = index.search(names, _dt.date(2026, 3, 1), "JP")[0]
            got.add((h.entry_name, h.party_name, h.score))
    assert got == {("IHI Aerospace Co., Ltd.", "IHI Aerospace", 1.0)}


# ---------------------------------------------------------------- decisions

def test_a_match_makes_the_entity_list_rule_fire_and_the_screening_cites_the_listing(ps):
    d = decision(ps, tx({"name": "Shandong Aerospace Electronics Technology Inst.", "lists": []}))
    assert "ear.744_16.entity_list" in fired(d)
    assert regime(d, "us-ear")["outcome"] == "license_required"
    (party,) = d["screening"]["parties"]
    assert party["status"] == "match" and party["party"] == "end_user"
    m = party["matches"][0]
    assert (m["list"], m["entry"], m["cite"]) == ("us-entity-list", "cast-513", "87 FR 51876 (24 Aug 2022)")
    assert m["matched"] == {"party": "Shandong Aerospace Electronics Technology Inst.",
                            "entry": "Shandong Aerospace Electronics Technology Institute"}
    assert m["listed"] == "2022-08-24"


def test_no_screening_reads_only_the_transactions_own_lists(ps):
    data = tx({"name": "Shandong Aerospace Electronics Technology Inst.", "lists": []})
    d = decision(ps, data, screening=Options(enabled=False))
    assert "ear.744_16.entity_list" not in fired(d)
    assert d["screening"]["enabled"] is False and d["screening"]["parties"] == []


def test_every_party_is_screened_consignees_and_role_parties_too(ps):
    data = tx({"name": "Example University", "lists": []},
              consignees=[{"name": "Zhuhai Orbita Control Systems Co Ltd", "country": "CN",
                           "role": "intermediate_consignee", "lists": []}],
              parties=[{"role": "purchaser", "name": "Spacety Co. Ltd", "country": "CN", "lists": []}])
    d = decision(ps, data)
    status = {p["party"]: (p["status"], [m["list"] for m in p["matches"]]) for p in d["screening"]["parties"]}
    assert status["end_user"] == ("none", [])
    assert status["consignees[0]"] == ("match", ["us-entity-list"])
    assert status["parties[0]"] == ("match", ["us-sdn"])


def test_a_review_level_match_makes_the_decision_indeterminate_with_the_question(ps):
    d = decision(ps, tx({"name": "Zhuhai Oubite", "lists": []}))
    (party,) = d["screening"]["parties"]
    assert party["status"] == "review"
    ear = regime(d, "us-ear")
    assert ear["outcome"] == "indeterminate" and ear["at_most"] == "license_required"
    fact = "end_user.name in us-entity-list/zhuhai-orbita"
    assert fact in ear["missing"] and fact in d["missing"]
    q = next(q for q in d["questions"] if q["fact"] == fact)
    assert "Zhuhai Oubite" in q["ask"] and "Zhuhai Orbita Control Systems" in q["ask"]
    assert q["regimes"] == ["us-ear"] and [r["rule"] for r in q["rules"]] == ["ear.744_16.entity_list"]
    assert d["screening"]["questions"][0]["fact"] == fact


def test_a_review_match_that_changes_nothing_leaves_the_outcome(ps):
    # already on the Entity List by the exporter's own screening: the review match cannot add anything
    base = decision(ps, tx({"name": "Example University", "lists": ["us-entity-list"]}), screening=Options(enabled=False))
    d = decision(ps, tx({"name": "Zhuhai Oubite", "lists": ["us-entity-list"]}))
    assert regime(d, "us-ear")["outcome"] == regime(base, "us-ear")["outcome"]
    assert d["screening"]["questions"]


def test_screening_never_removes_the_transactions_own_lists(ps):
    d = decision(ps, tx({"name": "Example University", "lists": ["us-entity-list"]}))
    assert "ear.744_16.entity_list" in fired(d)


def test_the_transaction_with_matched_lists_is_a_copy_the_original_is_untouched(lists):
    import importlib

    screen_mod = importlib.import_module("exportctl.screening.screen")   # (the package's `screen` is the function)
    data = tx({"name": "Shandong Aerospace Electronics Technology Inst.", "lists": ["us-sdn"]},
              consignees=[{"name": "Quiet Harbour Logistics", "country": "HK", "role": "freight_forwarder", "lists": []},
                          {"name": "CAST 513 Research Institute", "country": "CN", "role": "freight_forwarder", "lists": []}])
    before = copy.deepcopy(data)
    s = screen_mod.screen(lists, data, _dt.date(2026, 6, 1))
    out = s.augmented(data)
    assert data == before                                        # nothing of the original changed
    assert out["end_user"]["lists"] == ["us-entity-list", "us-sdn"]
    assert out["consignees"][1]["lists"] == ["us-entity-list"] and out["consignees"][0]["lists"] == []
    assert out["consignees"][0] is data["consignees"][0]         # a party nothing was added to is shared
    assert out["items"] is data["items"]
    assert s.augmented(data, with_review=True) == out            # no review-level match here


def test_a_party_not_screened_stays_unknown_and_its_match_is_reported(ps):
    d = decision(ps, tx({"name": "Shandong Aerospace Electronics Technology Institute"}))
    (party,) = d["screening"]["parties"]
    assert party["status"] == "match" and party["lists_given"] is False
    # the policies still ask for the party's lists: screening does not answer for the lists it lacks
    assert "end_user.lists" in d["missing"]


def test_a_good_guy_clears_the_pair_until_it_expires(ps):
    data = tx({"name": "Sierra Nevada Brewing Co.", "country": "US", "kind": "commercial", "lists": []},
              date="2026-03-01", ship_from="CN", destination="US")
    open_ = decision(ps, data)
    assert open_["screening"]["parties"][0]["status"] == "review"
    cleared = decision(ps, data, screening=Options(good_guys=str(FIX / "good-guys.yaml")))
    m = cleared["screening"]["parties"][0]["matches"][0]
    assert m["status"] == "cleared" and m["good_guy"]["expires"] == "2026-07-01"
    assert cleared["screening"]["questions"] == []
    later = copy.deepcopy(data)
    later["date"] = "2026-07-01"
    expired = decision(ps, later, screening=Options(good_guys=str(FIX / "good-guys.yaml")))
    m = expired["screening"]["parties"][0]["matches"][0]
    assert m["status"] == "review" and m["good_guy_expired"] == "2026-07-01"


def test_the_policy_digest_covers_the_lists(tmp_path):
    from exportctl.policyset import read_policies

    root = tmp_path / "pol"
    shutil.copytree(policies_root(), root)
    before = read_policies(root).digest
    f = root / "lists" / "cn-watch-list.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("2026-11-29", "2026-11-30"), encoding="utf-8")
    assert read_policies(root).digest != before


def test_a_policy_folder_without_lists_is_not_screened(tmp_path):
    from conftest import RS1_POLICY, base_tx, write_policies

    pol = write_policies(tmp_path / "pol", {"us-ear/us-ear.policy": RS1_POLICY})
    d = decide(load_policies(pol), facts.from_data(base_tx(destination="BR")))
    assert "screening" not in d


# ---------------------------------------------------------------- CLI

def test_screen_verb_text_and_json():
    code, out, err = run(["screen", "CAST 513 Research Inst.", "--country", "CN", "--as-of", "2026-01-01"])
    assert code == 0, err
    assert "match" in out and "us-entity-list/cast-513" in out and "87 FR 51876" in out
    code, out, _ = run(["screen", "珠海欧比特宇航科技", "--format", "json", "--as-of", "2026-01-01"])
    d = json.loads(out)
    assert d["status"] == "match" and d["matches"][0]["entry"] == "zhuhai-orbita"


def test_screen_as_of_before_the_listing_finds_nothing():
    code, out, _ = run(["screen", "IHI Aerospace", "--as-of", "2026-01-01", "--format", "json"])
    assert code == 0 and json.loads(out)["status"] == "none"


def test_lists_shows_dates_sources_and_digest():
    code, out, _ = run(["lists"])
    assert code == 0
    assert "us-entity-list-space  version 2022-08-24" in out and "87 FR 51876" in out
    code, out, _ = run(["lists", "--format", "json"])
    d = json.loads(out)
    assert d["lists_digest"].startswith("sha256:") and d["parameters"]["threshold"] > d["parameters"]["review"]


def test_evaluate_no_screening_flag(tmp_path):
    f = tmp_path / "tx.json"
    f.write_text(json.dumps(tx({"name": "CAST 513 Research Institute", "lists": []})), encoding="utf-8")
    code, out, err = run(["evaluate", str(f), "--format", "json"])
    assert code == 0, err
    assert "ear.744_16.entity_list" in fired(json.loads(out))
    code, out, _ = run(["evaluate", str(f), "--format", "json", "--no-screening"])
    d = json.loads(out)
    assert d["screening"]["enabled"] is False
    # the policy names the 2022 space entries itself: the rule still fires by name
    assert "ear.744_16.entity_list" in fired(d)


@pytest.mark.parametrize("name, fmt", [("csl.json", "csl-json"), ("csl.csv", "csl-csv")])
def test_import_consolidated_screening_list(tmp_path, name, fmt):
    out_file = tmp_path / "lists" / "csl.yaml"
    out_file.parent.mkdir()
    code, _, err = run(["lists", "import", str(FIX / name), "--out", str(out_file)])
    assert code == 0, err
    assert f"{fmt}," in err and "1 skipped" in err
    ds = model.read_dataset(out_file)
    el = next(e for e in ds.entries if e.list == "us-entity-list")
    assert el.name == "Example Orbital Dynamics Research Institute" and "示例轨道动力研究所" in el.aliases
    assert el.listed == _dt.date(2022, 8, 24) and el.cite == "87 FR 51876" and el.countries == ("CN",)
    dpl = next(e for e in ds.entries if e.list == "us-denied-persons")
    assert dpl.removed == _dt.date(2035, 1, 15) and dpl.kind == "individual"
    assert all(e.list != "us-sdn" or e.name.startswith("EXAMPLE") for e in ds.entries)


def test_imported_list_screens_in_a_policy_folder(tmp_path):
    root = tmp_path / "pol"
    shutil.copytree(policies_root(), root)
    code, _, err = run(["lists", "import", str(FIX / "csl.json"), "--out", str(root / "lists" / "csl.yaml")])
    assert code == 0, err
    code, out, _ = run(["screen", "示例轨道动力研究所", "--policies", str(root), "--format", "json", "--as-of", "2026-01-01"])
    assert json.loads(out)["matches"][0]["entry"] == "el-0001"


def test_import_followthemoney(tmp_path):
    code, out, err = run(["lists", "import", str(FIX / "ftm.json")])
    assert code == 0, err
    import yaml

    data = yaml.safe_load(out)
    by_name = {e["name"]: e for e in data["entries"]}
    sdn = by_name["Example Launch Services JSC"]
    assert sdn["list"] == "us-sdn" and sdn["listed"] == "2022-04-06" and sdn["countries"] == ["RU"]
    assert "RUSSIA-EO14024" in sdn["cite"] and sdn["aliases"] == ["AO Primer Zapusk"]
    assert by_name["Ivan Examplov"]["list"] == "us-denied-persons"
    assert data["version"] == "2026-10-01"


def test_import_of_an_unknown_data_set_asks_for_the_list(tmp_path):
    code, out, err = run(["lists", "import", str(FIX / "ftm-unknown.json")])
    assert code == 2 and "E663" in err and "--list" in err and "Traceback" not in err
    code, out, err = run(["lists", "import", str(FIX / "ftm-unknown.json"), "--list", "us-sdn"])
    assert code == 0, err


def test_import_of_a_file_that_is_no_download_is_exit_2(tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("a,b,c,d\n1,2,3,4\n", encoding="utf-8")
    code, _, err = run(["lists", "import", str(bad)])
    assert code == 2 and "E663" in err and "source" in err


def test_a_broken_list_file_is_exit_2_with_its_place(tmp_path):
    root = tmp_path / "pol"
    shutil.copytree(policies_root(), root)
    f = root / "lists" / "us-entity-list.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace('listed: "2022-08-24"', 'listed: "2022-08-24"\n    rank: 1', 1),
                 encoding="utf-8")
    code, _, err = run(["screen", "CAST", "--policies", str(root)])
    assert code == 2 and "E661" in err and "us-entity-list.yaml:" in err and "rank" in err


def test_bad_matching_parameters_are_exit_2(tmp_path):
    root = tmp_path / "pol"
    shutil.copytree(policies_root(), root)
    f = root / "lists" / "matching.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("review: 0.72", "review: 0.95"), encoding="utf-8")
    code, _, err = run(["lists", "--policies", str(root)])
    assert code == 2 and "E662" in err and "below threshold" in err


def test_a_bad_good_guy_file_is_exit_2(tmp_path):
    f = tmp_path / "gg.yaml"
    f.write_text("good_guys:\n  - party: X\n    entry: us-sdn/spacety\n", encoding="utf-8")
    code, _, err = run(["screen", "X", "--good-guys", str(f)])
    assert code == 2 and "E664" in err and "reviewed_by" in err


def test_screening_benchmark_smoke(tmp_path, monkeypatch):
    """benchmarks/screening.py runs (no timing is asserted: benchmarks are not tests)."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import screening as bench

    out = tmp_path / "r.json"
    assert bench.main(["--smoke", "--out", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["synthetic"] == 500 and r["decisions_per_s_with"] > 0 and r["parties_flagged"] > 0


def test_screening_benchmark_instruction_phase_runs(tmp_path, monkeypatch):
    """One run of --instructions (what valgrind counts) decides in a folder it writes once and reuses."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import screening as bench

    root = tmp_path / "policies"
    assert bench.main(["--smoke", "--phase", "on", "--root", str(root)]) == 0
    written = (root / "lists" / "synthetic.yaml").stat().st_mtime_ns
    assert bench.main(["--smoke", "--phase", "none", "--root", str(root)]) == 0
    assert (root / "lists" / "synthetic.yaml").stat().st_mtime_ns == written


def test_screening_benchmark_cli_runs_the_real_batch_cli_with_and_without_screening(tmp_path, monkeypatch, capsys):
    """What --instructions --cli counts under valgrind: the batch CLI on the generated JSON Lines
    with the synthetic lists, screening on and off (the same decisions but for screening)."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "benchmarks"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    import screening as bench

    root = tmp_path / "policies"
    assert bench.main(["--entries", "300", "--decisions", "30", "--phase", "cli-inputs", "--root", str(root)]) == 0
    first = tmp_path / "first.jsonl"
    assert len(first.read_text(encoding="utf-8").splitlines()) == bench.FIRST
    outs = {}
    for which in ("on", "off"):
        seen = io.StringIO()
        assert bench.run_cli(str(first), str(root), which, stdout=seen) == 0
        outs[which] = [json.loads(line) for line in seen.getvalue().splitlines()]
    assert len(outs["on"]) == len(outs["off"]) == bench.FIRST
    assert all(d["screening"]["enabled"] for d in outs["on"]) and not any(d["screening"]["enabled"] for d in outs["off"])
    assert sum(len(d["screening"]["parties"]) for d in outs["on"]) == 2 * bench.FIRST     # end user and consignee
    assert any(p["status"] != "none" for d in outs["on"] for p in d["screening"]["parties"])
    assert [d["transaction"] for d in outs["on"]] == [d["transaction"] for d in outs["off"]]


def test_the_docs_page_shows_every_bundled_list_with_its_version_and_the_parameters(lists):
    page = (Path(__file__).resolve().parent.parent / "docs" / "screening.md").read_text(encoding="utf-8")
    for d in lists.datasets:
        assert f"| `{Path(d.file).name}` | `{d.id}` | {d.version} |" in page, d.id
        assert d.source in page
    assert f"| `threshold` | {lists.params.threshold} |" in page and f"| `review` | {lists.params.review} |" in page
