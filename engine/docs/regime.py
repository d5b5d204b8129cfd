"""One regime's page: header, sets, definitions, rules and conflicts in the policy file's own layout,
each with its source text and its golden cases."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .. import ast as A
from ..explain import source_of
from .casetables import cases_block
from .diagrams import regime_map, rule_diagram
from .markdown import (GENERATED, admonition, cite, code, esc, fence, link_rule, not_encoded_section, period,
                       slug_regime, source_lines, source_link, table)


def regime_stats(policy: A.Policy, cov: dict, results: list) -> dict:
    rules = list(policy.rules) + list(policy.conflicts)
    covered = sum(1 for r in rules if r.id in cov and cov[r.id].covered)
    mine = [r for r in results if r.case.regime == policy.regime]
    return {
        "rules": len(rules),
        "covered": covered,
        "pct": (100 * covered // len(rules)) if rules else 100,
        "cases": len(mine),
        "failed": sum(1 for r in mine if not r.passed),
    }


def _header_block(p: A.Policy, policies: dict, stats: dict, source_url: str | None) -> str:
    h = p.header
    kind = ("binding: it sets the outcome of the transactions it applies to" if h.binding
            else "advisory: reported beside the decision; it does not set the outcome")
    lines = [
        f"- **Regime:** {code(p.regime)}, {kind}",
        f"- **Version:** {esc(h.version or 'not stated')}",
        f"- **Source:** {esc(h.source or 'not stated')}",
        f"- **In force:** {esc(period(h.start, h.end, 'always (the policy gives no dates)'))}",
    ]
    if p.uses:
        used = []
        for u in p.uses:
            label = code(u.regime) + (f" as {code(u.alias)}" if u.alias != u.regime else "")
            used.append(f"[{label}]({slug_regime(u.regime)})" if u.regime in policies else label)
        lines.append(f"- **Uses the sets and definitions of:** {', '.join(used)}")
    cases = f"{stats['cases']} golden case(s)" + (
        f", **{stats['failed']} failing**" if stats["failed"] else (", all passing" if stats["cases"] else ""))
    if stats["rules"]:
        lines.append(f"- **Rules:** {stats['rules']}; coverage {stats['pct']} %; {cases}")
    else:
        lines.append("- **Rules:** none (this policy provides sets and definitions that other regimes `use`)")
    lines.append(f"- **Changelog:** [{len(p.changes)} recorded change(s)]({p.regime}-changelog.md)")
    path = source_link(p, p.header.span.line, None, source_url, code(p.path))
    lines.append(f"- **Policy file:** {path}")
    out = "\n".join(lines) + "\n\n"
    for n in h.notes:
        out += admonition("note", "Note", esc(n))
    return out


def _page_bases(p: A.Policy, results: list, by_rule: dict, bases: dict) -> tuple[dict, list]:
    """The base transactions the cases shown on a regime page use: ((file, name) -> anchor, [(anchor, name, tx)])."""
    shown = []
    for r in list(p.rules) + list(p.conflicts):
        shown.extend(by_rule.get(r.id, []))
    anchors, listed, seen = {}, [], {}
    for res in shown:
        name = res.case.spec.get("base")
        key = (res.case.file, name)
        if name is None or key in anchors:
            continue
        tx = (bases.get(res.case.file) or {}).get(name, (bases.get("") or {}).get(name))
        if tx is None:
            continue
        blob = json.dumps(tx, sort_keys=True, default=str)
        anchor = f"base-{name}"
        if anchor in seen and seen[anchor] != blob:
            anchor = f"base-{Path(res.case.file).stem}-{name}"
        if anchor not in seen:
            seen[anchor] = blob
            listed.append((anchor, name, tx))
        anchors[key] = anchor
    return anchors, listed


def _bases_block(listed: list) -> str:
    import yaml

    out = ["## Base transactions\n",
           "The transactions the golden cases above start from; a case changes them with `with` "
           "(a fact set to a value) and `without` (a fact removed, so unknown).\n"]
    for anchor, name, tx in listed:
        text = yaml.safe_dump(tx, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100)
        out.append(f'<span id="{anchor}"></span>\n')
        out.append(f'??? example "{name}"\n')
        out.append("".join(f"    {line}\n" if line else "\n" for line in fence(text, "yaml").splitlines()))
    return "\n".join(out)


_SECTION = re.compile(r"^\s*#\s*[-=*#]{3,}\s*(.*?)\s*[-=*#]*\s*$")


_COMMENT = re.compile(r"^\s*#(?: ?)(.*)$")


class Layout:
    """Where each declaration sits in its policy file: the section (a `# ---- Title` comment
    line) and the comments written above it, which the docs show as prose beside it.

    `section[line]` is the title of the section a declaration (by its first line) is in;
    `intro[title]` the comments right after a section's header; `comment[line]` the comments
    right above a declaration that is not the first of its section; `preamble` the comments
    above the `regime` header."""

    def __init__(self, policy: A.Policy):
        lines = policy.text.splitlines()
        decls = [policy.header, *policy.uses, *policy.applies, *policy.changes, *policy.sets,
                 *policy.defines, *policy.rules, *policy.conflicts]
        spans = sorted((d.span.line, d.span.end_line or d.span.line) for d in decls if d.span.line)
        self.section: dict[int, str | None] = {}
        self.intro: dict[str, str] = {}
        self.comment: dict[int, str] = {}
        self.preamble = ""
        current = None
        prev_end = 0
        for line, end in spans:
            gap = lines[prev_end:line - 1]
            heads = [i for i, text in enumerate(gap) if _SECTION.match(text) and _SECTION.match(text).group(1)]
            if heads:
                current = _SECTION.match(gap[heads[-1]]).group(1)
                text = _comment_text(gap[heads[-1] + 1:])
                if text and current not in self.intro:
                    self.intro[current] = text
            else:
                text = _comment_text(gap)
                if text:
                    if prev_end == 0:
                        self.preamble = text
                    else:
                        self.comment[line] = text
            self.section[line] = current
            prev_end = max(prev_end, end)

    def groups(self, decls) -> list[tuple[str | None, list]]:
        """Declarations grouped by section, in source order."""
        out: list[tuple[str | None, list]] = []
        for d in sorted(decls, key=lambda d: d.span.line):
            sec = self.section.get(d.span.line)
            if out and out[-1][0] == sec:
                out[-1][1].append(d)
            else:
                out.append((sec, [d]))
        return out


def _comment_text(lines: list[str]) -> str:
    """Comment lines as markdown prose: `#` removed, blank comment lines separate paragraphs."""
    out = []
    for line in lines:
        m = _COMMENT.match(line)
        if m is None:
            if line.strip():
                out = []  # code between comments: only the comments right above count
            else:
                out.append("")
            continue
        if _SECTION.match(line):
            continue
        out.append(m.group(1).rstrip())
    text = "\n".join(out).strip("\n")
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def regime_page(p: A.Policy, policies: dict, cov: dict, results: list, by_rule: dict, where: dict,
                 readme: str | None, bases: dict, source_url: str | None) -> str:
    st = regime_stats(p, cov, results)
    anchors, listed = _page_bases(p, results, by_rule, bases)
    lay = Layout(p)
    shown_intro: set = set()
    sectioned = any(v for v in lay.section.values())

    def intro(section) -> list[str]:
        if section and section not in shown_intro and section in lay.intro:
            shown_intro.add(section)
            return [lay.intro[section] + "\n"]
        return []

    def comment(d) -> list[str]:
        text = lay.comment.get(d.span.line)
        return [text + "\n"] if text else []

    out = [GENERATED, f"# {esc(p.header.title)}\n", _header_block(p, policies, st, source_url)]
    if lay.preamble:
        out.append(lay.preamble + "\n")
    rmap = regime_map(p)
    if rmap:
        out.append("## Map of the rules\n")
        out.append("Every rule of this regime by the outcome it gives when it stands, most restrictive first; "
                   "exceptions (the rules that defeat another) are green. Select a rule to read it.\n")
        out.append('<div class="ec-diagram" markdown>\n\n' + rmap + '\n</div>\n')

    out.append("## Applicability\n")
    if not p.applies:
        out.append("This regime has no `applies` declaration: it applies to every transaction "
                   "(while it is in force).\n")
    else:
        for i, a in enumerate(p.applies):
            out += intro(lay.section.get(a.span.line))
            if i == 0 and len(p.applies) > 1:
                out.append("The regime applies when any one of these conditions holds.\n")
            out += comment(a)
            out.append(f"**Cite:** {cite(a.cite) if a.cite else 'none given'}\n")
            out.append(fence(source_lines(p, a.span), "exportctl"))

    if readme:
        section = not_encoded_section(readme)
        if section:
            out.append("## Not encoded\n")
            out.append("What the research behind this policy found but the policy does not encode, or "
                       "encodes only with an UNVERIFIED flag, and why (from the regime's `README.md`). Where a "
                       "point is left out, decisions are silent on it: check it yourself.\n")
            out.append(section + "\n")

    if p.obligations:
        out.append("## Obligations\n")
        out.append("What the exporter must do when a rule that names the obligation stands (an exception that "
                   "defeats a rule brings its own instead).\n")
        out.append(table(["Obligation", "Kind", "What", "Form", "Authority", "By", "Cite"], [
            [code(o.id), esc(o.kind), esc(o.text) + (f" <br>**UNVERIFIED:** {esc(o.unverified)}" if o.unverified else ""),
             esc(o.form or ""), esc(o.authority or ""), esc(o.by or ""), esc(o.cite or "")] for o in p.obligations]))

    if p.encodes:
        out.append("## Encoded scope\n")
        out.append("The classification entries this policy's rules were written for. An item or component "
                   "classified outside them makes the regime indeterminate: determine it by hand.\n")
        out.append(table(["List", "Entries", "Looked at", "Cite"], [
            [code(s.path.dotted), set_members(A.SetDecl("", None, None, (("+", s.entries),), s.span)),
             code(source_of(p.text, s.when.span)) if s.when is not None else "every item and component",
             esc(s.cite or "")] for s in p.encodes]))

    if p.sets:
        out.append("## Sets\n")
        out.append("Named sets (country groups, lists of parties). A member with dates is a member only "
                   "on those dates (both inclusive).\n")
        for sec, group in lay.groups(p.sets):
            if sec and sectioned:
                out.append(f"### {esc(sec)}\n")
                out += intro(sec)
            notes = [f"**{code(s.name)}:** {lay.comment[s.span.line]}" for s in group if s.span.line in lay.comment]
            out.append(table(["Set", "Title", "Cite", "Members"], [
                [f'<span id="set-{s.name}"></span>{code(s.name)}', esc(s.title or "")
                 + (f" <br>**Partial:** {esc(s.partial)} (not being on it is unknown, not no)" if s.partial else ""),
                 esc(s.cite or ""), set_members(s)] for s in group]))
            out += [n + "\n" for n in notes]

    level = "###" if sectioned else "##"
    if p.defines:
        out.append("## Definitions\n")
        out.append("Named expressions the rules use; a definition with parameters is applied to an "
                   "item or a component.\n")
        for sec, group in lay.groups(p.defines):
            if sec and sectioned:
                out.append(f"### {esc(sec)}\n")
                out += intro(sec)
            for d in group:
                sig = d.name + (f"({', '.join(d.params)})" if d.params else "")
                out.append(f"{level}# {code(sig)} {{#define-{d.name}}}\n")
                out += comment(d)
                if d.title:
                    out.append(esc(d.title) + "\n")
                out.append(fence(source_lines(p, d.span), "exportctl"))

    if p.rules:
        out.append("## Rules\n")
        out.append("Each rule's diagram shows above the rule the definitions (slanted boxes) and sets "
                   "(cylinders) its condition uses, and below it the outcome when it stands and the exceptions "
                   "that defeat it. Select a box to read it.\n")
        for sec, group in lay.groups(p.rules):
            if sec and sectioned:
                out.append(f"### {esc(sec)}\n")
                out += intro(sec)
            for r in group:
                out.append(_rule_block(p, r, cov.get(r.id), by_rule.get(r.id, []), where, anchors, source_url,
                                       level + "#", comment(r)))
    if p.conflicts:
        out.append("## Conflicts\n")
        for sec, group in lay.groups(p.conflicts):
            if sec and sectioned:
                out.append(f"### {esc(sec)}\n")
                out += intro(sec)
            for c in group:
                out.append(_conflict_block(p, c, cov.get(c.id), by_rule.get(c.id, []), anchors, source_url,
                                           level + "#", comment(c)))
    if listed:
        out.append(_bases_block(listed))
    return "\n".join(out)


def set_members(s: A.SetDecl) -> str:
    parts = []
    for i, (op, term) in enumerate(s.terms):
        if isinstance(term, A.Ref):
            text = f"all of {code(term.dotted)}"
            if "." not in term.dotted:
                text = f"all of [{code(term.dotted)}](#set-{term.dotted})"
        else:
            ms = [_member(m) for m in term.members]
            text = ", ".join(ms) if ms else "(none)"
            if len(term.members) > 12:
                text = f"{len(term.members)} members: " + text
        if i == 0:
            parts.append(text)
        else:
            parts.append(("plus " if op == "+" else "except ") + text)
    return "; ".join(parts)


def _member(m: A.Member) -> str:
    s = esc(m.value) if re.fullmatch(r"[A-Z]{2}(-[A-Z0-9]{1,3})?", m.value) else esc(f'"{m.value}"')
    extra = [f'aka "{esc(a)}"' for a in m.aliases]
    if m.start and m.end:
        extra.append(f"{m.start} to {m.end}")
    elif m.start or m.end:
        extra.append(f"from {m.start}" if m.start else f"until {m.end}")
    if extra:
        s += f" ({'; '.join(extra)})"
    return s


def _rule_block(p: A.Policy, r: A.Rule, cov, results: list, where: dict, anchors: dict,
                source_url: str | None, level: str = "###", prose: list | None = None) -> str:
    out = [f"{level} {esc(r.title)} {{#{r.id}}}\n"]
    facts = [f"rule {code(r.id)}", f"in force {esc(period(r.start, r.end, 'whenever the regime is in force'))}"]
    if r.outcome:
        then = r.outcome + (f' "{r.authorization}"' if r.authorization else "")
        facts.append(f"then {code(then)}")
    if r.denial:
        facts.append(f"denial {code(r.denial)}")
    out.append(f"**Cite:** {cite(r.cite) if r.cite else 'none'}  \n" + " · ".join(facts) + "\n")
    if r.obliges or r.obliges_none:
        declared = {o.id: o for o in p.obligations}
        rows = [f"- {esc(declared[o].text) if o in declared else code(o)}"
                + (f" ({esc(declared[o].kind)}" + (f", form {esc(declared[o].form)}" if declared[o].form else "")
                   + (f", at {esc(declared[o].authority)}" if declared[o].authority else "") + ")" if o in declared else "")
                + (f": *{esc(declared[o].cite)}*" if o in declared and declared[o].cite else "")
                for o in r.obliges]
        if r.obliges_none:
            rows.append(f"- none: {esc(r.obliges_none)}")
        out.append("**Obligations when it stands:**\n\n" + "\n".join(rows) + "\n")
    out.append('<div class="ec-diagram" markdown>\n\n' + rule_diagram(p, r, where) + '\n</div>\n')
    if r.exception_to:
        out.append(f"Exception to {link_rule(r.exception_to, p.regime, where)}: when its condition holds, "
                   "it defeats that rule.\n")
    excs = [x for x in p.rules if x.exception_to == r.id]
    if excs:
        out.append("Exceptions to this rule: " + ", ".join(link_rule(x.id, p.regime, where) for x in excs) + ".\n")
    if r.unverified:
        out.append(admonition("warning", "UNVERIFIED",
                              "The research behind this policy could not confirm the law behind this rule; decisions that cite it "
                              f"say so.\n\n{esc(r.unverified)}"))
    out += _notes_source_cases(p, r, results, cov, anchors, source_url, prose)
    return "\n".join(out)


def _conflict_block(p: A.Policy, c: A.Conflict, cov, results: list, anchors: dict, source_url: str | None,
                    level: str = "###", prose: list | None = None) -> str:
    out = [f"{level} {esc(c.title)} {{#{c.id}}}\n",
           f"**Cite:** {cite(c.cite) if c.cite else 'none'}  \nconflict {code(c.id)} · between "
           + ", ".join(f"[{code(x)}]({slug_regime(x)})" for x in c.regimes) + "\n"]
    if c.unverified:
        out.append(admonition("warning", "UNVERIFIED",
                              "The research behind this policy could not confirm the law behind this conflict; decisions that "
                              f"report it say so.\n\n{esc(c.unverified)}"))
    out += _notes_source_cases(p, c, results, cov, anchors, source_url, prose)
    return "\n".join(out)


def _notes_source_cases(p: A.Policy, node, results: list, cov, anchors: dict, source_url: str | None,
                        prose: list | None) -> list:
    """What a rule's and a conflict's blocks end with: notes, prose, exact source, golden cases."""
    out = [admonition("note", "Note", esc(n)) for n in node.notes]
    out += prose or []
    label = f"{esc(Path(p.path).name)}, lines {node.span.line}-{node.span.end_line or node.span.line}"
    out.append(f"Source ({source_link(p, node.span.line, node.span.end_line, source_url, label)}):\n")
    out.append(fence(source_lines(p, node.span), "exportctl", f'linenums="{node.span.line}"'))
    out.append(cases_block(results, node.id, cov, anchors))
    return out
