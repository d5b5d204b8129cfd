"""mkdocs hooks: generate the policy reference before every build, and run the examples.

- on_pre_build: `exportctl.docs.write_reference` writes docs/reference/ from the policies
  (the same as `exportctl docs`; the CLI page from `exportctl.cli.build_parser()`), and the
  "Policy reference" entry of the nav becomes the
  overview, one page per regime, and the changelogs. docs/reference/ is gitignored.
- on_page_markdown: `<!-- run: exportctl ... -->` lines of hand-written pages become the
  command and its real output (exportctl.docs.run_examples), so the pages cannot drift.

EXPORTCTL_POLICIES=DIR builds the site from another policy folder (default: the bundled
policies of the installed package, i.e. policies/ in a checkout).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from mkdocs.exceptions import PluginError

NAV_TITLE = "Policy reference"


def _policies() -> str | None:
    return os.environ.get("EXPORTCTL_POLICIES") or None


def _source_url(config) -> str | None:
    repo = (config.get("repo_url") or "").rstrip("/")
    if "github.com" not in repo:
        return None
    return repo + "/blob/main/{path}#L{line}-L{end_line}"


def on_pre_build(config, **kwargs):
    from exportctl.cli import build_parser
    from exportctl.diagnostics import ExportctlError
    from exportctl.docs import write_reference
    from exportctl.render import diagnostics_text

    out = Path(config.docs_dir) / "reference"
    try:
        written = write_reference(_policies(), out, source_url=_source_url(config), parser=build_parser())
    except ExportctlError as e:
        raise PluginError("the policies do not check, so the policy reference cannot be built:\n"
                          + diagnostics_text(e.diagnostics))
    _set_nav(config, out, written)


def _label(out: Path, regime: str) -> str:
    """The regime's name in the menu: its usual abbreviation, else its page title."""
    from exportctl.docs import short_name

    title = None
    for line in (out / f"{regime}.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            title = re.sub(r"\\(.)", r"\1", line[2:].strip())
            break
    return short_name(regime, title)


def _set_nav(config, out: Path, written: list) -> None:
    from exportctl.docs import regime_order
    from exportctl.policyset import load

    policies = {p.regime: p for p in load(_policies()).policies}   # binding or advisory: the order
    names = {p.name for p in written}
    regimes = [n[:-3] for n in names
               if n.endswith(".md") and not n.startswith("_") and n != "index.md"
               and not n.endswith("-changelog.md")]
    section = [{"Overview": "reference/index.md"}]
    section += [{_label(out, r): f"reference/{r}.md"} for r in regime_order(regimes, policies)]
    section.append({"Changelogs": [{_label(out, r): f"reference/{r}-changelog.md"}
                                   for r in regime_order(regimes, policies) if f"{r}-changelog.md" in names]})
    nav = config.get("nav") or []
    for i, entry in enumerate(nav):
        if isinstance(entry, dict) and NAV_TITLE in entry:
            nav[i] = {NAV_TITLE: section}
            break
    else:
        nav.append({NAV_TITLE: section})


def on_page_markdown(markdown, page, config, files, **kwargs):
    from exportctl.docs import ExampleFailed, run_examples

    if page.file.src_uri.startswith("reference/"):
        return markdown  # generated from the policy folder: data, never commands to run
    try:
        return run_examples(markdown, _policies())
    except ExampleFailed as e:
        raise PluginError(f"{page.file.src_uri}: {e}")
