"""Golden cases as markdown: their facts, expectations and results, as tables under each rule."""

from __future__ import annotations


from .markdown import FAIL, PASS, admonition, code, esc, show, table


def rule_ids(spec: dict) -> set[str]:
    exp = spec.get("expect", {})
    return (set(exp.get("fires", [])) | set(exp.get("not_fires", [])) | set(spec.get("about", []))
            | set(exp.get("conflicts", [])))


def _is_item(value) -> bool:
    return isinstance(value, dict) and "id" in value and bool({"classification", "components", "origin"} & set(value))


def item_summary(item: dict) -> str:
    """An item as a reader scans it: id, description, origin, classifications, parameters, parts."""
    bits = []
    if item.get("description"):
        bits.append(esc(item["description"]))
    if item.get("type") and item["type"] != "commodity":
        bits.append(esc(item["type"]))
    if item.get("origin"):
        bits.append(f"origin {esc(item['origin'])}")
    cls = item.get("classification")
    if isinstance(cls, dict):
        bits += [f"{esc(k)} {code(show(v))}" for k, v in cls.items()]
    elif "classification" not in item:
        bits.append("classification unknown")
    params = item.get("parameters")
    if isinstance(params, dict):
        bits += [f"{esc(k)} {code(show(v))}" for k, v in params.items()]
    out = code(item.get("id", "?")) + (f" ({'; '.join(bits)})" if bits else "")
    comps = item.get("components")
    if isinstance(comps, list) and comps:
        out += " containing [" + ", ".join(item_summary(c) if _is_item(c) else code(show(c)) for c in comps) + "]"
    elif comps == []:
        out += ", no parts"
    return out


def fact_value(value) -> str:
    if _is_item(value):
        return "item " + item_summary(value)
    if isinstance(value, list) and value and all(_is_item(v) for v in value):
        return "items " + "; ".join(item_summary(v) for v in value)
    return code(show(value))


def case_facts(spec: dict, base_anchor: str | None = None) -> str:
    """The facts that make a case: its base and overrides, or (inline) destination and items."""
    parts = []
    if "base" in spec:
        name = code(spec["base"])
        parts.append(f"base [{name}](#{base_anchor})" if base_anchor else f"base {name}")
        for path, value in (spec.get("with") or {}).items():
            parts.append(f"{code(path)} = {fact_value(value)}")
        for path in spec.get("without") or []:
            parts.append(f"without {code(path)} (unknown)")
    else:
        tx = spec.get("transaction") or {}
        if "destination" in tx:
            parts.append(f"destination {code(tx['destination'])}")
        for item in tx.get("items") or []:
            if isinstance(item, dict):
                parts.append(item_summary(item))
    if spec.get("as_of"):
        parts.append(f"law as of {spec['as_of']}")
    return "<br>".join(parts)


def case_expectation(spec: dict, rule_id: str | None = None) -> str:
    """What a case expects, this rule's part first: fires, does not fire, or near miss (named, not firing)."""
    exp = spec.get("expect", {})
    parts = []
    if rule_id:
        if rule_id in exp.get("fires", []) or rule_id in exp.get("conflicts", []):
            parts.append("**fires**")
        elif rule_id in exp.get("not_fires", []):
            parts.append("**does not fire**")
        else:
            parts.append("**near miss**")
    if "outcome" in exp:
        parts.append(f"outcome {code(exp['outcome'])}")
    if "decision" in exp:
        parts.append(f"decision {code(exp['decision'])}")
    for reg, out in (exp.get("regimes") or {}).items():
        parts.append(f"{esc(reg)} {code(out)}")
    others = [r for r in exp.get("fires", []) if r != rule_id]
    if others:
        parts.append(("also fires " if rule_id else "fires ") + ", ".join(code(r) for r in others))
    others = [r for r in exp.get("not_fires", []) if r != rule_id]
    if others:
        parts.append("must not fire " + ", ".join(code(r) for r in others))
    if exp.get("authorization"):
        parts.append(f"authorization {code(exp['authorization'])}")
    if exp.get("missing"):
        parts.append("missing " + ", ".join(code(m) for m in exp["missing"]))
    others = [c for c in exp.get("conflicts", []) if c != rule_id]
    if others:
        parts.append("conflicts " + ", ".join(code(c) for c in others))
    return "<br>".join(parts)


def case_status(result) -> str:
    if result.passed:
        return PASS
    return f"{FAIL} " + esc("; ".join(result.problems) or "no decision")


def case_name(result) -> str:
    c = result.case
    out = esc(c.name)
    if c.spec.get("source"):
        out += f"<br><small>source: {esc(c.spec['source'])}</small>"
    return out


def case_table(results: list, rule_id: str | None = None, anchors: dict | None = None) -> str:
    """A table of cases; `anchors` maps a case's (file, base name) to the anchor of the base shown on the page."""
    anchors = anchors or {}
    rows = [[case_name(r), case_facts(r.case.spec, anchors.get((r.case.file, r.case.spec.get("base")))),
             case_expectation(r.case.spec, rule_id), case_status(r)]
            for r in results]
    return table(["Case", "Facts", "Expected", "Passes"], rows)


def cases_block(results: list, rule_id: str, cov, anchors: dict) -> str:
    out = []
    if cov is not None and not cov.covered:
        lacking = []
        if not cov.fired_in:
            lacking.append("no golden case where it fires")
        if not cov.near_miss_in:
            lacking.append("no near miss (a case about it where it does not fire)")
        out.append(admonition("danger", "Not covered", f"This rule has {' and '.join(lacking)}; "
                              "`exportctl check` fails until it has."))
    if results:
        out.append(f"**Golden cases** ({len(results)}):\n")
        out.append(case_table(results, rule_id, anchors))
    else:
        out.append("No golden case names this rule.\n")
    return "\n".join(out)
