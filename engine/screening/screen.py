"""Screening a transaction: every party against the lists in force on the date of the law,
and what the decision makes of it.

A match (score >= threshold) adds the list to that party's `lists` on a copy of the
transaction, so the policies' own rules fire and cite the law; the screening section cites the
listing. A review-level match (review <= score < threshold) is an open question: the
transaction is decided twice, without and with the review matches added, and every binding
regime whose outcome differs is indeterminate between the two (Kleene's reading of one unknown
fact), with the question "is party X the listed Y?". Screening only ever adds lists: a party's
own `lists` are kept, and a party whose `lists` is absent (not screened, unknown) stays unknown
to the rules, its matches reported. A reviewed false positive (good guy) clears its pair until
it expires, in plain view."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from ..values import norm
from .model import Lists

STATUS_ORDER = ("match", "review", "cleared", "none")


@dataclass
class PartyResult:
    path: str
    role: str
    name: str
    country: str | None
    lists_given: bool
    matches: list = field(default_factory=list)   # dicts, strongest first

    @property
    def status(self) -> str:
        st = {m["status"] for m in self.matches}
        for s in STATUS_ORDER[:-1]:
            if s in st:
                return s
        return "none"

    def as_dict(self) -> dict:
        return {"party": self.path, "role": self.role, "name": self.name, "country": self.country,
                "status": self.status, "lists_given": self.lists_given, "matches": self.matches}


def parties(data: dict) -> list:
    """(path, role, party mapping) of every party the policies screen: the end user, each
    consignee, each party of `parties`. The exporter is the one asking, and is not screened."""
    out = []
    eu = data.get("end_user")
    if isinstance(eu, dict):
        out.append(("end_user", "end_user", eu))
    for i, c in enumerate(data.get("consignees") or []):
        out.append((f"consignees[{i}]", c.get("role", "consignee"), c))
    for i, p in enumerate(data.get("parties") or []):
        out.append((f"parties[{i}]", p.get("role", "party"), p))
    return out


def _good_guy(lists: Lists, name_variants: list, country, entry_key: str, day: _dt.date):
    names = {norm(n) for n in name_variants}
    for g in lists.good_guys:
        if g.entry == entry_key and norm(g.party) in names and (g.country is None or g.country == country):
            return g
    return None


def match_dict(hit, params, status: str, good_guy=None, expired=None) -> dict:
    e = hit.entry
    d = {
        "list": e.list, "entry": e.id, "entry_name": e.name, "score": hit.score, "status": status,
        "matched": {"party": hit.party_name, "entry": hit.entry_name},
        "pairs": [p.as_dict() for p in hit.pairs],
        "cite": e.cite, "source": e.source, "dataset": e.dataset,
        "listed": e.listed.isoformat() if e.listed else None,
        "removed": e.removed.isoformat() if e.removed else None,
        "countries": list(e.countries),
    }
    if hit.country_penalty:
        d["country_mismatch"] = True
    if good_guy is not None:
        d["good_guy"] = {"reviewed_by": good_guy.reviewed_by, "reviewed_on": good_guy.reviewed_on.isoformat(),
                         "expires": good_guy.expires.isoformat(), "reason": good_guy.reason}
    if expired is not None:
        d["good_guy_expired"] = expired.expires.isoformat()
    return d


def screen_names(lists: Lists, names: list, country, day: _dt.date | None) -> list:
    """Hits for one party's names (its name and aliases), strongest first. Remembered per list
    set: a batch names the same customers and forwarders again and again."""
    key = (tuple(names), country, day)
    cache = lists.__dict__.setdefault("_hits", {})
    got = cache.get(key)
    if got is None:
        if len(cache) >= 20_000:
            cache.clear()
        got = cache[key] = lists.index().search(names, day, country)
    return got


def screen_party(lists: Lists, path: str, role: str, party: dict, day: _dt.date) -> PartyResult:
    names = [party["name"]] + [a for a in party.get("aliases") or [] if isinstance(a, str)]
    country = party.get("country")
    res = PartyResult(path, role, party["name"], country, isinstance(party.get("lists"), list))
    p = lists.params
    for hit in screen_names(lists, names, country, day):
        status = "match" if hit.score >= p.threshold else "review"
        g = _good_guy(lists, names, country, hit.entry.key, day)
        if g is not None and g.applies(day):
            res.matches.append(match_dict(hit, p, "cleared", good_guy=g))
        else:
            res.matches.append(match_dict(hit, p, status, expired=g))
    return res


@dataclass
class Screening:
    """The screening of one transaction."""

    lists: Lists
    day: _dt.date
    results: list

    def augmented(self, data: dict, with_review: bool = False) -> dict:
        """A copy of the transaction with each matched list added to its party's `lists`
        (with_review: the review-level matches too). Parties without `lists` stay without.
        Only what changes is copied (the transaction, the party, its list of parties): the
        rules never change the data they read, so the rest is shared."""
        adds = {}
        for r in self.results:
            if r.lists_given:
                want = {m["list"] for m in r.matches
                        if m["status"] == "match" or (with_review and m["status"] == "review")}
                if want:
                    adds[r.path] = want
        if not adds:
            return data
        out = dict(data)
        for path, want in adds.items():
            if path == "end_user":
                holder, key = out, "end_user"
            else:                                   # consignees[i], parties[i]
                name, i = path[:-1].split("[")
                if out[name] is data[name]:
                    out[name] = list(data[name])
                holder, key = out[name], int(i)
            party = holder[key] = dict(holder[key])
            party["lists"] = sorted(set(party["lists"]) | want)
        return out

    def review_adds(self, data: dict) -> bool:
        """Whether the review-level matches change the transaction the rules see
        (`augmented(data, with_review=True)` differs from `augmented(data)`): when they do not,
        the second decision would be the first (and is not made)."""
        return self.augmented(data, with_review=True) != self.augmented(data)

    @property
    def has_review(self) -> bool:
        return any(m["status"] == "review" and r.lists_given
                   for r in self.results for m in r.matches)

    def questions(self) -> list:
        """One question per review-level pair of a party whose lists the rules read."""
        out = []
        for r in self.results:
            for m in r.matches:
                if m["status"] != "review":
                    continue
                out.append({
                    "fact": fact_path(r.path, m),
                    "party": r.path,
                    "ask": (f"Is {r.role.replace('_', ' ')} \"{r.name}\" the party listed as \"{m['entry_name']}\" "
                            f"on {m['list']} (score {m['score']:.2f}; {m['cite']})? If it is, add {m['list']} to "
                            f"{r.path}.lists; if not, record the pair as a reviewed false positive (good guy)."),
                    "list": m["list"], "entry": m["entry"], "score": m["score"],
                })
        return out

    def section(self, enabled: bool = True) -> dict:
        p = self.lists.params
        return {
            "enabled": enabled,
            "as_of": self.day.isoformat(),
            "lists_digest": self.lists.digest,
            "parameters": {"version": p.version, "threshold": p.threshold, "review": p.review, "cite": p.cite},
            "datasets": [dict(d, lists=list(d["lists"])) for d in _datasets(self.lists)],
            "good_guys": self.lists.good_guys_file,
            "parties": [r.as_dict() for r in self.results],
            "questions": self.questions(),
        }


def _datasets(lists: Lists) -> list:
    """The datasets part of the screening section, worked out once per list set (each decision
    gets its own copy)."""
    key = tuple((d.file, d.digest) for d in lists.datasets)
    got = lists.__dict__.get("_section_datasets")
    if got is None or got[0] != key:
        got = lists.__dict__["_section_datasets"] = (key, [
            {"id": d.id, "version": d.version, "source": d.source, "digest": d.digest,
             "entries": len(d.entries), "lists": sorted(d.counts())} for d in lists.datasets])
    return got[1]


def fact_path(party_path: str, m: dict) -> str:
    """The open fact a review match stands for, in the `<fact> in <list>` form of partial lists."""
    return f"{party_path}.name in {m['list']}/{m['entry']}"


def screen(lists: Lists, data: dict, day: _dt.date) -> Screening:
    return Screening(lists, day, [screen_party(lists, path, role, party, day)
                                  for path, role, party in parties(data)])
