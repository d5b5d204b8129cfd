"""Mermaid diagrams of the policies, from their AST: a rule with what defeats it and what it uses, a
regime's rules by outcome, and how a transaction flows through the regimes to a decision.

No policy text becomes Mermaid syntax: node ids are generated (`n0`, `n1` ...), and every label
is quoted with `label()`, which writes each character Mermaid reads as syntax as an entity code."""

from __future__ import annotations

from .. import ast as A
from .markdown import OUTCOME_LABEL, short_name

OUTCOME_ORDER = ["prohibited", "indeterminate", "license_required", "authorized", "no_license_required"]

# Characters Mermaid (or the HTML it writes) reads as syntax inside a quoted label, as entity codes.
_ENTITIES = {'"': "#quot;", "#": "#35;", ";": "#59;", "<": "#lt;", ">": "#gt;", "&": "#amp;",
             "`": "#96;", "%": "#37;", "\\": "#92;", "{": "#123;", "}": "#125;", "|": "#124;"}


def label(text, limit: int | None = None) -> str:
    """`text` as a quoted Mermaid label: every character with a meaning to Mermaid, Markdown or
    HTML written as an entity code, so a hostile title can only ever be text."""
    s = " ".join(str(text).split())
    if limit and len(s) > limit:
        s = s[:limit - 1].rstrip() + "…"
    return '"' + "".join(_ENTITIES.get(ch, ch) for ch in s) + '"'


def _href(target: str) -> str:
    """A link target for `click ... href`: only characters that cannot end the quoted string."""
    return '"' + "".join(ch for ch in target if ch.isalnum() or ch in "-_.#/:") + '"'


def page(regime: str) -> str:
    """The built page of a regime, as a diagram links to it (mkdocs does not rewrite links inside
    a diagram; the site is built with `use_directory_urls: false`)."""
    return f"{regime}.html"


def mermaid_block(lines: list[str]) -> str:
    """A ```mermaid fence; the site draws it (docs/javascripts/vendor/mermaid.min.js, no CDN)."""
    return "```mermaid\n" + "\n".join(lines) + "\n```\n"


def used_names(e, policy: A.Policy) -> tuple[list[str], list[str], list[tuple[str, str, str]]]:
    """The definitions, sets and other regimes' names (alias, name, kind) an expression uses, in
    the order they first appear."""
    defines = {d.name for d in policy.defines}
    sets = {s.name for s in policy.sets}
    aliases = {u.alias: u.regime for u in policy.uses}
    d_out: list[str] = []
    s_out: list[str] = []
    x_out: list[tuple[str, str, str]] = []
    stack = [e] if e is not None else []
    while stack:
        node = stack.pop(0)
        if isinstance(node, A.Call):
            if node.namespace is None and node.name in defines and node.name not in d_out:
                d_out.append(node.name)
            elif node.namespace in aliases and (node.namespace, node.name, "define") not in x_out:
                x_out.append((node.namespace, node.name, "define"))
        elif isinstance(node, A.Ref):
            if len(node.parts) == 1 and node.parts[0] in sets and node.parts[0] not in s_out:
                s_out.append(node.parts[0])
            elif len(node.parts) == 1 and node.parts[0] in defines and node.parts[0] not in d_out:
                d_out.append(node.parts[0])
            elif len(node.parts) == 2 and node.parts[0] in aliases and (node.parts[0], node.parts[1], "name") not in x_out:
                x_out.append((node.parts[0], node.parts[1], "name"))
        stack.extend(A.children(node))
    return d_out, s_out, x_out


def _outcome_text(r: A.Rule) -> str:
    if not r.outcome:
        return "no outcome of its own"
    return OUTCOME_LABEL.get(r.outcome, r.outcome) + (f": {r.authorization}" if r.authorization else "")


_STYLES = [
    "classDef rule fill:#e8eaf6,stroke:#3f51b5,color:#1a237e",
    "classDef exc fill:#e8f5e9,stroke:#2e7d32,color:#1b5e20",
    "classDef def fill:#fff8e1,stroke:#f9a825,color:#5d4037",
    "classDef out fill:#fbe9e7,stroke:#d84315,color:#bf360c",
]


