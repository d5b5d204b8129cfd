"""Country codes: whether a code exists (ISO 3166-1 alpha-2 or XK, ISO 3166-2 subdivisions, from
pycountry, kept in the user's cache folder) and where a transaction's country fields are (the
schema's `$ref: #/$defs/country`, found by walking data and schema together).

A code that does not exist is an error, never a new fact: `facts.check_countries` reports each
as E607 with its path and line. The schema checks only the shape (`COUNTRY_SHAPE`)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from .diagnostics import json_path

COMMON_CONFUSIONS = {
    "UK": "GB", "EN": "GB", "NK": "KP", "EL": "GR", "KV": "XK", "KS": "XK", "SP": "ES",
    "SU": "RU", "YU": "RS", "CS": "RS", "ZR": "CD", "TP": "TL", "BU": "MM", "DD": "DE",
}
"""Codes people write for a country that ISO 3166-1 spells otherwise ."""


def _country_name(code: str) -> str:
    import pycountry

    if code == "XK":
        return "Kosovo"
    c = pycountry.countries.get(alpha_2=code)
    return c.name if c else code


_ALPHA2: frozenset | None = None


def _known_alpha2() -> frozenset:
    """pycountry's ISO 3166-1 alpha-2 codes, kept in the user's cache folder by the identity of
    pycountry's database file, so a run whose codes all exist never imports pycountry (~100 ms)."""
    global _ALPHA2
    if _ALPHA2 is not None:
        return _ALPHA2
    import hashlib
    import importlib.util

    from . import policy_cache

    key = None
    try:
        spec = importlib.util.find_spec("pycountry")
        db = Path(spec.origin).parent / "databases" / "iso3166-1.json"
        st = db.stat()
        if policy_cache.enabled():
            key = hashlib.sha256(f"alpha2\0{db}\0{st.st_size}\0{st.st_mtime_ns}".encode()).hexdigest()
    except (AttributeError, TypeError, OSError, ImportError, ValueError):
        pass
    hit = policy_cache.get(key) if key else None
    if isinstance(hit, frozenset) and all(isinstance(c, str) for c in hit):
        _ALPHA2 = hit
        return hit
    import pycountry

    _ALPHA2 = frozenset(c.alpha_2 for c in pycountry.countries)
    if key:
        policy_cache.put(key, _ALPHA2)
    return _ALPHA2


@lru_cache(maxsize=4096)
def country_problem(code: str) -> str | None:
    """None when `code` is an ISO 3166-1 alpha-2 code (or XK, Kosovo) or an ISO 3166-2 subdivision
    code that exists; otherwise what is wrong, with a suggestion when there is a likely one."""
    if code == "XK" or code in _known_alpha2():
        return None
    import difflib

    import pycountry

    if "-" in code:
        cc = code.split("-", 1)[0]
        wrong = country_problem(cc)
        if wrong:
            return f"{code} is not an ISO 3166-2 code: {wrong}"
        if pycountry.subdivisions.get(code=code):
            return None
        subs = {s.code: s.name for s in (pycountry.subdivisions.get(country_code=cc) or [])}
        close = difflib.get_close_matches(code, list(subs), n=3, cutoff=0.6)
        tip = "; did you mean " + " or ".join(f"{c} ({subs[c]})" for c in close) + "?" if close else ""
        return f"{code} is not an ISO 3166-2 subdivision code of {_country_name(cc)}{tip}"
    if code == "XK" or pycountry.countries.get(alpha_2=code):
        return None
    msg = f"{code} is not an ISO 3166-1 code"
    old = pycountry.historic_countries.get(alpha_2=code)
    if old:
        msg += f" (it was {old.name}, withdrawn {getattr(old, 'withdrawal_date', '')})".replace(", withdrawn )", ")")
    target = COMMON_CONFUSIONS.get(code)
    if target:
        return f"{msg}; did you mean {target} ({_country_name(target)})?"
    return msg + " (ISO 3166-1 alpha-2, or XK for Kosovo)"


def country_fields(data, sch: dict):
    """(path, value) of every country field of `data`: the places the schema gives
    `$ref: #/$defs/country`, found by walking data and schema together (no list of fields).
    The schema's part of the walk is worked out once per schema (`_CountryWalk`); a schema it
    cannot be worked out for is walked as it stands (`_country_fields_slow`)."""
    walk = _country_walk(sch)
    if walk is None:
        return _country_fields_slow(data, sch)
    found = []
    if walk is _NOWHERE:
        return found
    stack = [(data, walk, ())]          # paths as (parent path, key) links, unfolded for the hits
    pop, push = stack.pop, stack.append
    while stack:
        value, w, path = pop()
        if w.country:
            if isinstance(value, str):
                found.append((_unlink(path), value))
            continue
        for alt in w.alts:
            push((value, alt, path))
        if isinstance(value, dict):
            props = w.props
            if props:
                for k, v in value.items():
                    sub = props.get(k)
                    if sub is not None:
                        push((v, sub, (path, k)))
        elif isinstance(value, list):
            sub = w.items
            if sub is not None:
                for i, v in enumerate(value):
                    push((v, sub, (path, i)))
    return sorted(found, key=lambda f: json_path(f[0]))


