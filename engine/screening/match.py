"""How similar two names are, and why: a weighted alignment of their tokens.

Tokens pair up when they are the same, when they are close spellings (rapidfuzz's normalised
Indel similarity at least `token_fuzzy_min`), when one is the start of the other ("Inst." ~
"Institute"), when one token is the other side's words run
together ("Zhuhai" ~ "zhu hai", the pinyin of 珠海), or when one is the initials of the other's
words ("CAST" ~ "China Academy of Space Technology"). Each token weighs 1, generic words
("research", "institute", "technology") weigh less, numbers more; the score is the weighted
share of both names that paired up (a weighted Dice coefficient), so word order does not
matter and a short name that is wholly matched scores 1. The distinctive (not generic) words
must also match on their own: the lower of the two shares is the score. Two names whose numbers differ
("CAST 502" / "CAST 513") are different parties: their score is capped."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import Indel

from .names import is_number

MAX_RUN = 4


@dataclass(frozen=True)
class Pair:
    party: str
    entry: str
    similarity: float
    how: str            # same | similar | shortened | joined | abbreviation

    def as_dict(self) -> dict:
        return {"party": self.party, "entry": self.entry, "similarity": round(self.similarity, 3), "how": self.how}


class Scorer:
    def __init__(self, params):
        self.p = params

    def weight(self, tok: str) -> float:
        if is_number(tok):
            return self.p.weight_number
        if tok in self.p.generic_words:
            return self.p.weight_generic
        return 1.0

    def _single(self, a: str, b: str):
        if a == b:
            return 1.0, "same"
        if is_number(a) or is_number(b):
            return 0.0, ""
        short, long_ = (a, b) if len(a) < len(b) else (b, a)
        if len(short) >= 4:
            r = Indel.normalized_similarity(a, b)
            if r >= self.p.token_fuzzy_min:
                return r, "similar"
        # a common word cut short ("Inst." for Institute), or a person's initial ("P." for Petrovich)
        if long_.startswith(short) and (len(short) == 1 or (len(short) >= self.p.prefix_min and long_ in self.p.generic_words)):
            return self.p.prefix_score, "shortened"
        return 0.0, ""

    def _run(self, tok: str, run: tuple):
        """One token against several words: run together, or their initials."""
        if any(is_number(t) for t in run) or is_number(tok):
            return 0.0, ""
        joined = "".join(run)
        if tok == joined:
            return 1.0, "joined"
        if len(tok) >= 6:
            r = Indel.normalized_similarity(tok, joined)
            if r >= self.p.token_fuzzy_min:
                return r, "joined"
        if len(tok) == len(run) >= self.p.acronym_min and tok == "".join(t[0] for t in run):
            return self.p.acronym_score, "abbreviation"
        return 0.0, ""

    def score(self, q: tuple, e: tuple) -> tuple[float, list]:
        """(score in [0, 1], the token pairs that matched) for two token tuples."""
        if not q or not e:
            return 0.0, []
        wq = [self.weight(t) for t in q]
        we = [self.weight(t) for t in e]
        cands = []
        for i, a in enumerate(q):
            for j, b in enumerate(e):
                s, how = self._single(a, b)
                if s:
                    cands.append((s, 2, (i,), (j,), how))
        for n in range(2, MAX_RUN + 1):
            for j in range(len(e) - n + 1):
                run = e[j:j + n]
                for i, a in enumerate(q):
                    s, how = self._run(a, run)
                    if s:
                        cands.append((s, n + 1, (i,), tuple(range(j, j + n)), how))
            for i in range(len(q) - n + 1):
                run = q[i:i + n]
                for j, b in enumerate(e):
                    s, how = self._run(b, run)
                    if s:
                        cands.append((s, n + 1, tuple(range(i, i + n)), (j,), how))
        cands.sort(key=lambda c: (-c[0], -c[1], c[2], c[3]))
        used_q, used_e, got, pairs = set(), set(), 0.0, []
        chosen = []
        for c in cands:
            s, _, qi, ej, how = c
            if used_q.intersection(qi) or used_e.intersection(ej):
                continue
            chosen.append(c)
            used_q.update(qi)
            used_e.update(ej)
            got += s * (sum(wq[i] for i in qi) + sum(we[j] for j in ej))
            pairs.append(Pair(" ".join(q[i] for i in qi), " ".join(e[j] for j in ej), s, how))
        total = sum(wq) + sum(we)
        score = got / total if total else 0.0
        # The distinctive words (not generic) must carry the match on their own too: "Beijing
        # Institute of Technology" is not "Beijing Microelectronics Technology Institute".
        dq = [0.0 if t in self.p.generic_words else w for t, w in zip(q, wq)]
        de = [0.0 if t in self.p.generic_words else w for t, w in zip(e, we)]
        if sum(dq) and sum(de):
            got_d = 0.0
            for s, _, qi, ej, _ in chosen:
                got_d += s * (sum(dq[i] for i in qi) + sum(de[j] for j in ej))
            score = min(score, got_d / (sum(dq) + sum(de)))
        nq = {t for t in q if is_number(t)}
        ne = {t for t in e if is_number(t)}
        if nq and ne and nq != ne:
            score = min(score, self.p.number_mismatch_cap)
        return score, pairs
