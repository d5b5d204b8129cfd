"""An index of list entries by blocking keys, so a party is compared with the few entries that
share a key with it, not with every entry.

Keys of a name: its distinctive tokens (generic words only when a name has nothing else), each
such token with one letter deleted (a typo still meets its original), the words of every short
run written together ("zhu hai" meets "zhuhai"), and the initials of every run of at least
`acronym_min` words ("cast" meets "China Academy of Space Technology"). Every key counts, so
the index finds what a scan of every entry finds (tests/test_screening_index.py); a candidate
whose score bound (match.Scorer.bound) reaches the floor is then scored in full."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from functools import lru_cache

from .match import MAX_RUN, Scorer
from .names import Normaliser, is_number


@lru_cache(maxsize=65536)
def _deletions(t: str) -> tuple:
    """The keys of a word's one-letter misspellings: the word with one letter deleted (words of
    5 letters or more, not numbers)."""
    if len(t) >= 5 and not is_number(t):
        return tuple("~" + t[:i] + t[i + 1:] for i in range(len(t)))
    return ()


@dataclass(frozen=True)
class Hit:
    entry: object          # model.Entry
    score: float
    party_name: str        # the party's spelling that matched best
    entry_name: str        # the entry's spelling it matched
    pairs: tuple
    country_penalty: bool


class Index:
    def __init__(self, entries: list, params):
        self.params = params
        self.norm = Normaliser(params)
        self.scorer = Scorer(params)
        self.entries = list(entries)
        self.names = []                        # per entry: its Name variants
        self.prepared = []                     # per entry: its variants ready to score (match.Prepared)
        self.keys: dict = {}                   # key -> (entry, variant) pairs
        for k, e in enumerate(self.entries):
            variants = []
            for n in e.names:
                variants.extend(self.norm.variants(n))
            self.names.append(variants)
            preps = [self.scorer.prepared(v.tokens, v.script == "han") for v in variants]
            self.prepared.append(preps)
            for vi, v in enumerate(variants):
                for key in self.keys_of(v.tokens):
                    self.keys.setdefault(key, set()).add((k, vi))
        # tuples, in the sets' order: the garbage collector stops tracking tuples of numbers, and
        # every full collection of a process that holds the index no longer walks 160,000 sets
        self.keys = {key: tuple(got) for key, got in self.keys.items()}

    def keys_of(self, toks: tuple) -> set:
        generic = self.params.generic_words
        distinct = [t for t in toks if t not in generic]
        out = self._run_keys(toks)
        for t in distinct or toks:
            out.add(t)
            out.update(_deletions(t))
        return out

    def _run_keys(self, toks: tuple) -> set:
        """The words of every short run written together, and the initials of the longer ones."""
        out = set()
        if len(toks) < 2:
            return out
        generic = self.params.generic_words
        nums = [is_number(t) for t in toks]
        amin = self.params.acronym_min
        for n in range(2, MAX_RUN + 1):
            for i in range(len(toks) - n + 1):
                if True in nums[i:i + n]:
                    continue
                run = toks[i:i + n]
                if not generic.issuperset(run):       # (a word that is not generic)
                    out.add("".join(run))
                if n >= amin:
                    out.add("".join([t[0] for t in run]))
        return out

    def _lookup_keys(self, toks: tuple) -> set:
        """`keys_of` a party's name, plus its words as they are (a party token may be the
        run-together or the initials of an entry's words, and vice versa), less the misspellings
        of a word the lists hold as written (they would bring in every entry with a word one
        letter away)."""
        index = self.keys
        generic = self.params.generic_words
        keys = self._run_keys(toks)
        keys.update(toks)
        added = False
        for t in [t for t in toks if t not in generic] or toks:
            if t not in index:
                got = _deletions(t)
                if got:
                    keys.update(got)
                    added = True
        if added:       # (a misspelling of an unknown word may be one of a known word too)
            for t in toks:
                if t in index:
                    keys.difference_update(_deletions(t) or ["~" + t[:i] + t[i + 1:] for i in range(len(t))])
        return keys

    def candidates(self, names: list) -> set:
        """(entry, name variant) pairs sharing a key with the names. Every key counts, common
        ones too: a name of common words ("西大技凤", xi da ji feng) may be a listed name in
        another order, and the bound (Scorer.bound) makes the extra candidates cheap to drop."""
        found: set = set()
        keys = self.keys
        for n in names:
            for key in self._lookup_keys(n.tokens):
                hit = keys.get(key)
                if hit:
                    found.update(hit)
        return found

    def search(self, names: list, day: _dt.date | None, country: str | None = None,
               floor: float | None = None) -> list:
        """Hits at or above `floor` (default: the review level) among entries in force on `day`."""
        params = self.params
        floor = params.review if floor is None else floor
        norm = self.norm
        variants = []
        for n in names:
            variants.extend(norm.variants(n))
        found = self.candidates(variants)
        if not found:
            return []
        out = []
        by_entry: dict = {}
        for k, vi in found:
            got = by_entry.get(k)
            if got is None:
                by_entry[k] = [vi]
            else:
                got.append(vi)
        scorer = self.scorer
        bound, score = scorer.bound, scorer.score_prepared
        prepare = scorer.party
        queries = [(qv, prepare(qv.tokens, qv.script == "han"), {}, {}) for qv in variants]
        entries, prepared, names_of = self.entries, self.prepared, self.names
        penalty_w = params.country_mismatch_penalty
        # a pair whose score cannot reach the floor (after the country penalty) is not
        # scored: it could be neither a hit nor the best pair of one (the margin covers rounding)
        need_same = floor - 1e-6 if floor > 0 else -1.0
        need_other = floor + penalty_w - 1e-6 if floor > 0 else -1.0
        for k, vis in by_entry.items():
            e = entries[k]
            if day is not None and not e.in_force(day):
                continue
            penalty = bool(country and e.countries and country not in e.countries)
            need = need_other if penalty else need_same
            best = None
            preps = prepared[k]
            if len(vis) > 1:
                # the name variants in their order: of two that score the same, the first is
                # reported, whatever order the set of candidates came in (string hashes differ
                # from one process to the next)
                vis.sort()
            for qv, qp, memo, words in queries:
                for vi in vis:
                    ep = preps[vi]
                    if bound(qp, ep, words, need) < need:
                        continue
                    s, pairs = score(qp, ep, memo)
                    if best is None or s > best[0]:
                        best = (s, qv.text, names_of[k][vi].text, pairs)
            if best is None:
                continue
            s, qn, en, pairs = best
            if penalty:
                s = max(0.0, s - penalty_w)
            if s >= floor:
                out.append(Hit(e, round(s, 4), qn, en, tuple(pairs), penalty))
        out.sort(key=lambda h: (-h.score, h.entry.list, h.entry.id))
        return out
