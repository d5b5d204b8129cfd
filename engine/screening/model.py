"""Restricted-party lists, matching parameters and reviewed false positives, as data.

A list file (policies/lists/*.yaml, schema policies/schema/list.schema.json) holds the entries
of one or more restricted-party lists with their listing and removal dates and the Federal
Register notice or announcement behind each; `matching.yaml` holds the versioned, cited
parameters of the matcher. Problems are located diagnostics (E661-E664), never tracebacks."""

from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from .. import policy_cache
from ..diagnostics import Diagnostic, ExportctlError
from ..source import Span

LIST_IDS = ("us-entity-list", "us-meu-list", "us-sdn", "us-denied-persons",
            "cn-control-list", "cn-unreliable-entity-list", "cn-watch-list")
"""The restricted-party lists a transaction's `lists` can name (transaction schema)."""

PARAMS_FILE = "matching.yaml"
GOOD_GUYS_FILE = "good-guys.yaml"


@dataclass(frozen=True)
class Entry:
    """One listed party: its names, where it is, when it was listed and removed, and why."""

    list: str
    id: str
    name: str
    aliases: tuple = ()
    countries: tuple = ()
    addresses: tuple = ()
    kind: str | None = None
    listed: _dt.date | None = None
    removed: _dt.date | None = None
    cite: str = ""
    source: str = ""
    dataset: str = ""

    @property
    def key(self) -> str:
        return f"{self.list}/{self.id}"

    @property
    def names(self) -> tuple:
        return (self.name,) + tuple(a for a in self.aliases if a != self.name)

    def in_force(self, day: _dt.date) -> bool:
        return (self.listed is None or self.listed <= day) and (self.removed is None or day < self.removed)


@dataclass(frozen=True)
class Dataset:
    """One list file: where its entries come from, and as of which date."""

    id: str
    title: str
    version: str
    source: str
    file: str
    digest: str
    entries: tuple
    retrieved: str | None = None
    note: str | None = None

    def counts(self) -> dict:
        """Entries per list (computed once: decisions show it)."""
        got = self.__dict__.get("_counts")
        if got is None:
            got = {}
            for e in self.entries:
                got[e.list] = got.get(e.list, 0) + 1
            object.__setattr__(self, "_counts", got)
        return got


@dataclass(frozen=True)
class Params:
    """The matcher's versioned, cited parameters (policies/lists/matching.yaml)."""

    version: str
    cite: str
    threshold: float
    review: float
    token_fuzzy_min: float
    acronym_score: float
    acronym_min: int
    prefix_min: int
    prefix_score: float
    country_mismatch_penalty: float
    number_mismatch_cap: float
    weight_generic: float
    weight_number: float
    generic_words: frozenset
    stop_words: frozenset
    company_forms: tuple
    digest: str = ""
    notes: tuple = ()


@dataclass(frozen=True)
class GoodGuy:
    """A reviewed false positive: this party is not that listed entry, until `expires`."""

    party: str
    entry: str          # "<list>/<entry id>"
    reviewed_by: str
    reviewed_on: _dt.date
    expires: _dt.date
    reason: str
    country: str | None = None

    def applies(self, day: _dt.date) -> bool:
        return self.reviewed_on <= day < self.expires


@dataclass
class Lists:
    """Every list file of a folder, the parameters and the good-guy records, loaded once."""

    folder: Path | None
    datasets: list
    params: Params | None
    good_guys: list = field(default_factory=list)
    good_guys_file: str | None = None
    good_guys_digest: str | None = None
    _index: object = None

    @property
    def entries(self) -> list:
        return [e for d in self.datasets for e in d.entries]

    @property
    def digest(self) -> str:
        """One digest over the list data, the parameters and the good-guy records used
        (worked out again only when one of them changed: every decision shows it)."""
        key = (tuple((d.file, d.digest) for d in self.datasets), self.params and self.params.digest,
               self.good_guys_digest)
        got = self.__dict__.get("_digest")
        if got is not None and got[0] == key:
            return got[1]
        h = hashlib.sha256()
        for d in sorted(self.datasets, key=lambda d: d.file):
            h.update(f"{Path(d.file).name}\0{d.digest}\0".encode())
        if self.params:
            h.update(f"{PARAMS_FILE}\0{self.params.digest}\0".encode())
        if self.good_guys_digest:
            h.update(f"{GOOD_GUYS_FILE}\0{self.good_guys_digest}\0".encode())
        self.__dict__["_digest"] = (key, "sha256:" + h.hexdigest())
        return self.__dict__["_digest"][1]

    def index(self):
        if self._index is None:
            from .index import Index

            self._index = Index(self.entries, self.params)
        return self._index