def rule_diagram(p: A.Policy, r: A.Rule, where: dict) -> str:
    """One rule, top to bottom: what it uses (definitions, sets) -> the rule -> its outcome, and
    the exceptions that defeat it; the rule it defeats, if it is an exception itself."""
    lines = ["flowchart TB"]
    links = []
    lines.append(f"  r[{label(r.id + ': ' + r.title, 90)}]:::rule")
    lines.append(f"  o([{label(_outcome_text(r))}]):::out")
    lines.append(f"  r -- {label('when it stands')} --> o")
    defs, sets, other = used_names(r.when, p)
    for i, name in enumerate(defs):
        lines.append(f"  d{i}[/{label(name)}/]:::def")
        lines.append(f"  d{i} -.-> r")
        links.append(f"  click d{i} href {_href('#define-' + name)}")
    for i, name in enumerate(sets):
        lines.append(f"  s{i}[({label(name)})]:::def")
        lines.append(f"  s{i} -.-> r")
        links.append(f"  click s{i} href {_href('#set-' + name)}")
    aliases = {u.alias: u.regime for u in p.uses}
    for i, (alias, name, kind) in enumerate(other):
        shape = ("[/", "/]") if kind == "define" else ("[(", ")]")
        lines.append(f"  u{i}{shape[0]}{label(alias + '.' + name)}{shape[1]}:::def")
        lines.append(f"  u{i} -.-> r")
        anchor = ("#define-" if kind == "define" else "#set-") + name
        links.append(f"  click u{i} href {_href(page(aliases[alias]) + anchor)}")
    for i, x in enumerate(x for x in p.rules if x.exception_to == r.id):
        lines.append(f"  e{i}[{label('exception ' + x.id, 70)}]:::exc")
        lines.append(f"  r -. {label('defeated when it holds')} .-> e{i}")
        links.append(f"  click e{i} href {_href('#' + x.id)}")
    if r.exception_to:
        target = where.get(r.exception_to)
        lines.append(f"  t[{label('rule ' + r.exception_to)}]:::rule")
        lines.append(f"  r == {label('defeats, when it holds')} ==> t")
        if target is not None:
            href = ("#" if target == p.regime else page(target) + "#") + r.exception_to
            links.append(f"  click t href {_href(href)}")
    return mermaid_block(lines + links + _STYLES)


def regime_map(p: A.Policy, per_row: int = 4) -> str:
    """A regime's rules grouped by outcome, most restrictive first, in up to `per_row` columns so
    that the map fits a screen. Ids only, each linked to its rule; exceptions are drawn as exceptions."""
    if not p.rules and not p.conflicts:
        return ""
    groups: dict[str, list] = {}
    for r in p.rules:
        groups.setdefault(r.outcome or "none", []).append((r.id, "exc" if r.exception_to else "rule"))
    order = [o for o in OUTCOME_ORDER if o in groups] + sorted(o for o in groups if o not in OUTCOME_ORDER)
    titled = [(OUTCOME_LABEL.get(o, "no outcome of its own" if o == "none" else o), groups[o]) for o in order]
    if p.conflicts:
        titled.append(("conflicts with other regimes", [(c.id, "out") for c in p.conflicts]))
    lines = ["flowchart TB"]
    links = []
    n = 0
    for gi, (title, members) in enumerate(titled):
        lines.append(f"  subgraph g{gi}[{label(title + f' ({len(members)})')}]")
        lines.append("    direction TB")
        # columns of rules, each as wide as its own widest id (rows would align every column)
        per_col = -(-len(members) // min(per_row, len(members)))
        for start in range(0, len(members), per_col):
            col = []
            for rid, cls in members[start:start + per_col]:
                lines.append(f"    n{n}[{label(rid)}]:::{cls}")
                links.append(f"  click n{n} href {_href('#' + rid)}")
                col.append(f"n{n}")
                n += 1
            if len(col) > 1:
                lines.append("    " + " ~~~ ".join(col))
        lines.append("  end")
    if len(titled) > 1:
        lines.append("  " + " ~~~ ".join(f"g{i}" for i in range(len(titled))))
    small = [f"{line},font-size:13px" for line in _STYLES]   # ids only: a smaller type fits more on a screen
    return mermaid_block(lines + links + small)


def flow_diagram(policies: dict, order: list[str]) -> str:
    """How a transaction flows through the regimes to a decision (the home page): one lane per
    regime, from its jurisdiction (a regime that does not apply is `not applicable` and stops
    there) to its outcome; binding outcomes combine into the decision."""
    lines = ["flowchart LR",
             f"  tx[/{label('Transaction (YAML)')}/]",
             f"  v{{{label('valid?')}}}",
             f"  bad[{label('Error: where and what')}]:::out",
             "  tx --> v",
             f"  v -- {label('no')} --> bad",
             f"  dec[{label('Decision: the most restrictive binding outcome, with questions for the facts that would settle it')}]:::rule",
             f"  adv[{label('Advisory: reported beside the decision')}]:::def"]
    links = []
    for i, regime in enumerate(order):
        p = policies[regime]
        name = short_name(regime, p.header.title)
        n_rules = sum(1 for r in p.rules if not r.exception_to)
        n_excs = sum(1 for r in p.rules if r.exception_to)
        lines.append(f"  a{i}[{label(name + ' applies?')}]")
        lines.append(f"  v -- {label('yes')} --> a{i}" if i == 0 else f"  v --> a{i}")
        lines.append(f"  r{i}[{label(f'{n_rules} rules')}]:::rule")
        lines.append(f"  a{i} -- {label('yes')} --> r{i}")
        lines.append(f"  x{i}[{label(f'{n_excs} exception' + ('' if n_excs == 1 else 's'))}]:::exc")
        lines.append(f"  r{i} --> x{i}")
        lines.append(f"  x{i} -- {label('outcome')} --> {'dec' if p.header.binding else 'adv'}")
        for n in (f"a{i}", f"r{i}", f"x{i}"):
            links.append(f"  click {n} href {_href('reference/' + page(regime))}")
    return mermaid_block(lines + links + _STYLES)
