"""A decision as a person reads it on the site: the outcome first, then a card per regime with its
outcome, each finding with its citation linked to the official text and its rule linked to the
policy reference; what to do next; the open questions. (The terminal and JSON forms are shown
beside it; this is the same decision, drawn with the theme.)"""

from __future__ import annotations

import re

from ..render import ADVISORY_WORDS, obligation_line
from .markdown import OUTCOME_LABEL, cite, code, esc, short_name

ICONS = {
    "prohibited": ":material-cancel:",
    "indeterminate": ":material-help-circle-outline:",
    "license_required": ":material-file-document-edit-outline:",
    "authorized": ":material-check-decagram-outline:",
    "no_license_required": ":material-check-circle-outline:",
    "not_applicable": ":material-minus-circle-outline:",
}


def _cls(outcome: str) -> str:
    """An outcome word as a CSS class name (the stylesheet colours each outcome)."""
    return "ec-o-" + re.sub(r"[^a-z_]", "", str(outcome))


def _badge(outcome: str, words: str | None = None) -> str:
    text = words or OUTCOME_LABEL.get(outcome, outcome)
    return f'<span class="ec-outcome {_cls(outcome)}">{ICONS.get(outcome, "")} {esc(text)}</span>'


def _indent(text: str, n: int = 4) -> str:
    return "".join((" " * n + line if line else "") + "\n" for line in text.splitlines())


def _finding(f: dict, regime: str, reference: str) -> str:
    rule = f.get("rule") or ""
    head = esc(f.get("message") or rule)
    if f.get("item"):
        head += f" (item {code(f['item'])})"
    if f.get("authorization"):
        head += f": {esc(f['authorization'])}"
    lines = [f"- {head}  ",
             f"  *{cite(f.get('cite'))}*" + (f" · rule [{code(rule)}]({reference}{regime}.md#{rule})" if rule else "")]
    if f.get("unverified"):
        lines[-1] += "  "
        lines.append(f"  **UNVERIFIED:** {esc(f['unverified'])}")
    return "\n".join(lines)


def decision_markdown(d: dict, reference: str = "reference/") -> str:
    """The decision `d` (the JSON of `exportctl evaluate --format json`) as Markdown for the site.
    `reference` is the path from the page to the policy reference folder."""
    regimes = d.get("regimes") or []
    names = {r["regime"]: short_name(r["regime"], r.get("title")) for r in regimes}
    out = []
    head = f"**Decision:** {_badge(d['outcome'])}"
    if d.get("driven_by"):
        head += " set by " + ", ".join(f"**{esc(names.get(r, r))}**" for r in d["driven_by"])
    head += f" · law as of {esc(d.get('as_of', '?'))} · transaction {code(d.get('transaction', '?'))}"
    out.append(f'<div class="ec-decision {_cls(d["outcome"])}" markdown>\n\n{head}\n\n</div>\n')
    for w in d.get("warnings") or []:
        out.append(f'!!! warning "Warning"\n    {esc(w.get("message", ""))}\n')

    # the regimes that set the outcome first, then the others in the decision's order
    driving = d.get("driven_by") or []
    shown = sorted((r for r in regimes if r["outcome"] != "not_applicable"),
                   key=lambda r: (r["regime"] not in driving, not r.get("binding")))
    if shown:
        cards = []
        for r in shown:
            kind = "binding" if r.get("binding") else "advisory: reported beside the decision"
            words = None if r.get("binding") else ADVISORY_WORDS.get(r["outcome"])
            body = [f"**{esc(names[r['regime']])}** · {kind}", "", _badge(r["outcome"], words), ""]
            body += [_finding(f, r["regime"], reference) for f in r.get("findings") or []]
            if not r.get("findings"):
                body.append("No rule of this regime stands for this transaction.")
            cards.append("-   " + _indent("\n".join(body)).lstrip())
        out.append('<div class="grid cards ec-regimes" markdown>\n\n' + "\n".join(cards) + "\n</div>\n")
    quiet = [names[r["regime"]] for r in regimes if r["outcome"] == "not_applicable"]
    if quiet:
        out.append(f"Not applicable (no jurisdiction over this transaction): {esc(', '.join(quiet))}.\n")
    if d.get("obligations"):
        out.append("**What to do next**\n")
        out.append("\n".join(f"- {esc(obligation_line(o))}"
                             + (f" ({esc(names.get(o['regime'], o['regime']))})" if o.get("regime") else "")
                             + (f": *{cite(o['cite'])}*" if o.get("cite") else "")
                             for o in d["obligations"]) + "\n")
    if d.get("questions"):
        out.append("**Open questions**: the facts that would settle what is still open\n")
        out.append("\n".join(f"{i}. {esc(q.get('ask', ''))}" for i, q in enumerate(d["questions"], 1)) + "\n")
    if d.get("conflicts"):
        out.append("**Conflicts between laws** (reported, not resolved)\n")
        out.append("\n".join(f"- {esc(c.get('message', ''))} *{cite(c.get('cite'))}*" for c in d["conflicts"]) + "\n")
    return "\n".join(out)