# ---------------------------------------------------------------- reading

def _read_yaml(path: Path, code: str):
    """(data, lines, text digest) of a YAML file; a located diagnostic on any problem."""
    import yaml     # here: a start whose lists come from the cache imports no yaml

    from .. import facts

    name = str(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ExportctlError(Diagnostic(code, f"cannot read {name}: {getattr(e, 'strerror', None) or e}",
                                        Span(name, 0, 0)))
    try:
        docs = facts.yaml_documents(text)
    except yaml.YAMLError as e:
        d = facts.yaml_error(e, name, code)
        raise ExportctlError(Diagnostic(code, d.message, d.span))
    if len(docs) != 1:
        raise ExportctlError(Diagnostic(code, f"{name}: expected one YAML document, found {len(docs)}",
                                        Span(name, 1, 1)))
    node, data = docs[0]
    lines = facts.yaml_lines(node)
    return facts.normalise(data), lines, "sha256:" + hashlib.sha256(raw).hexdigest()


def _validate(data, name: str, lines: dict, schema_name: str, code: str) -> None:
    from .. import facts

    diags = facts.validate(data, name, lines, schema_name=schema_name)
    if diags:
        raise ExportctlError([Diagnostic(code, d.message, d.span) for d in diags])


def _date(s):
    return _dt.date.fromisoformat(s) if s else None


def read_dataset(path: Path) -> Dataset:
    """One list file, validated against list.schema.json (E661)."""
    data, lines, digest = _read_yaml(path, "E661")
    name = str(path)
    _validate(data, name, lines, "list", "E661")
    default = data.get("list")
    entries, seen = [], set()
    for i, e in enumerate(data["entries"]):
        lst = e.get("list", default)
        where = Span(name, lines.get(f"entries[{i}]", 0), 1)
        if lst is None:
            raise ExportctlError(Diagnostic("E661", f"entries[{i}]: says no `list` and the file has no default `list`", where))
        if (lst, e["id"]) in seen:
            raise ExportctlError(Diagnostic("E661", f"entries[{i}]: entry id {e['id']!r} used twice in {lst}", where))
        seen.add((lst, e["id"]))
        listed, removed = _date(e.get("listed")), _date(e.get("removed"))
        if listed and removed and removed <= listed:
            raise ExportctlError(Diagnostic("E661", f"entries[{i}]: removed {removed} is not after listed {listed}", where))
        entries.append(Entry(
            list=lst, id=e["id"], name=e["name"], aliases=tuple(e.get("aliases", ())),
            countries=tuple(e.get("countries", ())), addresses=tuple(e.get("addresses", ())),
            kind=e.get("kind"), listed=listed, removed=removed, cite=e.get("cite") or data.get("cite", ""),
            source=e.get("source") or data["source"], dataset=data["id"]))
    return Dataset(id=data["id"], title=data["title"], version=data["version"], source=data["source"],
                   file=name, digest=digest, entries=tuple(entries), retrieved=data.get("retrieved"),
                   note=data.get("note"))


def read_params(path: Path) -> Params:
    """The matching parameters, validated (E662): review level below the threshold, both in (0, 1]."""
    data, lines, digest = _read_yaml(path, "E662")
    name = str(path)
    _validate(data, name, lines, "matching", "E662")
    if not data["review"] < data["threshold"]:
        raise ExportctlError(Diagnostic("E662", f"review ({data['review']}) must be below threshold ({data['threshold']})",
                                        Span(name, lines.get("review", 0), 1)))
    w = data["weights"]
    return Params(
        version=str(data["version"]), cite=data["cite"], threshold=float(data["threshold"]),
        review=float(data["review"]), token_fuzzy_min=float(data["token_fuzzy_min"]),
        acronym_score=float(data["acronym_score"]), acronym_min=int(data["acronym_min"]),
        prefix_min=int(data["prefix_min"]), prefix_score=float(data["prefix_score"]),
        country_mismatch_penalty=float(data["country_mismatch_penalty"]),
        number_mismatch_cap=float(data["number_mismatch_cap"]),
        weight_generic=float(w["generic"]), weight_number=float(w["number"]),
        generic_words=frozenset(data["generic_words"]), stop_words=frozenset(data["stop_words"]),
        company_forms=tuple(data["company_forms"]), digest=digest, notes=tuple(data.get("notes", ())))


def read_good_guys(path: Path) -> tuple[list, str]:
    """Reviewed false positives (E664); (records, file digest)."""
    data, lines, digest = _read_yaml(path, "E664")
    _validate(data, str(path), lines, "good-guys", "E664")
    out = [GoodGuy(party=g["party"], entry=g["entry"], reviewed_by=g["reviewed_by"],
                   reviewed_on=_date(g["reviewed_on"]), expires=_date(g["expires"]), reason=g["reason"],
                   country=g.get("country"))
           for g in data["good_guys"]]
    for i, g in enumerate(out):
        if g.expires <= g.reviewed_on:
            raise ExportctlError(Diagnostic("E664", f"good_guys[{i}]: expires {g.expires} is not after reviewed_on {g.reviewed_on}",
                                            Span(str(path), lines.get(f"good_guys[{i}]", 0), 1)))
    return out, digest


def lists_folder(policies_root: Path) -> Path:
    return Path(policies_root) / "lists"


_CACHE: dict = {}
_RECENT: dict = {}


def load(policies_root: Path, good_guys: str | Path | None = None) -> Lists | None:
    """The lists of a policy folder (its `lists/`), or None when it has none: a policy set
    without lists is not screened. Cached per folder and file stamps."""
    import time

    quick = _RECENT.get((policies_root, good_guys))     # every decision asks: no paths built
    if quick is not None and time.monotonic() - quick[0] < RECHECK_SECONDS:
        return quick[1]
    folder = lists_folder(policies_root)
    got = _load(folder, good_guys)
    _RECENT[(policies_root, good_guys)] = (time.monotonic(), got)
    return got


RECHECK_SECONDS = 1.0
"""Within a batch the list files are looked at (stat) at most once a second."""


def forget() -> None:
    """Forget the lists read in this process: the next `load` looks at the files again (tests,
    and a program that has just changed a list file)."""
    _CACHE.clear()
    _RECENT.clear()


def _load(folder: Path, good_guys) -> Lists | None:
    if not folder.is_dir():
        return None
    files = sorted(p for p in folder.glob("*.yaml") if p.name not in (PARAMS_FILE, GOOD_GUYS_FILE))
    gg = Path(good_guys) if good_guys else folder / GOOD_GUYS_FILE
    watched = files + [folder / PARAMS_FILE] + ([gg] if gg.is_file() else [])
    try:
        stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in watched)
    except OSError:
        stamp = None
    key = (str(folder.resolve()), str(gg))
    hit = _CACHE.get(key)
    if hit is not None and stamp is not None and hit[0] == stamp:
        return hit[1]
    disk_key = _disk_key(folder, good_guys, watched)
    cached = policy_cache.get(disk_key) if disk_key else None
    if isinstance(cached, Lists):
        if stamp is not None:
            _CACHE[key] = (stamp, cached)
        return cached
    params_file = folder / PARAMS_FILE
    if not params_file.is_file():
        raise ExportctlError(Diagnostic("E662", f"{folder} has list files but no {PARAMS_FILE}", Span(str(folder), 0, 0)))
    params = read_params(params_file)
    datasets = [read_dataset(p) for p in files]
    lists = Lists(folder, datasets, params)
    if good_guys and not gg.is_file():
        raise ExportctlError(Diagnostic("E664", f"no such good-guy file: {gg}", Span(str(gg), 0, 0)))
    if gg.is_file():
        lists.good_guys, lists.good_guys_digest = read_good_guys(gg)
        lists.good_guys_file = str(gg)
    if stamp is not None:
        _CACHE[key] = (stamp, lists)
    if disk_key:
        lists.index()       # kept with the lists: a later process imports no pypinyin, parses no YAML
        policy_cache.put(disk_key, lists)
    return lists


def _disk_key(folder: Path, good_guys, watched: list) -> str | None:
    """The policy cache's key of these lists: the folder, the good-guy option and every file's
    name and bytes (policy_cache adds the engine's code), so a changed file is read again."""
    parts: list = ["lists", str(folder.resolve()), str(good_guys)]
    try:
        for p in watched:
            parts += [str(p), p.read_bytes() if p.is_file() else b"<absent>"]
    except OSError:
        return None
    return policy_cache.content_key(*parts)
