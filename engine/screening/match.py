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
from functools import lru_cache

from .names import is_number


def _similarity(a: str, b: str, score_cutoff: float) -> float:
    """rapidfuzz's Indel.normalized_similarity, imported on the first fuzzy comparison: a start
    whose names have no close candidates never imports rapidfuzz (20-30 ms)."""
    global _similarity
    from rapidfuzz.distance import Indel

    _similarity = Indel.normalized_similarity
    return _similarity(a, b, score_cutoff=score_cutoff)


MAX_RUN = 4
_SAME = (1.0, "same")
_NONE = (0.0, "")
_EMPTY = frozenset()        # shared by the names with no numbers (no loose words): one object, not 25,000


class _Runs:
    """The runs of 2-4 words of a name (without numbers): written together, and their initials.
    Their places are tuples, not lists: the garbage collector stops tracking a dict of strings
    and tuples of numbers, and a list index holds some 25,000 of these."""

    __slots__ = ("joined", "initials", "shortest", "longest")

    def __init__(self, toks: tuple, keep: bool = True):
        joined: dict = {}
        initials: dict = {}
        if len(toks) < 2:
            self.joined, self.initials, self.shortest, self.longest = joined, initials, 0, 0
            return
        nums = [is_number(t) for t in toks]
        for n in range(2, MAX_RUN + 1):
            for j in range(len(toks) - n + 1):
                if True in nums[j:j + n]:
                    continue
                run = toks[j:j + n]
                joined.setdefault("".join(run), []).append((j, n))
                initials.setdefault("".join([t[0] for t in run]), []).append((j, n))
        if keep:            # (a party's runs are dropped after its search: lists will do)
            joined = {k: tuple(v) for k, v in joined.items()}
            initials = {k: tuple(v) for k, v in initials.items()}
        self.joined, self.initials = joined, initials
        # the lengths of the runs written together: a word too short or too long for all of
        # them is compared with none (Scorer._run_match_new)
        self.shortest = min(map(len, joined), default=0)
        self.longest = max(map(len, joined), default=0)


@lru_cache(maxsize=65536)
def _runs(toks: tuple) -> _Runs:
    return _Runs(toks)


@dataclass(frozen=True)
class Pair:
    party: str
    entry: str
    similarity: float
    how: str            # same | similar | shortened | joined | abbreviation

    def as_dict(self) -> dict:
        return {"party": self.party, "entry": self.entry, "similarity": round(self.similarity, 3), "how": self.how}


class Prepared:
    """One token tuple ready to compare: its weights, runs, token set and numbers, worked out
    once (a listed name's when the list is indexed, a party's once per search) instead of for
    every pair scored."""

    __slots__ = ("toks", "han", "w", "d", "wsum", "dsum", "runs", "nums", "first", "last4",
                 "runwords", "runset", "loose", "order", "runkeys", "_sums")

    def __init__(self, scorer: "Scorer", toks: tuple, han: bool, keep: bool = True):
        self.toks = toks
        self.han = han
        # weights as tuples, and the position lists below too: a dict or tuple of numbers and
        # strings is one the garbage collector stops tracking (a list index holds 12,500 of these)
        if keep:
            self.w, self.d = w, d = scorer._weights(toks)
            self.runs = _runs(toks)
        else:           # a party's name (Scorer.party): nothing of it kept once the search is done
            self.w, self.d = w, d = scorer.weights(toks)
            self.runs = _Runs(toks, keep=False)
        self.wsum = sum(w)
        self.dsum = sum(d)
        # the only tokens another token can pair with on its own (Scorer.pair's letter filter):
        # those with its first letter, and, when both have at least 4 letters, its last
        first: dict = {}
        last4: dict = {}
        runwords = []
        nums = []
        for j, t in enumerate(toks):
            first[t[0]] = first.get(t[0], ()) + (j,)
            if len(t) >= 4:
                last4[t[-1]] = last4.get(t[-1], ()) + (j,)
            if is_number(t):
                nums.append(t)
            else:
                runwords.append((j, t))
        self.first, self.last4 = first, last4
        self.nums = frozenset(nums) if nums else _EMPTY
        p = scorer.p
        self.runwords = tuple(runwords)
        self.runset = frozenset([t for _, t in runwords]) if runwords else _EMPTY
        generic = p.generic_words
        loose = [i for i, t in runwords if len(t) >= 6 and t not in generic]
        self.loose = frozenset(loose) if loose else _EMPTY
        if keep:            # (a listed name's: Scorer.bound reads them; a party's are never asked)
            runs = self.runs
            # what Scorer._run_match needs before it can find anything: a word the other
            # side's runs are written together or abbreviated as (or, loosely, a long
            # distinctive word)
            self.runkeys = frozenset(runs.joined) | frozenset(k for k in runs.initials if len(k) >= p.acronym_min)
            # the heaviest words first: a bound gives up soonest when they pair with nothing
            self.order = tuple(sorted(range(len(toks)), key=lambda j: (-d[j], -w[j], j)))
        else:
            self.runkeys = self.order = None
        self._sums: dict = {}

    def sums(self, mask: int) -> tuple:
        """(weight, distinctive weight) of the tokens in `mask`."""
        got = self._sums.get(mask)
        if got is None:
            got = self._sums[mask] = (sum(w for i, w in enumerate(self.w) if mask >> i & 1),
                                      sum(d for i, d in enumerate(self.d) if mask >> i & 1))
        return got

    def partners(self, a: str) -> list:
        """The positions of the tokens that `a` may pair with (a superset of those it pairs with)."""
        js = self.first.get(a[0], ())
        if len(a) >= 4:
            more = self.last4.get(a[-1])
            if more:
                return sorted(set(js).union(more))
        return js


