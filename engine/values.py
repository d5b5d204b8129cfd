"""Runtime values of the evaluator: fact nodes that know their path, the unknown value of
three-valued logic, set values with dated members resolved, and partially known collections."""

from __future__ import annotations

import re


class Unknown:
    """A value the transaction does not give. Carries the fact paths whose answers would settle it."""

    __slots__ = ("paths",)

    def __init__(self, paths: frozenset):
        self.paths = paths

    def extend(self, key: str) -> "Unknown":
        if len(self.paths) == 1:
            (p,) = self.paths
            return Unknown(frozenset({f"{p}.{key}"}))
        return self

    def __repr__(self) -> str:
        return f"Unknown({sorted(self.paths)})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Unknown) and other.paths == self.paths

    def __hash__(self) -> int:
        return hash(self.paths)


def unknown_union(values) -> Unknown:
    paths: set = set()
    for v in values:
        paths |= v.paths
    return Unknown(frozenset(paths))


class Node:
    """A mapping or list of the transaction, with its JSON path (`items[0].components[1]`)."""

    __slots__ = ("path", "data")

    def __init__(self, path: str, data):
        self.path = path
        self.data = data

    def __repr__(self) -> str:
        return f"Node({self.path!r})"


class Coll:
    """A collection that may be only partly known: its known elements, and the fact paths
    that would reveal more (e.g. a component whose own `components` are not given)."""

    __slots__ = ("elements", "missing")

    def __init__(self, elements: list, missing: frozenset = frozenset()):
        self.elements = elements
        self.missing = missing


_NORM_CACHE: dict[str, str] = {}
_NON_ALNUM = re.compile(r"[\W_]+")

# Cyrillic and Greek letters that look like Latin ones (Unicode confusables, the letters a name
# on a restricted-party list can be spelt with to evade a match): folded to the Latin letter.
_CONFUSABLES = str.maketrans({
    **dict(zip("АВСЕНІЈКМОРЅТХУҮӀ", "ABCEHIJKMOPSTXYYI")),
    **dict(zip("авсеніјкморѕтхуүӏһԁԛԝ", "abcehijkmopstxyylhdqw")),
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX")),
    **dict(zip("αβεικνορτυχ", "abeiknoptux")),
})


def _fold(s: str) -> str:
    """NFKC (fullwidth and compatibility forms), look-alike letters to Latin, accents dropped."""
    import unicodedata

    s = unicodedata.normalize("NFKC", s).translate(_CONFUSABLES)
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if not unicodedata.combining(c))


def norm(s: str) -> str:
    """How set membership compares strings: case, punctuation, accents and look-alike letters do
    not matter ("Sierra Nevada Corp." matches "SIERRA NEVADA CORP"; "Сhina" with a Cyrillic С
    matches "China")."""
    r = _NORM_CACHE.get(s)
    if r is None:
        t = s if s.isascii() else _fold(s)
        r = _NON_ALNUM.sub(" ", t.casefold()).strip()
        if len(_NORM_CACHE) < 100_000:
            _NORM_CACHE[s] = r
    return r


class SetValue:
    """A set as of one date: normalised keys for membership, original spellings for prefixes
    and for explanations."""

    __slots__ = ("name", "keys", "values", "canonical", "partial")

    def __init__(self, name: str, values: tuple, canonical: dict, partial: str | None = None):
        self.name = name
        self.values = values                  # canonical spellings, in order
        self.canonical = canonical            # norm(spelling or alias) -> canonical spelling
        self.keys = frozenset(canonical)
        self.partial = partial                # why the list is incomplete: a non-member is unknown

    def __contains__(self, s) -> bool:
        return norm(s) in self.canonical

    def __iter__(self):
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        return f"SetValue({self.name}, {list(self.values)[:6]}...)"
