"""The fast path of screening (index candidates, prepared names, the score bound that skips
pairs) finds exactly what a brute-force scan of every entry finds: same entries, same scores.
On the golden corpus and on names drawn from a generated 10,000-entry list (fixed seed), so
the index can never miss a match the scan finds."""

import datetime as _dt
import random
import sys
from pathlib import Path

import pytest
import yaml

from exportctl.policyset import policies_root
from exportctl.screening import model
from exportctl.screening.index import Index
from exportctl.screening.match import Scorer

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "benchmarks"))
import screening as bench  # noqa: E402  (the benchmark's generator of synthetic list entries)

DAY = _dt.date(2026, 11, 29)


def scan(index: Index, names: list, day, country=None, floor=None, bound=False) -> list:
    """Every entry, every spelling, scored in full with the plain Scorer.score: (entry key,
    score, country mismatch) of the hits, strongest first, as Index.search reports them.
    `bound`: skip a pair whose Scorer.bound is below the floor (checked on its own below)."""
    floor = index.params.review if floor is None else floor
    scorer = Scorer(index.params)
    qvs = [(v, scorer.prepared(v.tokens, v.script == "han"), {}) for n in names for v in index.norm.variants(n)]
    out = []
    for k, e in enumerate(index.entries):
        if day is not None and not e.in_force(day):
            continue
        penalty = bool(country and e.countries and country not in e.countries)
        best = None
        for qv, qp, memo in qvs:
            for ev, ep in zip(index.names[k], index.prepared[k]):
                if bound and scorer.bound(qp, ep, memo, floor - 1e-6) < floor - 1e-6:
                    continue
                s, _ = scorer.score(qv.tokens, ev.tokens, qv.script == "han", ev.script == "han")
                best = s if best is None else max(best, s)
        if best is None:
            continue
        if penalty:
            best = max(0.0, best - index.params.country_mismatch_penalty)
        if best >= floor:
            out.append((e.key, round(best, 4), penalty))
    return sorted(out, key=lambda h: (-h[1], h[0]))


def fast(index: Index, names: list, day, country=None, floor=None) -> list:
    return sorted(((h.entry.key, h.score, h.country_penalty) for h in index.search(names, day, country, floor)),
                  key=lambda h: (-h[1], h[0]))


@pytest.fixture(scope="module")
def corpus_index():
    from test_screening_corpus import corpus_lists

    return corpus_lists().index()


@pytest.fixture(scope="module")
def big():
    """An index of the bundled lists plus 10,000 generated entries (benchmarks/screening.py)."""
    bundled = model.load(policies_root())
    entries = list(bundled.entries)
    for e in bench.synthetic_entries(10_000):
        entries.append(model.Entry(list=e["list"], id=e["id"], name=e["name"], aliases=tuple(e.get("aliases", ())),
                                   countries=tuple(e["countries"]), listed=_dt.date(2020, 1, 1)))
    return Index(entries, bundled.params), bench.synthetic_entries(10_000)


def test_the_corpus_finds_what_a_scan_of_every_entry_finds(corpus_index):
    corpus = yaml.safe_load((HERE / "screening_corpus" / "corpus.yaml").read_text(encoding="utf-8"))
    day = _dt.date.fromisoformat(corpus["as_of"])
    flagged = 0
    for pair in corpus["pairs"]:
        for floor in (None, 0.88):       # the review level and the match threshold
            want = scan(corpus_index, [pair["name"]], day, pair.get("country"), floor)
            assert fast(corpus_index, [pair["name"]], day, pair.get("country"), floor) == want, pair["name"]
            flagged += bool(want)
    assert flagged > 60           # the comparison is not between empty answers


def query_names(entries: list, n: int, seed: int) -> list:
    """Names as the benchmark's parties have them: an entry's name or Chinese alias as listed,
    misspelt once or twice, or an unrelated name of the same words."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        e = rng.choice(entries)
        kind = i % 5
        if kind == 0:
            out.append(e["name"])
        elif kind == 1:
            out.append(bench.misspell(e["name"], rng))
        elif kind == 2:
            out.append(bench.misspell(bench.misspell(e["name"], rng), rng))
        elif kind == 3:
            out.append(e["aliases"][0] if e.get("aliases") else " ".join(e["name"].split()[:2]))
        else:
            out.append(bench.company(rng)[0])
    return out


def test_the_bound_is_never_below_the_score(big):
    """Scorer.bound may only skip pairs that could not reach the floor: on pairs of near and
    unrelated names (and in the early-stopping form, never below what it was asked for)."""
    index, entries = big
    scorer = index.scorer
    rng = random.Random(3)
    names = query_names(entries, 150, seed=11)
    checked = 0
    for q in names:
        qv = index.norm.variants(q)[0]
        qp = scorer.prepared(qv.tokens, qv.script == "han")
        memo: dict = {}
        for k in rng.sample(range(len(index.entries)), 30) + [k for k, _ in index.candidates([qv])]:
            for ev, ep in zip(index.names[k], index.prepared[k]):
                s, _ = scorer.score(qv.tokens, ev.tokens, qv.script == "han", ev.script == "han")
                assert scorer.bound(qp, ep, memo) >= s - 1e-9, (q, ev.text)
                for need in (0.3, 0.72, 0.88):
                    b = scorer.bound(qp, ep, memo, need)
                    assert b >= s - 1e-9 or b < need - 1e-9 and s < need, (q, ev.text, need)
                checked += 1
    assert checked > 4500


def test_names_from_a_10000_entry_list_find_what_a_scan_finds(big):
    """The index (candidates by key) against a scan of all 10,019 entries (pairs skipped by the
    bound, which the test above checks against the score)."""
    index, entries = big
    names = query_names(entries, 40, seed=18)
    hits = 0
    for i, q in enumerate(names):
        country = bench.COUNTRIES[i % len(bench.COUNTRIES)] if i % 2 else None
        want = scan(index, [q], DAY, country, bound=True)
        assert fast(index, [q], DAY, country) == want, q
        hits += len(want)
    assert hits >= 20


def test_a_few_names_against_a_full_scan_without_the_bound(big):
    """The same, with every pair of every entry scored in full (slow: a few names only)."""
    index, entries = big
    for q in query_names(entries, 3, seed=29):
        assert fast(index, [q], DAY) == scan(index, [q], DAY), q


def test_the_comparison_catches_a_missed_candidate(big, monkeypatch):
    """The comparison with the scan is not vacuous: candidate generation that loses one entry
    (here the best one of a name that has hits) gives an answer the scan tells apart."""
    index, entries = big
    q = next(q for q in query_names(entries, 40, seed=18) if fast(index, [q], DAY))
    want = scan(index, [q], DAY, bound=True)
    assert fast(index, [q], DAY) == want
    lost = index.entries.index(index.search([q], DAY)[0].entry)
    real = Index.candidates
    monkeypatch.setattr(Index, "candidates", lambda self, names: {c for c in real(self, names) if c[0] != lost})
    assert fast(index, [q], DAY) != want


def test_the_index_keys_are_not_walked_by_the_garbage_collector(corpus_index):
    """Its keys map to tuples of numbers, which the collector stops tracking (sets it never
    does): a full collection of a process holding a 10,000-entry index walks 114,000 objects,
    not 597,000 (docs/performance.md, Screening)."""
    import gc

    for _ in range(3):
        gc.collect()
    assert corpus_index.keys and not gc.is_tracked(corpus_index.keys)
    assert not any(gc.is_tracked(v) for v in corpus_index.keys.values())