class Scorer:
    def __init__(self, params):
        self.p = params
        self._wcache: dict = {}
        self._pcache: dict = {}
        self._pairs: dict = {}
        self._runm: dict = {}

    def prepared(self, toks: tuple, han: bool) -> Prepared:
        key = (toks, han)
        got = self._pcache.get(key)
        if got is None:
            if len(self._pcache) > 100_000:
                self._pcache.clear()
            got = self._pcache[key] = Prepared(self, toks, han)
        return got

    def party(self, toks: tuple, han: bool) -> Prepared:
        """`prepared` for a party's name in a search: the same, but neither it nor its weights
        and runs are remembered (a batch's names are mostly new, and a repeated one's whole
        result is remembered: screen.screen_names). Less for the garbage collector to walk."""
        return Prepared(self, toks, han, keep=False)

    def weights(self, toks: tuple) -> tuple:
        """(weights, distinctive weights) of a name's tokens: a number weighs more, a generic word
        less, and the distinctive part is the weights with the generic words at 0."""
        p = self.p
        generic, wn, wg = p.generic_words, p.weight_number, p.weight_generic
        w = tuple([wn if is_number(t) else wg if t in generic else 1.0 for t in toks])
        return w, tuple([0.0 if t in generic else x for t, x in zip(toks, w)])

    def _weights(self, toks: tuple) -> tuple:
        """`weights`, remembered (listed names: their words meet again and again)."""
        got = self._wcache.get(toks)
        if got is None:
            if len(self._wcache) > 200_000:
                self._wcache.clear()
            got = self._wcache[toks] = self.weights(toks)
        return got

    def _run_match(self, tok: str, runs, fuzzy: bool = True) -> list:
        """(similarity, start, length, how) of one token against the other side's runs of words:
        written together, or their initials. Remembered (a party's words meet the same listed
        names again in a batch); the list returned is shared: read it, do not change it."""
        key = (tok, runs, fuzzy)
        got = self._runm.get(key)
        if got is None:
            if len(self._runm) > 200_000:
                self._runm.clear()
            got = self._runm[key] = self._run_match_new(tok, runs, fuzzy)
        return got

    def _run_match_new(self, tok: str, runs, fuzzy: bool):
        if is_number(tok):
            return ()
        got = runs.joined.get(tok)
        out = [(1.0, j, n, "joined") for j, n in got] if got else []
        if len(tok) >= self.p.acronym_min:
            got = runs.initials.get(tok)
            if got:
                out += [(self.p.acronym_score, j, n, "abbreviation") for j, n in got if n == len(tok)]
        if fuzzy and not out and len(tok) >= 6 and tok not in self.p.generic_words and runs.joined and \
                runs.shortest <= len(tok) * 1.25 and runs.longest >= len(tok) * 0.8:
            # a transliteration that differs a little from the pinyin run (harbin ~ ha er bin),
            # of about its length; in the runs' order
            # (only runs of about its length are compared: a C call each, no list of all)
            lo, hi = len(tok) * 0.8, len(tok) * 1.25
            cut = self.p.token_fuzzy_min
            for name, places in runs.joined.items():
                if lo <= len(name) <= hi:
                    r = _similarity(tok, name, score_cutoff=cut)
                    if r:
                        out += [(r, j, n, "joined") for j, n in places]
        return out or ()            # (most find nothing: one shared empty tuple, not a list each)

    def pair(self, a: str, b: str) -> tuple:
        """(similarity, how) of two single tokens, 0.0 when they do not pair (similarities
        remembered: the same words meet again and again in a batch)."""
        if a == b:
            return _SAME
        # a close spelling or a short form shares its first letter, or, for a typo at the
        # start, its last (a cheap filter before the similarity, not worth remembering)
        if a[0] != b[0] and (a[-1] != b[-1] or len(a) < 4 or len(b) < 4) or is_number(a) or is_number(b):
            return _NONE
        return self._close(a, b)

    def _close(self, a: str, b: str) -> tuple:
        """(similarity, how) of two different tokens, neither a number, that passed `pair`'s
        letter filter: a close spelling (rapidfuzz's Indel similarity, remembered), or a common
        word cut short ("Inst." for Institute), or a person's initial ("P." for Petrovich)."""
        if len(a) < len(b):
            short, long_ = a, b
        else:
            short, long_ = b, a
        n = len(short)
        if n >= 4 and n * 3 >= len(long_) * 2:
            key = (a, b)
            got = self._pairs.get(key)
            if got is None:
                r = _similarity(a, b, score_cutoff=self.p.token_fuzzy_min)
                got = (r, "similar") if r else self._shortened(short, long_)
                if len(self._pairs) > 500_000:
                    self._pairs.clear()
                self._pairs[key] = got
            return got
        return self._shortened(short, long_) if long_.startswith(short) else _NONE

    def _shortened(self, short: str, long_: str) -> tuple:
        p = self.p
        if long_.startswith(short) and (len(short) == 1 or (len(short) >= p.prefix_min and long_ in p.generic_words)):
            return p.prefix_score, "shortened"
        return _NONE

    def score(self, q: tuple, e: tuple, q_han: bool = True, e_han: bool = True) -> tuple[float, list]:
        """(score in [0, 1], the token pairs that matched) for two token tuples. `q_han`, `e_han`:
        the tokens are pinyin of Chinese script (their runs may match a transliteration loosely)."""
        if not q or not e:
            return 0.0, []
        return self.score_prepared(self.prepared(q, q_han), self.prepared(e, e_han))

    def score_prepared(self, qp: Prepared, ep: Prepared, memo: dict | None = None) -> tuple[float, list]:
        """`score` of two prepared names (both non-empty). `memo`: the entry tokens' matches
        against the party's runs, kept across the candidates of one search."""
        q, e = qp.toks, ep.toks
        wq, we = qp.w, ep.w
        pair = self.pair
        cands = []
        for i, a in enumerate(q):
            for j in ep.partners(a):
                s, how = pair(a, e[j])
                if s:
                    cands.append((s, 2, (i,), (j,), how))
        re_ = ep.runs
        for i, a in enumerate(q):
            for s, j, n, how in self._run_match(a, re_, ep.han):
                cands.append((s, n + 1, (i,), tuple(range(j, j + n)), how))
        for j, b in enumerate(e):
            for s, i, n, how in self._party_runs(b, qp, memo):
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
        total = qp.wsum + ep.wsum
        score = got / total if total else 0.0
        # The distinctive words (not generic) must carry the match on their own too: "Beijing
        # Institute of Technology" is not "Beijing Microelectronics Technology Institute".
        dq, de = qp.d, ep.d
        if qp.dsum and ep.dsum:
            got_d = 0.0
            for s, _, qi, ej, _ in chosen:
                got_d += s * (sum(dq[i] for i in qi) + sum(de[j] for j in ej))
            score = min(score, got_d / (qp.dsum + ep.dsum))
        if qp.nums and ep.nums and qp.nums != ep.nums:
            score = min(score, self.p.number_mismatch_cap)
        return score, pairs

    def _party_runs(self, b: str, qp: Prepared, memo: dict | None) -> list:
        """An entry word against the party's runs: remembered in the search's `memo` (a party
        prepared by `party` is new in each search, so not across searches); without a memo,
        across them, as `_run_match` does."""
        if memo is None:
            return self._run_match(b, qp.runs, qp.han)
        got = memo.get(b)
        if got is None:
            got = memo[b] = self._run_match_new(b, qp.runs, qp.han)
        return got

    def bound(self, qp: Prepared, ep: Prepared, memo: dict, need: float = 0.0) -> float:
        """An upper bound of `score_prepared(qp, ep)[0]`, cheaper to get: every token that could
        pair with anything counted as wholly matched (similarities are at most 1, weights at
        least 0: matching.schema.json; a token is used once). A pair whose bound is below the
        floor need not be scored. `memo` (one per party name): what each entry word pairs with
        in the party's name, as bit masks. Stops early, with a bound below `need`, once the
        entry words that pair with nothing already keep the score below `need`."""
        total = qp.wsum + ep.wsum
        if not total:
            return 0.0
        e = ep.toks
        mq = 0              # party tokens that may pair
        me = 0              # entry tokens that may pair
        if qp.runwords and (ep.han or not qp.runset.isdisjoint(ep.runkeys)):
            # a party word that may be the run-together or the initials of entry words
            re_ = ep.runs
            loose = ep.han
            keys = ep.runkeys
            for i, a in qp.runwords:
                if a in keys or (loose and i in qp.loose):
                    # (not remembered: a party's words are mostly new, and meet each entry once)
                    for _, j, n, _ in self._run_match_new(a, re_, loose):
                        mq |= 1 << i
                        me |= ((1 << n) - 1) << j
        both = bool(qp.dsum and ep.dsum)
        dtotal = qp.dsum + ep.dsum
        w, d = ep.w, ep.d
        kept_w, kept_d = total, dtotal
        low_w, low_d = need * total, need * dtotal
        get = memo.get
        for j in ep.order:
            if me >> j & 1:
                continue
            b = e[j]
            got = get(b)
            if got is None:
                got = memo[b] = self._word_in(b, qp, b in ep.nums)
            if got[1]:
                mq |= got[0]
                me |= 1 << j
            else:
                kept_w -= w[j]
                kept_d -= d[j]
                if kept_w < low_w:
                    return kept_w / total
                if both and kept_d < low_d:
                    return kept_d / dtotal
        wq, dq = qp.sums(mq)
        we = de = 0.0
        j = 0
        while me:
            if me & 1:
                we += w[j]
                de += d[j]
            me >>= 1
            j += 1
        score = (wq + we) / total
        if both:
            score = min(score, (dq + de) / dtotal)
        if qp.nums and ep.nums and qp.nums != ep.nums:
            score = min(score, self.p.number_mismatch_cap)
        return score

    def _word_in(self, b: str, qp: Prepared, number: bool) -> tuple:
        """(mask of the party tokens an entry word may pair with, whether it pairs at all): on
        its own (Scorer.pair), or with a run of the party's words. `number`: `b` is a number."""
        mask = 0
        toks = qp.toks
        nums = qp.nums
        # the tokens `pair`'s letter filter lets through: the same first letter, or the same
        # last when both have 4 letters or more (what `pair` checks, without the call)
        close = self._close
        for i in qp.first.get(b[0], ()):
            a = toks[i]
            if a == b or (not number and a not in nums and close(a, b)[0]):
                mask |= 1 << i
        if len(b) >= 4 and not number:
            for i in qp.last4.get(b[-1], ()):
                if not mask >> i & 1:
                    a = toks[i]
                    if a not in nums and close(a, b)[0]:
                        mask |= 1 << i
        hit = mask != 0
        runs = qp.runs
        if b in runs.joined or (len(b) >= self.p.acronym_min and b in runs.initials) or \
                (qp.han and len(b) >= 6 and b not in self.p.generic_words):
            # (a party's runs are new in each search, and this answer is kept in its memo:
            # not remembered across searches)
            for _, i, n, _ in self._run_match_new(b, runs, qp.han):
                hit = True
                mask |= ((1 << n) - 1) << i
        return mask, hit