def _unlink(path: tuple) -> tuple:
    parts = []
    while path:
        path, k = path
        parts.append(k)
    parts.reverse()
    return tuple(parts)


class _CountryWalk:
    """What `_country_fields_slow` does at one schema node, worked out once: a country field, or
    the nodes it goes on to for the same value (`$ref`, `allOf`, `anyOf`, `oneOf`), for a
    mapping's keys and for a list's elements; only nodes under which a country field can be."""
    __slots__ = ("country", "alts", "props", "items")

    def __init__(self):
        self.country, self.alts, self.props, self.items = False, (), None, None


_NOWHERE = _CountryWalk()        # a schema with no country field anywhere
_WALKS: dict = {}


def _country_walk(sch: dict):
    """The walk of `sch` (kept with the schema, as `_country_nodes` keeps its reach), _NOWHERE,
    or None where the schema has a shape the plain walk alone handles (it is then used)."""
    hit = _WALKS.get(id(sch))
    if hit is not None and hit[0] is sch:
        return hit[1]
    try:
        walk = _build_walk(sch, sch.get("$defs", {}), _country_nodes(sch), {}) or _NOWHERE
    except Exception:       # an odd schema (a `properties` that is not a mapping, ...)
        walk = None
    _WALKS[id(sch)] = (sch, walk)
    return walk


def _build_walk(s, defs, reach: frozenset, made: dict):
    """The walk at node `s` (None: nothing below it), each node made once (schemas recurse)."""
    if not isinstance(s, dict) or id(s) not in reach:
        return None
    w = made.get(id(s))
    if w is not None:
        return w
    w = made[id(s)] = _CountryWalk()
    ref = s.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref[len("#/$defs/"):]
        if name == "country":
            w.country = True
        elif name in defs:
            w.alts = tuple(x for x in (_build_walk(defs[name], defs, reach, made),) if x is not None)
        return w
    w.alts = tuple(x for key in ("allOf", "anyOf", "oneOf") for sub in s.get(key) or []
                   if (x := _build_walk(sub, defs, reach, made)) is not None)
    props = s.get("properties") or {}
    if type(props) is not dict:
        raise TypeError("properties")
    w.props = {k: x for k, sub in props.items() if (x := _build_walk(sub, defs, reach, made)) is not None} or None
    if isinstance(s.get("items"), dict):
        w.items = _build_walk(s["items"], defs, reach, made)
    return w


def _country_fields_slow(data, sch: dict):
    """`country_fields` walking data and schema together, the schema as it stands."""
    defs = sch.get("$defs", {})
    reach = _country_nodes(sch)
    stack = [(data, sch, ())]
    found = []
    while stack:
        value, s, path = stack.pop()
        if id(s) not in reach:
            continue  # no country field below this part of the schema: skip its data
        ref = s.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref[len("#/$defs/"):]
            if name == "country":
                if isinstance(value, str):
                    found.append((path, value))
                continue
            if name in defs:
                stack.append((value, defs[name], path))
            continue
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in s.get(key) or []:
                stack.append((value, sub, path))
        if isinstance(value, dict):
            props = s.get("properties") or {}
            for k, v in value.items():
                if k in props:
                    stack.append((v, props[k], path + (k,)))
        elif isinstance(value, list) and isinstance(s.get("items"), dict):
            stack.extend((v, s["items"], path + (i,)) for i, v in enumerate(value))
    return sorted(found, key=lambda f: json_path(f[0]))


_REACH: dict = {}


def _country_nodes(sch: dict) -> frozenset:
    """ids of the schema's nodes under which a country field can be (walked once per schema,
    kept with the schema so an id is never reused), so the data walk skips the rest."""
    hit = _REACH.get(id(sch))
    if hit is not None and hit[0] is sch:
        return hit[1]
    defs = sch.get("$defs", {})
    children: dict = {}     # id -> ids of the nodes it leads to ($ref counts)
    direct: set = set()     # ids of `$ref: #/$defs/country` nodes
    todo = [sch]
    while todo:
        s = todo.pop()
        if not isinstance(s, dict) or id(s) in children:
            continue
        subs = []
        ref = s.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref[len("#/$defs/"):]
            if name == "country":
                direct.add(id(s))
            elif name in defs:
                subs.append(defs[name])
        subs += [x for k in ("allOf", "anyOf", "oneOf") for x in (s.get(k) or [])]
        subs += list((s.get("properties") or {}).values())
        if isinstance(s.get("items"), dict):
            subs.append(s["items"])
        subs = [x for x in subs if isinstance(x, dict)]
        children[id(s)] = [id(x) for x in subs]
        todo.extend(subs)
    nodes = set(direct)
    changed = True
    while changed:   # a fixpoint: recursive definitions (components of items) settle too
        changed = False
        for k, kids in children.items():
            if k not in nodes and any(c in nodes for c in kids):
                nodes.add(k)
                changed = True
    nodes = frozenset(nodes)
    _REACH[id(sch)] = (sch, nodes)
    return nodes


COUNTRY_SHAPE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
"""The shape the schema asks of a country code; a code of another shape is its error (E602)."""
