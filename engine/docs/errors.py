"""The errors page: every diagnostic code with its explanation (engine/explanations.py) and the
real output of its example."""

from __future__ import annotations


from .markdown import GENERATED, admonition, fence, table


def example_output(explanation: dict) -> str | None:
    """The diagnostics exportctl prints for a `policy` or `transaction` example (None for `text`)."""
    from ..diagnostics import ExportctlError
    from ..render import diagnostics_text

    kind, text = explanation.get("kind"), explanation["example"]
    diags = []
    if kind == "policy":
        from ..check import check
        from ..facts import schema
        from ..parse import parse_policy

        try:
            pol = parse_policy(text, "demo.policy")
            diags = check([pol], schema("transaction"))
        except ExportctlError as e:
            diags = e.diagnostics
        return diagnostics_text(diags, {"demo.policy": text}).rstrip()
    if kind == "transaction":
        from ..facts import read_text

        for rec in read_text(text, "tx.yaml"):
            if rec.error is not None:
                diags.extend(rec.error.diagnostics)
        return diagnostics_text(diags, {"tx.yaml": text}).rstrip()
    return None


def errors_page(codes: dict, explanations: dict, outputs: dict | None = None) -> str:
    """Every diagnostic code: what, why, an example, the fix. No I/O.

    `codes` is diagnostics.CODES; a code that is explained but missing from it is listed too
    (so a code the engine emits is documented even before CODES names it). `outputs` maps a
    code to the real diagnostic text of its example (see `example_output`)."""
    outputs = outputs or {}
    out = [GENERATED]
    allcodes = sorted(set(codes) | set(explanations))
    groups = {"1": "Syntax (reading a policy)", "2": "Names and references", "3": "Fact paths and types",
              "4": "Rules and exceptions", "5": "Golden-case coverage", "6": "Transactions",
              "7": "Golden case files", "8": "Decision records", "9": "Internal"}
    def title_of(c):
        t = codes.get(c) or explanations.get(c, {}).get("title", "")
        return t.replace("<", "&lt;").replace("|", "\\|")

    rows = [[f"[{c}](#{c.lower()})", title_of(c)] for c in allcodes]
    out.append(table(["Code", "Problem"], rows))
    group = None
    for c in allcodes:
        if c[1] != group:
            group = c[1]
            out.append(f"## {c[0]}{group}xx: {groups.get(group, 'Other')}\n")
        out.append(f"### {c}: {title_of(c)} {{#{c.lower()}}}\n")
        ex = explanations.get(c)
        if not ex:
            out.append(admonition("danger", "Not explained yet", "This code has no explanation in `engine/explanations.py` EXPLANATIONS."))
            continue
        out.append(f"**What.** {ex['what']}\n")
        out.append(f"**Why.** {ex['why']}\n")
        kind = ex.get("kind", "text")
        lang = {"policy": "exportctl", "transaction": "yaml"}.get(kind, "text")
        label = {"policy": "Example policy", "transaction": "Example transaction"}.get(kind, "Example")
        out.append(f"**{label}:**\n")
        out.append(fence(ex["example"], lang))
        if outputs.get(c):
            out.append("`exportctl` says:\n")
            out.append(fence(outputs[c], "text"))
        out.append(f"**Fix.** {ex['fix']}\n")
    return "\n".join(out)
