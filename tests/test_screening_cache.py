"""What screening remembers or skips to be cheap changes nothing: a party's hits remembered
within a list set never answer for another date or a changed list, the remembered run matches
are the ones worked out afresh, and the second decision left out when the review matches add
no list is the one it would have been."""

import copy
import datetime as _dt
import shutil

import pytest

from exportctl import facts
from exportctl.api import decide, load_policies
from exportctl.policyset import policies_root
from exportctl.screening import Options, model
from exportctl.screening.match import Scorer
from test_screening import lists, ps, tx  # noqa: F401 - the same transaction and fixtures

import importlib

screen_mod = importlib.import_module("exportctl.screening.screen")

LISTED = _dt.date(2022, 8, 24)      # us-entity-list/zhuhai-orbita


def keys(hits):
    return [(h.entry.key, h.score) for h in hits]


def test_remembered_hits_are_per_date(lists):
    names = ["Zhuhai Orbita Control Systems"]
    after = screen_mod.screen_names(lists, names, "CN", LISTED)
    before = screen_mod.screen_names(lists, names, "CN", LISTED - _dt.timedelta(days=1))
    assert "us-entity-list/zhuhai-orbita" in [k for k, _ in keys(after)]
    assert "us-entity-list/zhuhai-orbita" not in [k for k, _ in keys(before)]
    # and again, in the other order: each date its own answer
    assert keys(screen_mod.screen_names(lists, names, "CN", LISTED)) == keys(after)


def test_remembered_hits_are_not_reused_for_a_changed_list(tmp_path, ps):
    root = tmp_path / "policies"
    shutil.copytree(policies_root(), root)
    mine = load_policies(root)
    data = tx({"name": "Quixotic Vortex Dynamics", "lists": []})
    first = decide(mine, facts.from_data(data, folder=mine.schema_folder))
    assert first["screening"]["parties"][0]["status"] == "none"
    f = root / "lists" / "us-entity-list.yaml"
    f.write_text(f.read_text(encoding="utf-8") + (
        "  - id: quixotic-vortex\n    name: \"Quixotic Vortex Dynamics\"\n    countries: [CN]\n"
        "    listed: \"2024-01-01\"\n    cite: \"test\"\n    source: \"test\"\n"), encoding="utf-8")
    model.forget()          # as a program that has just changed a list file
    second = decide(mine, facts.from_data(data, folder=mine.schema_folder))
    (party,) = second["screening"]["parties"]
    assert party["status"] == "match" and party["matches"][0]["entry"] == "quixotic-vortex"
    assert second["screening"]["lists_digest"] != first["screening"]["lists_digest"]
    model.forget()


def test_remembered_run_matches_equal_fresh_ones(lists):
    index = lists.index()
    scorer = index.scorer
    fresh = Scorer(index.params)
    words = ["zhuhai", "orbita", "cast", "harbin", "haerbin", "zhuhaioubite", "beijing", "502", "xx"]
    for preps in index.prepared:
        for ep in preps:
            for w in words:
                for loose in (False, True):
                    got = scorer._run_match(w, ep.runs, loose)
                    assert got == fresh._run_match_new(w, ep.runs, loose)
                    assert scorer._run_match(w, ep.runs, loose) is got     # remembered


def test_review_adds_says_whether_a_second_decision_could_differ(ps, lists):
    day = _dt.date(2026, 6, 1)
    cases = {(): True, ("us-entity-list",): False, ("us-sdn", "us-entity-list"): True,
             ("us-entity-list", "us-sdn"): False}
    for given, want in cases.items():
        data = tx({"name": "Zhuhai Oubite", "lists": list(given)})
        s = screen_mod.screen(lists, data, day)
        assert s.has_review
        assert s.review_adds(data) is want, given


@pytest.mark.parametrize("given", [[], ["us-entity-list"], ["us-sdn", "us-entity-list"], ["us-entity-list", "us-sdn"]])
def test_the_second_decision_left_out_is_the_one_it_would_have_been(ps, monkeypatch, given):
    data = tx({"name": "Zhuhai Oubite", "lists": given})
    got = decide(ps, facts.from_data(copy.deepcopy(data)), screening=Options())
    monkeypatch.setattr(screen_mod.Screening, "review_adds", lambda self, data: True)
    always = decide(ps, facts.from_data(copy.deepcopy(data)), screening=Options())
    assert got == always
