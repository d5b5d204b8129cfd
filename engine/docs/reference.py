"""The policy reference: `pages(policyset, case_results)`, the index, one page per regime, the changelogs.
A pure function: no I/O."""

from __future__ import annotations


from .. import ast as A
from .casetables import rule_ids
from .diagrams import flow_diagram
from .markdown import FAIL, GENERATED, code, esc, period, regime_order, slug_regime, table
from .regime import regime_page, regime_stats


def _coverage_by_rule(policyset, case_results) -> dict:
    from ..cases import coverage

    return {c.rule_id: c for c in coverage(policyset, case_results)}


def pages(policyset, case_results, *, readmes: dict | None = None, bases: dict | None = None,
          source_url: str | None = None) -> dict[str, str]:
    """The policy reference as {path relative to the docs folder: markdown}. No I/O.

    `policyset` is a loaded, error-free PolicySet; `case_results` the CaseResults of its golden
    cases (`exportctl.cases.run_all`). `readmes` maps a regime id to the text of the README.md
    beside its policy (its "Not encoded" section is shown). `bases` maps a case file (as
    `Case.file` names it) to its base transactions by name, and "" to the shared ones
    (policies/bases.yaml); the bases a regime's cases use are shown on its page. `source_url`,
    if given, is a format string with {path}, {line} and {end_line} that links a rule to its
    source file."""
    readmes = readmes or {}
    bases = bases or {}
    cov = _coverage_by_rule(policyset, case_results)
    where = {r.id: p.regime for p in policyset.policies for r in list(p.rules) + list(p.conflicts)}
    by_rule: dict[str, list] = {}
    for res in case_results:
        for rid in sorted(rule_ids(res.case.spec)):
            by_rule.setdefault(rid, []).append(res)
    policies = {p.regime: p for p in policyset.policies}
    out = {"reference/index.md": _index_page(policyset, policies, cov, case_results),
           "reference/_flow.md": GENERATED + flow_diagram(policies, regime_order(policies))}
    for regime in regime_order(policies):
        p = policies[regime]
        out[f"reference/{regime}.md"] = regime_page(p, policies, cov, case_results, by_rule, where,
                                                     readmes.get(regime), bases, source_url)
        out[f"reference/{regime}-changelog.md"] = _changelog_page(p)
    return out


def _index_page(policyset, policies: dict, cov: dict, results: list) -> str:
    rows, versions = [], []
    total_rules = total_cases = total_failed = 0
    for regime in regime_order(policies):
        p = policies[regime]
        h = p.header
        st = regime_stats(p, cov, results)
        total_rules += st["rules"]
        total_cases += st["cases"]
        total_failed += st["failed"]
        cases = f"{st['cases']}" + (f" ({st['failed']} {FAIL})" if st["failed"] else "")
        rows.append([
            f"[{code(regime)}]({slug_regime(regime)})",
            esc(h.title),
            "binding" if h.binding else "advisory",
            str(st["rules"]),
            f"{st['pct']} %" if st["rules"] else "no rules",
            cases,
        ])
        versions.append(f"[{code(regime)}]({slug_regime(regime)})\n:   **Version:** {esc(h.version or 'not stated')}  \n"
                        f"    **Source:** {esc(h.source or 'not stated')}  \n"
                        f"    **In force:** {esc(period(h.start, h.end, 'always (the policy gives no dates)'))}; "
                        f"[changelog]({regime}-changelog.md) ({len(p.changes)} recorded change(s))\n")
    unnamed = [r for r in results if r.case.regime is None]
    text = [GENERATED, "# Policy reference\n",
            "Every regime exportctl encodes, generated from the policy files and their golden cases "
            "when this site was built. A **binding** regime sets the outcome of a transaction; an "
            "**advisory** one (MTCR, Wassenaar) is reported beside it. *Coverage* is the share of a "
            "regime's rules that have both a golden case where they fire and a near miss where they do not "
            "(what `exportctl check` requires); *cases* counts the golden cases in the regime's folder, "
            f"each run when the site was built ({FAIL} marks the ones that failed).\n",
            table(["Regime", "Title", "Kind", "Rules", "Coverage", "Cases"], rows),
            f"\n{len(policies)} regimes, {total_rules} rules, {total_cases + len(unnamed)} golden cases"
            + (f", **{total_failed} failing**" if total_failed else ", all passing") + ".\n",
            "## Versions and sources\n",
            "The text of the law each policy encodes, and where it was read. Every decision reports "
            "the version of each regime it applied.\n",
            "\n".join(versions)]
    conflicts = [(p, c) for p in policies.values() for c in p.conflicts]
    if conflicts:
        text.append("\n## Conflicts between regimes\n")
        text.append("A conflict is reported when complying with one regime may breach another; exportctl "
                    "lists it beside the decision and does not resolve it.\n")
        text.append(table(["Conflict", "Between", "Cite"], [
            [f"[{esc(c.title)}]({slug_regime(p.regime)}#{c.id})", ", ".join(code(r) for r in c.regimes),
             esc(c.cite or "")] for p, c in conflicts]))
    return "\n".join(text)


def _changelog_page(p: A.Policy) -> str:
    h = p.header
    out = [GENERATED, f"# {esc(h.title)}: changelog\n",
           f"Policy version **{esc(h.version or 'not stated')}**, encoded from {esc(h.source or 'an unstated source')}. "
           f"The rules are on the [regime page]({slug_regime(p.regime)}).\n"]
    if p.changes:
        out.append("Every amendment of the law that the policy follows, newest first.\n")
        rows = [[str(c.date), esc(c.text), esc(c.cite or "")]
                for c in sorted(p.changes, key=lambda c: c.date, reverse=True)]
        out.append(table(["Date", "Change", "Cite"], rows))
    else:
        out.append("The policy records no `change` entries.\n")
    return "\n".join(out)
