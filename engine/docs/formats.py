"""The format pages: field tables from the JSON Schemas (transaction, decision, case). No I/O."""

from __future__ import annotations

import json

from .markdown import GENERATED, code, esc, show, table


SCHEMA_TITLES = {"transaction": "Transaction (input)", "decision": "Decision (output)", "case": "Golden case file"}


def format_pages(schemas: dict) -> dict[str, str]:
    """{reference/_formats-NAME.md: markdown} for each schema: a field table and its types. No I/O.

    `schemas` maps a name (transaction, decision, case) to the parsed schema, or to None when
    the schema file does not exist (the page says so)."""
    out = {}
    for name, schema in schemas.items():
        if schema is None:
            out[f"reference/_formats-{name}.md"] = (
                GENERATED + f"!!! warning \"No schema yet\"\n    `policies/schema/{name}.schema.json` does not exist yet.\n")
        else:
            out[f"reference/_formats-{name}.md"] = GENERATED + schema_markdown(schema, name)
    return out


def schema_markdown(schema: dict, name: str) -> str:
    defs = schema.get("$defs", {})
    rows: list[list[str]] = []
    named_types: dict[str, dict] = {}
    expanded: dict[str, str] = {}

    def resolve(node):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if ref and ref.startswith("#/$defs/"):
            key = ref.split("/")[-1]
            return defs.get(key, {}), key
        return node, None

    def type_of(node, path) -> str:
        target, key = resolve(node)
        extra = {k: v for k, v in node.items() if k != "$ref"} if isinstance(node, dict) else {}
        if key and not _is_object(target) and not (target.get("type") == "array"):
            named_types[key] = target
            return f"[{key}](#{name}-type-{key})"
        if key and _is_object(target):
            if key in expanded and expanded[key] != path:
                return f"object, like {code(expanded[key])}"
            return "object"
        node = {**target, **extra} if key else node
        if "enum" in node:
            return "one of " + ", ".join(code(json.dumps(v) if not isinstance(v, str) else v) for v in node["enum"])
        if "const" in node:
            return f"always {code(show(node['const']))}"
        for comb in ("oneOf", "anyOf"):
            if comb in node and "type" not in node:
                alts = [type_of(a, path) for a in node[comb]]
                if all(a != "object" for a in alts):
                    return " or ".join(alts)
                return "object"
        t = node.get("type")
        if isinstance(t, list):
            return " or ".join(_scalar(x, node) for x in t)
        if t == "array":
            items = node.get("items", {})
            return "list of " + type_of(items, path + "[]")
        if t == "object" or "properties" in node:
            return "object"
        if t:
            return _scalar(t, node)
        return "any"

    def walk(node, path: str, required: bool, desc_from: dict | None = None):
        target, key = resolve(node)
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}} if key else node
        desc = merged.get("description", "")
        typ = type_of(node, path)
        if path:
            rows.append([code(path), typ + (" · **required**" if required else ""), _describe(merged, desc)])
        if key and _is_object(target):
            if key in expanded and expanded[key] != path:
                return
            expanded.setdefault(key, path)
        if _is_object(merged):
            req = set(merged.get("required", []))
            for prop, sub in merged.get("properties", {}).items():
                walk(sub, f"{path}.{prop}" if path else prop, prop in req)
            ap = merged.get("additionalProperties")
            if isinstance(ap, dict) and ap:
                walk(ap, f"{path}.<name>" if path else "<name>", False)
        elif merged.get("type") == "array" and isinstance(merged.get("items"), dict):
            it, ikey = resolve(merged["items"])
            if _is_object(it) and not (ikey and ikey in expanded and expanded[ikey] != path + "[]"):
                if ikey:
                    expanded.setdefault(ikey, path + "[]")
                req = set(it.get("required", []))
                for prop, sub in it.get("properties", {}).items():
                    walk(sub, f"{path}[].{prop}", prop in req)

    walk(schema, "", False)
    out = []
    if schema.get("description"):
        out.append(esc(schema["description"]) + "\n")
    out.append(table(["Field", "Type", "Meaning"], rows))
    if named_types:
        out.append(f"\n**Types used above** ({code(name + '.schema.json')}):\n")
        trows = []
        for key in sorted(named_types):
            t = named_types[key]
            if "enum" in t:
                what = "one of " + ", ".join(code(v) for v in t["enum"])
            else:
                what = _scalar(t.get("type", "any"), t) if not isinstance(t.get("type"), list) else " or ".join(
                    _scalar(x, t) for x in t["type"])
            trows.append([f'<span id="{name}-type-{key}"></span>{code(key)}', what, esc(t.get("description", ""))])
        out.append(table(["Type", "Values", "Meaning"], trows))
    return "\n".join(out)


def _is_object(node) -> bool:
    return isinstance(node, dict) and (node.get("type") == "object" or "properties" in node)


def _scalar(t: str, node: dict) -> str:
    if t == "string":
        if node.get("format") == "date":
            return "date (YYYY-MM-DD)"
        if node.get("pattern"):
            return f"string matching {code(node['pattern'])}"
        return "string"
    if t in ("number", "integer"):
        bits = []
        if "minimum" in node:
            bits.append(f"≥ {node['minimum']}")
        if "maximum" in node:
            bits.append(f"≤ {node['maximum']}")
        return t + (f" ({', '.join(bits)})" if bits else "")
    return {"boolean": "true or false", "null": "null", "object": "object", "array": "list"}.get(t, t)


def _describe(node: dict, desc: str) -> str:
    out = esc(desc)
    if "default" in node:
        out += f" Default {code(show(node['default']))}."
    if node.get("minItems"):
        out += f" At least {node['minItems']}."
    if node.get("uniqueItems"):
        out += " No duplicates."
    return out.strip()
