"""The determination record a person files: one self-contained HTML page (no network, prints to
A4 and Letter) or Markdown for a ticket, from a decision and the transaction it decided.

It says, in this order: the outcome and what to do next, the transaction in brief, each binding
regime with its findings (citations linked to the official texts), the checks behind each "no",
the open questions, the advisory regimes apart, the law's versions, and what produced it (policy
digest, engine). Everything shown comes from the decision; nothing is decided here."""

from __future__ import annotations

import html

from .citations import to_html, to_markdown
from .render import ADVISORY_WORDS, DENIAL_WORDS, OUTCOME_WORDS, fact_value, obligation_line

_CSS = """
:root { --ink:#1b1f24; --muted:#59636e; --line:#d0d7de; --red:#b42318; --amber:#8a5a00; --green:#1a7f37;
        --cyan:#0b6b8a; --bg-red:#fde8e7; --bg-amber:#fff4d6; --bg-green:#e6f4ea; --bg-cyan:#e3f2f7; }
* { box-sizing: border-box; }
body { font: 14px/1.45 "Helvetica Neue", Arial, "Liberation Sans", sans-serif; color: var(--ink);
       max-width: 60rem; margin: 2rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.15rem; margin: 1.6rem 0 .5rem;
     border-bottom: 1px solid var(--line); padding-bottom: .2rem; } h3 { font-size: 1rem; margin: 1rem 0 .3rem; }
.meta, .muted { color: var(--muted); } .small { font-size: .85em; }
.outcome { display: inline-block; font-weight: 700; letter-spacing: .03em; padding: .15rem .55rem;
           border-radius: .25rem; border: 1px solid currentColor; }
.o-prohibited { color: var(--red); background: var(--bg-red); }
.o-indeterminate { color: var(--amber); background: var(--bg-amber); }
.o-license_required { color: var(--red); background: #fff; }
.o-authorized { color: var(--cyan); background: var(--bg-cyan); }
.o-no_license_required { color: var(--green); background: var(--bg-green); }
.o-not_applicable { color: var(--muted); background: #fff; }
.banner { border: 1px solid var(--line); border-radius: .4rem; padding: .8rem 1rem; margin: 1rem 0; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 .8rem; }
th, td { text-align: left; vertical-align: top; border-bottom: 1px solid var(--line); padding: .3rem .4rem; }
th { font-weight: 600; color: var(--muted); font-size: .85em; }
ul.todo { list-style: none; padding-left: 0; } ul.todo li { margin: .35rem 0; padding-left: 1.6rem; position: relative; }
ul.todo li::before { content: ""; position: absolute; left: 0; top: .2rem; width: .9rem; height: .9rem;
                     border: 1.5px solid var(--ink); border-radius: .15rem; }
.finding { margin: .5rem 0 .8rem; } .cite { font-style: italic; }
.unverified { color: var(--amber); font-weight: 600; }
.nowrap { white-space: nowrap; }
.warning { border-left: 4px solid var(--amber); background: var(--bg-amber); padding: .4rem .8rem; margin: .4rem 0; }
.advisory { border-left: 4px solid var(--line); padding-left: .8rem; color: var(--muted); }
code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .88em; }
a { color: var(--cyan); }
.sign { display: grid; grid-template-columns: 1fr 1fr; gap: 2rem; margin-top: 2rem; }
.sign div { border-top: 1px solid var(--ink); padding-top: .3rem; color: var(--muted); }
@page { size: auto; margin: 16mm 14mm; }
@media print { body { margin: 0; max-width: none; font-size: 10.5pt; } a { color: inherit; text-decoration: none; }
  h2 { break-after: avoid; } .finding, tr, li { break-inside: avoid; } }
"""


def _e(x) -> str:
    return html.escape("" if x is None else str(x))


def _badge(outcome: str) -> str:
    return f'<span class="outcome o-{_e(outcome)}">{_e(OUTCOME_WORDS[outcome])}</span>'


def _items(tx: dict) -> list:
    """(depth, item) for every item and component, walked without recursion."""
    out, stack = [], [(0, it) for it in reversed(tx.get("items") or [])]
    while stack:
        depth, it = stack.pop()
        if not isinstance(it, dict):
            continue
        out.append((depth, it))
        stack.extend((depth + 1, c) for c in reversed(it.get("components") or []))
    return out


