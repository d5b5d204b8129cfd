"""Missing facts as questions a person can answer.

`missing` lists fact paths (`items[0].components[1].classification.eccn`); an exporter needs
"What is the ECCN of twta-7?", which rules need the answer (with their citations), and whether
that answer alone settles them. Paths of the form `<fact> in <regime>.<set>` come from a
partial list (one that cannot say "not on it") and ask for a person's check instead."""

from __future__ import annotations

import re
from functools import lru_cache

_LIST_WORDS = {
    "usml": "USML entry (null if it is not on the US Munitions List)",
    "eccn": "ECCN (EAR99 if subject to the EAR but not listed; null if not subject)",
    "eu": "EU Annex I entry (null if not listed)",
    "mtcr": "MTCR Annex item (null if not listed)",
    "wassenaar": "Wassenaar list entry (null if not listed)",
    "cn": "entry on China's dual-use export control list (null if not listed)",
    "cn_military": "entry on China's military products list (null if not listed)",
}
_FIELD_WORDS = {
    "components": "bill of materials (`components`; [] if it has none)",
    "lists": "restricted-party screening result (`lists`; [] if on none)",
    "end_use": "declared end uses (`end_use`; [] if none of the listed uses applies)",
    "parties": "parties to the transaction by role (`parties`; [] if none besides the end user and consignees)",
    "consignees": "consignees (`consignees`; [] if none)",
    "origin": "country of origin",
    "type": "item type",
    "value": "value",
    "kind": "kind",
    "citizenships": "citizenships",
    "permanent_residences": "permanent residences",
    "nationalities": "nationalities",
}
_STEP = re.compile(r"([A-Za-z_]+)(?:\[(\d+)\])?")


def _walk(data, path: str):
    """(value at path or None, the nearest item's id, the rest of the path after that item)."""
    cur = data
    item_id = None
    rest: list = []
    for m in _STEP.finditer(path):
        key, idx = m.group(1), m.group(2)
        cur = cur.get(key) if isinstance(cur, dict) else None
        rest.append(key)
        if idx is not None:
            cur = cur[int(idx)] if isinstance(cur, list) and int(idx) < len(cur) else None
            if key in ("items", "components") and isinstance(cur, dict):
                item_id = cur.get("id")
                rest = []
            else:
                rest[-1] = f"{key}[{idx}]"
    return cur, item_id, rest


def _describe(data, path: str, schema_words) -> tuple:
    """(item id or None, the question in words)."""
    if " in " in path or " startswith " in path:
        fact, _, listed = path.partition(" in ") if " in " in path else path.partition(" startswith ")
        value, item_id, _ = _walk(data, fact.strip())
        shown = value if value is not None else fact.strip()
        return item_id, (f"Is {shown} on `{listed.strip()}`? The policy marks that list as partial: "
                         "check it by hand against the official list.")
    _, item_id, rest = _walk(data, path)
    leaf = rest[-1] if rest else path
    if len(rest) >= 2 and rest[-2] == "classification":
        words = "its " + _LIST_WORDS.get(leaf, f"{leaf} classification")
    elif len(rest) >= 2 and rest[-2] == "parameters":
        words = "its " + leaf.replace("_", " ")   # a parameter's name reads better than its description
    else:
        words = _FIELD_WORDS.get(leaf) or schema_words(tuple(rest)) or f"`{path}`"
        if rest and item_id is None:
            owner = ".".join(r for r in rest[:-1])
            words = f"{owner} {words}".strip() if owner else words
        elif item_id is not None:
            words = "its " + words
    if item_id is not None:
        return item_id, f"For item {item_id}: what is {words}?"
    return None, f"What is the {words}?" if not words.startswith("`") else f"What is {words}?"


@lru_cache(maxsize=512)
def schema_words(parts: tuple) -> str | None:
    """The bundled transaction schema's description of a field (`("parameters", "sub_orbital")`)."""
    from .check import SchemaWalk
    from .facts import schema

    walk = SchemaWalk(schema("transaction"))
    node = walk.root
    for key in parts:
        if walk.resolve(node).get("type") == "array":
            node = walk.element(node)
        node = walk.child(node, key.split("[")[0])
        if node is None:
            return None
    desc = walk.resolve(node).get("description")
    return desc.rstrip(".") if desc else None


def questions(data: dict, entries: list, schema_words=schema_words) -> list:
    """One question per missing path of the given regime entries, with the rules that need it.

    `entries` are regime entries with a private `_needs` map: path -> {(rule, cite)} and the set
    `_alone` of paths whose answer alone settles a rule."""
    by_path: dict = {}
    for e in entries:
        for path in e["missing"]:
            q = by_path.get(path)
            if q is None:
                item_id, ask = _describe(data, path, schema_words)
                q = by_path[path] = {"fact": path, "item": item_id, "ask": ask, "regimes": [], "rules": [],
                                     "settles": False}
            if e["regime"] not in q["regimes"]:
                q["regimes"].append(e["regime"])
            for rid, cite in sorted(e.get("_needs", {}).get(path, ())):
                if not any(r["rule"] == rid for r in q["rules"]):
                    q["rules"].append({"rule": rid, "cite": cite})
            q["settles"] = q["settles"] or path in e.get("_alone", ())
    return [by_path[p] for p in sorted(by_path)]
