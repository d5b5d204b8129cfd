"""The generated part of the documentation site: policies -> {page: markdown}.

One module per kind of page, each a pure function (no I/O):

- reference.py `pages(policyset, case_results)`: the policy reference (index, one page per
  regime (regime.py) with its sets, definitions, rules, source text and golden cases
  (casetables.py), a changelog per regime);
- formats.py `format_pages`: field tables from the JSON Schemas;
- cliref.py `cli_page`: every verb and option, from the argparse parser;
- errors.py `errors_page`: every diagnostic code, with its explanation (engine/explanations.py);
- examples.py `run_examples`: `<!-- run: exportctl ... -->` in hand-written pages, run
  (`run-decision:` draws the decision with decision.py: outcome, a card per regime);
- diagrams.py: Mermaid diagrams from the AST (a rule, a regime's map, the flow to a decision),
  every label quoted and escaped so that no policy text becomes diagram syntax;
- markdown.py: the building blocks, and the names and order of regimes in menus.

`write_reference(policies, out_dir)` (here) is the only function that reads and writes files:
it loads the policies, runs their golden cases, and writes every page that changed. The
mkdocs hook (docs/hooks.py) calls it before each build, so the site cannot drift from the
policies; `exportctl docs` calls it too.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..explanations import EXPLANATIONS
from .cliref import cli_page
from .errors import errors_page, example_output
from .examples import ExampleFailed, run_examples
from .formats import format_pages, schema_markdown
from .markdown import GENERATED, not_encoded_section, regime_order, short_name
from .reference import pages

__all__ = ["EXPLANATIONS", "ExampleFailed", "GENERATED", "all_pages", "cli_page", "errors_page", "example_output",
           "format_pages", "not_encoded_section", "pages", "regime_order", "run_examples", "schema_markdown",
           "short_name", "write_reference"]


def _readmes(ps) -> dict:
    out = {}
    for p in ps.policies:
        f = Path(p.path).resolve().parent / "README.md"
        if f.is_file():
            out[p.regime] = f.read_text(encoding="utf-8")
    return out


def _bases(ps) -> dict:
    """Base transactions by case file (named as `Case.file` names it), and "" for policies/bases.yaml."""
    from .. import cases as C
    from .. import facts

    out = {"": C.shared_bases(ps.root)}
    for f in C.case_files(ps.root):
        try:
            data = facts.yaml_load(f.read_text(encoding="utf-8")) or {}
        except Exception:  # a malformed file is reported by run_all
            continue
        if isinstance(data, dict) and isinstance(data.get("bases"), dict):
            out[C.display_path(f)] = data["bases"]
    return out


def _schemas(ps) -> dict:
    from ..policyset import policies_root

    folder = Path(ps.schema_folder) if ps.schema_folder else policies_root() / "schema"
    names = ["transaction", "decision", "case"]
    names += sorted(f.name[:-len(".schema.json")] for f in folder.glob("*.schema.json")
                    if f.name[:-len(".schema.json")] not in names)
    out = {}
    for n in names:
        f = folder / f"{n}.schema.json"
        out[n] = json.loads(f.read_text(encoding="utf-8")) if f.is_file() else None
    return out


def all_pages(policies_dir=None, source_url: str | None = None, parser=None) -> dict[str, str]:
    """Every generated page, keyed by path relative to the docs folder (reads the policies).
    `parser` is the CLI's argparse parser (`cli.build_parser()`), for the CLI page: the docs do not
    import the CLI (which imports them), so its callers (`exportctl docs`, docs/hooks.py) pass it."""
    from .. import cases as C
    from ..diagnostics import CODES, ExportctlError
    from ..policyset import load

    ps = load(policies_dir)
    if ps.errors:
        raise ExportctlError(ps.errors)
    results, diags = C.run_all(ps)
    if diags:
        raise ExportctlError(diags)
    out = pages(ps, results, readmes=_readmes(ps), bases=_bases(ps), source_url=source_url)
    out.update(format_pages(_schemas(ps)))
    if parser is not None:
        out["reference/_cli.md"] = cli_page(parser)
    outputs = {c: example_output(e) for c, e in EXPLANATIONS.items()}
    out["reference/_errors.md"] = errors_page(CODES, EXPLANATIONS, outputs)
    return out


def write_reference(policies_dir, out_dir, source_url: str | None = None, parser=None) -> list[Path]:
    """Write the generated pages into `out_dir` (the docs' `reference/` folder).

    Only files whose text changed are rewritten (so `mkdocs serve` does not rebuild in a loop);
    generated files that are no longer produced are removed. Returns every page's path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    produced = all_pages(policies_dir, source_url, parser)
    written = []
    for rel, text in produced.items():
        name = rel[len("reference/"):] if rel.startswith("reference/") else rel
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    keep = {p.resolve() for p in written}
    for old in out_dir.rglob("*.md"):
        if old.resolve() not in keep:
            try:
                first = old.read_text(encoding="utf-8").split("\n", 1)[0] + "\n"
            except (OSError, UnicodeDecodeError):
                continue
            if first == GENERATED:
                old.unlink()
    return written