def _cls(it: dict) -> str:
    c = it.get("classification") or {}
    return ", ".join(f"{k} {fact_value(v)}" for k, v in c.items())


def _parties(tx: dict) -> list:
    rows = []
    if tx.get("exporter"):
        rows.append(("exporter", tx["exporter"]))
    if tx.get("end_user"):
        rows.append(("end user", tx["end_user"]))
    rows += [(c.get("role", "consignee"), c) for c in tx.get("consignees") or []]
    rows += [(p.get("role", "party"), p) for p in tx.get("parties") or []]
    return rows


def to_html_page(decision: dict, tx: dict) -> str:
    """One self-contained page: inline CSS, no script, no font or image from the network."""
    d = decision
    out = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>Export-control determination {_e(d['transaction'])}</title>", f"<style>{_CSS}</style></head><body>"]
    out.append(f"<h1>Export-control determination: {_e(d['transaction'])}</h1>")
    out.append(f'<p class="meta">Law as of {_e(d["as_of"])} · produced by {_e(d.get("engine", "exportctl"))} · '
               f"policy digest <code>{_e(d['policy_digest'])}</code></p>")
    banner = f'<div class="banner"><p>{_badge(d["outcome"])}'
    if d.get("at_least") and d.get("at_most"):
        banner += (f' <span class="muted">at least {_e(OUTCOME_WORDS[d["at_least"]].lower())}, at most '
                   f'{_e(OUTCOME_WORDS[d["at_most"]].lower())}</span>')
    if d.get("driven_by"):
        banner += f' <span class="muted">set by {_e(", ".join(d["driven_by"]))}</span>'
    banner += "</p>"
    for w in d.get("warnings", []):
        banner += f'<p class="warning">{_e(w["message"])}</p>'
    out.append(banner + "</div>")

    if d.get("obligations"):
        out.append("<h2>What to do next</h2><ul class=\"todo\">")
        for o in d["obligations"]:
            cite = f' <span class="cite small">{to_html(o["cite"])}</span>' if o.get("cite") else ""
            who = f' <span class="muted small">({_e(o["regime"])})</span>' if o.get("regime") else ""
            unv = f' <span class="unverified small">UNVERIFIED: {_e(o["unverified"])}</span>' if o.get("unverified") else ""
            out.append(f"<li>{_e(obligation_line(o))}{who}{cite}{unv}</li>")
        out.append("</ul>")

    out.append("<h2>The transaction</h2><table>")
    for label, key in (("Reference", "id"), ("Date", "date"), ("Kind", "kind"), ("Ships from", "ship_from"),
                       ("Destination", "destination"), ("End use", "end_use")):
        if key in tx:
            out.append(f"<tr><th>{label}</th><td>{_e(fact_value(tx[key]))}</td></tr>")
    if tx.get("launch"):
        out.append(f"<tr><th>Launch</th><td>{_e(', '.join(f'{k} {v}' for k, v in tx['launch'].items()))}</td></tr>")
    out.append("</table>")
    parties = _parties(tx)
    if parties:
        out.append("<h3>Parties</h3><table><tr><th>Role</th><th>Name</th><th>Country</th><th>Screening</th></tr>")
        for role, p in parties:
            lists = p.get("lists")
            screen = "not screened" if lists is None else (", ".join(lists) or "on no list")
            out.append(f"<tr><td>{_e(role)}</td><td>{_e(p.get('name'))}</td><td>{_e(p.get('country'))}</td>"
                       f"<td>{_e(screen)}</td></tr>")
        out.append("</table>")
    out.append("<h3>Items</h3><table><tr><th>Item</th><th>Description</th><th>Origin</th><th>Value</th>"
               "<th>Classification</th></tr>")
    for depth, it in _items(tx):
        pad = "&nbsp;" * 4 * depth + ("└ " if depth else "")
        out.append(f"<tr><td class=\"nowrap\">{pad}<code>{_e(it.get('id'))}</code></td><td>{_e(it.get('description', ''))}</td>"
                   f"<td>{_e(it.get('origin', '?'))}</td><td>{_e(it.get('value', ''))}</td>"
                   f"<td class=\"small\">{_e(_cls(it))}</td></tr>")
    out.append("</table>")

    if d.get("questions"):
        out.append("<h2>Open questions</h2><ol>")
        for q in d["questions"]:
            rules = ", ".join(f'{_e(r["rule"])} (<span class="cite">{to_html(r["cite"])}</span>)' for r in q["rules"])
            how = "this answer settles it" if q["settles"] else "needed together with other answers"
            out.append(f"<li>{_e(q['ask'])}<br><span class=\"small muted\"><code>{_e(q['fact'])}</code> · {how}"
                       f"{' · for ' + rules if rules else ''}</span></li>")
        out.append("</ol>")

    flagged = [p for p in (d.get("screening") or {}).get("parties", []) if p.get("status") not in (None, "none")]
    if flagged:
        out.append("<h2>Screening of the parties</h2><table class=\"small\"><tr><th>Party</th><th>Status</th>"
                   "<th>List entry</th><th>Score</th><th>Names compared</th><th>Listing</th></tr>")
        for p in flagged:
            for m in p.get("matches", []):
                listed = f"listed {m['listed']}" + (f", removed {m['removed']}" if m.get("removed") else "")
                out.append(f"<tr><td>{_e(p['party'])}<br>{_e(p['name'])}</td><td>{_e(m['status'])}</td>"
                           f"<td>{_e(m['list'])}: {_e(m['entry_name'])}</td><td>{m['score']:.2f}</td>"
                           f"<td>{_e(m['matched']['party'])} ~ {_e(m['matched']['entry'])}</td>"
                           f"<td><span class=\"cite\">{to_html(m['cite'])}</span><br>{_e(listed)}</td></tr>")
        out.append("</table>")

    out.append("<h2>Binding regimes</h2>")
    for r in d["regimes"]:
        if not r["binding"]:
            continue
        out.append(f"<h3>{_e(r['regime'])}: {_e(r.get('title', ''))} {_badge(r['outcome'])}</h3>")
        out.append(f'<p class="muted small">Policy version {_e(r.get("version"))}'
                   + (f" · {_e(r['note'])}" if r.get("note") else "")
                   + (f" · {_e(DENIAL_WORDS.get(r['denial_kind'], r['denial_kind']))}" if r.get("denial_kind") else "")
                   + "</p>")
        for f in r["findings"]:
            auth = f" [{_e(f['authorization'])}]" if f.get("authorization") else ""
            item = f" · item <code>{_e(f['item'])}</code>" if f.get("item") else ""
            denial = f" ({_e(DENIAL_WORDS.get(f['denial_kind'], f['denial_kind']))})" if f.get("denial_kind") else ""
            because = ", ".join(f"<code>{_e(k)}</code> = {_e(fact_value(v))}" for k, v in f.get("because", {}).items())
            out.append(f'<div class="finding">{_badge(f["outcome"])}{denial}{auth}{item}: {_e(f["message"])}<br>'
                       f'<span class="cite">{to_html(f["cite"])}</span> <span class="muted small">({_e(f["rule"])})</span>'
                       + (f'<br><span class="unverified small">UNVERIFIED: {_e(f["unverified"])}</span>' if f.get("unverified") else "")
                       + (f'<br><span class="small muted">because {because}</span>' if because else "") + "</div>")
        checked = r.get("checked") or []
        if checked:
            opened = " open" if r["outcome"] != "not_applicable" else ""
            out.append(f'<details{opened}><summary class="small">Checked, and why each did not apply '
                       f"({len(checked)})</summary><table class=\"small\"><tr><th>Rule</th><th>Item</th>"
                       "<th>Condition that was false</th><th>Facts</th></tr>")
            for c in checked:
                what = f"{_e(c['rule'])}" + (f"<br><span class=\"muted\">exception to {_e(c['exception_to'])}</span>"
                                              if c.get("exception_to") else "")
                facts = ", ".join(f"{_e(k)} = {_e(fact_value(v))}" for k, v in c["facts"].items())
                out.append(f"<tr><td>{what}<br><span class=\"cite\">{to_html(c['cite'])}</span></td>"
                           f"<td class=\"nowrap\">{_e(c.get('item') or '')}</td><td><code>{_e(c['failed'])}</code></td><td>{facts}</td></tr>")
            out.append("</table></details>")

    advisory = [r for r in d["regimes"] if not r["binding"] and r["outcome"] != "not_applicable"]
    if advisory:
        out.append("<h2>Advisory regimes</h2><div class=\"advisory\"><p>How partner governments review such a "
                   "transfer. Not a legal requirement on the exporter.</p><ul>")
        for r in advisory:
            out.append(f"<li><b>{_e(r['regime'])}</b>: {_e(ADVISORY_WORDS[r['outcome']])}"
                       + "".join(f'<br><span class="small">{_e(f["message"])} · <span class="cite">{to_html(f["cite"])}</span></span>'
                                 for f in r["findings"]) + "</li>")
        out.append("</ul></div>")
    quiet = [r["regime"] for r in d["regimes"] if r["outcome"] == "not_applicable"]
    if quiet:
        out.append(f'<p class="muted small">Not applicable: {_e(", ".join(quiet))}.</p>')
    if d.get("conflicts"):
        out.append("<h2>Conflicts between laws</h2>")
        for c in d["conflicts"]:
            out.append(f"<p><b>{_e(c['title'])}</b> ({_e(', '.join(c['regimes']))})<br>{_e(c['message'])}<br>"
                       f"<span class=\"cite small\">{to_html(c['cite'])}</span></p>")
    out.append("<h2>The law applied</h2><table><tr><th>Regime</th><th>Binding</th><th>Policy version</th></tr>")
    for r in d["regimes"]:
        out.append(f"<tr><td>{_e(r['regime'])}</td><td>{'yes' if r['binding'] else 'advisory'}</td>"
                   f"<td>{_e(r.get('version'))}</td></tr>")
    out.append("</table>")
    out.append('<p class="small muted">This record shows what exportctl determined from the facts given and the '
               "policies identified by the digest above; it is not legal advice. Facts not given were treated as "
               "unknown, never as no.</p>")
    out.append('<div class="sign"><div>Reviewed by (name, date)</div><div>Signature</div></div>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def to_markdown_doc(decision: dict, tx: dict) -> str:
    """The same record in Markdown, for a ticket or a pull request."""
    d = decision
    lines = [f"## Export-control determination: {d['transaction']}", "",
             f"**{OUTCOME_WORDS[d['outcome']]}**"
             + (f" (at least {OUTCOME_WORDS[d['at_least']].lower()}, at most {OUTCOME_WORDS[d['at_most']].lower()})"
                if d.get("at_least") and d.get("at_most") else "")
             + (f", set by {', '.join(d['driven_by'])}" if d.get("driven_by") else "")
             + f" · law as of {d['as_of']}", ""]
    for w in d.get("warnings", []):
        lines.append(f"> **Warning:** {w['message']}")
    if d.get("warnings"):
        lines.append("")
    if d.get("obligations"):
        lines += ["### What to do next", ""]
        lines += [f"- [ ] {obligation_line(o)}" + (f" ({o['regime']})" if o.get("regime") else "")
                  + (f", {to_markdown(o['cite'])}" if o.get("cite") else "") for o in d["obligations"]]
        lines.append("")
    if d.get("questions"):
        lines += ["### Open questions", ""]
        lines += [f"{i}. {q['ask']} (`{q['fact']}`)" for i, q in enumerate(d["questions"], 1)]
        lines.append("")
    lines += ["### Regimes", "", "| regime | outcome | findings |", "| --- | --- | --- |"]
    for r in d["regimes"]:
        word = OUTCOME_WORDS[r["outcome"]] if r["binding"] else f"advisory: {ADVISORY_WORDS[r['outcome']]}"
        found = "<br>".join(f"{f['message']} ({to_markdown(f['cite'])})" for f in r["findings"]) or "-"
        lines.append(f"| {r['regime']} | {word} | {found.replace('|', '/')} |")
    lines += ["", f"Items: {', '.join(str(it.get('id')) for _, it in _items(tx))} · "
              f"{tx.get('ship_from', '?')} to {tx.get('destination', '?')} · policy `{d['policy_digest'][:19]}` · "
              f"{d.get('engine', 'exportctl')}", ""]
    return "\n".join(lines)
