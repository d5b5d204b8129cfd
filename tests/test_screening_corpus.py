"""The golden match corpus: recall on its true pairs must be 100 %, precision must not fall
below the floor stored in the corpus file. Prints both (run with -s to see them)."""

import datetime as _dt
from pathlib import Path

import yaml

from exportctl.policyset import policies_root
from exportctl.screening import model

HERE = Path(__file__).parent / "screening_corpus"


def corpus_lists() -> model.Lists:
    bundled = model.load(policies_root())
    extra = model.read_dataset(HERE / "extra-lists.yaml")
    return model.Lists(None, bundled.datasets + [extra], bundled.params)


def evaluate_corpus():
    lists = corpus_lists()
    corpus = yaml.safe_load((HERE / "corpus.yaml").read_text(encoding="utf-8"))
    day = _dt.date.fromisoformat(corpus["as_of"])
    missed, false_hits, tp, fp, certain = [], [], 0, 0, 0
    for pair in corpus["pairs"]:
        hits = {h.entry.key: h.score for h in lists.index().search([pair["name"]], day, pair.get("country"))}
        if "is" in pair:
            if pair["is"] in hits:
                tp += 1
                certain += hits[pair["is"]] >= lists.params.threshold
            else:
                missed.append(f"{pair['name']} -> {pair['is']}")
        elif pair["not"] in hits:
            fp += 1
            false_hits.append(f"{pair['name']} -> {pair['not']} ({hits[pair['not']]:.2f})")
    true_pairs = sum(1 for p in corpus["pairs"] if "is" in p)
    return corpus, tp, fp, true_pairs, certain, missed, false_hits


def test_corpus_has_at_least_100_pairs_of_both_kinds_and_scripts():
    corpus = yaml.safe_load((HERE / "corpus.yaml").read_text(encoding="utf-8"))
    pairs = corpus["pairs"]
    assert len(pairs) >= 100
    assert sum("is" in p for p in pairs) >= 40 and sum("not" in p for p in pairs) >= 40
    assert any(any("\u4e00" <= c <= "\u9fff" for c in p["name"]) for p in pairs if "is" in p)
    assert any(any("\u4e00" <= c <= "\u9fff" for c in p["name"]) for p in pairs if "not" in p)


def test_recall_is_complete_and_precision_holds_its_floor():
    corpus, tp, fp, true_pairs, certain, missed, false_hits = evaluate_corpus()
    recall = tp / true_pairs
    precision = tp / (tp + fp) if tp + fp else 1.0
    print(f"\nscreening corpus: {len(corpus['pairs'])} pairs; recall {recall:.1%} ({tp}/{true_pairs}, "
          f"{certain} at the match threshold); precision {precision:.1%} ({fp} false flag(s)); "
          f"floor {corpus['floor']['precision']:.1%}")
    for f in false_hits:
        print("  false flag:", f)
    assert not missed, "true matches not flagged: " + "; ".join(missed)
    assert precision >= corpus["floor"]["precision"], false_hits
