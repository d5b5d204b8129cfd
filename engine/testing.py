"""`exportctl test`: the golden cases through pytest (so -k, --junitxml and the plugin's
reports are pytest's own), and `--coverage`: rules covered per regime."""

from __future__ import annotations

from pathlib import Path


def run_tests(args, io) -> int:
    """Run the golden cases of a policy folder through pytest, treating the folder as data:
    pytest reads a configuration of ours (not the folder's pytest.ini, pyproject or tox.ini),
    imports no conftest.py (--noconftest) and collects only the case files, so that testing
    someone else's policy folder never runs their Python."""
    try:
        import pytest
    except ImportError:
        io.err("exportctl test: pytest is not installed: install exportctl[test] (pip install 'exportctl[test]')")
        return 2

    from . import cases as C
    from .policyset import load, resolve_policies

    root = resolve_policies(args.policies, io)
    ps = load(root)
    if ps.errors:
        from .render import diagnostics_text

        io.err(diagnostics_text(ps.errors, {p.path: p.text for p in ps.policies}, color=io.color_err))
        return 2
    files = [str(f) for f in C.case_files(root)]
    if not files:
        io.err("exportctl test: no golden cases found")
        return 1
    import tempfile

    with tempfile.TemporaryDirectory(prefix="exportctl-test-") as tmp:
        ini = Path(tmp) / "pytest.ini"
        ini.write_text("[pytest]\n", encoding="utf-8")
        # -W error makes our own warnings fatal; pytest's deprecations of its own API are not
        # (their schedule is pytest's, and the plugin is tested against it in CI).
        argv = [*files, "-p", "no:cacheprovider", "--noconftest", "--exportctl-policies", str(root),
                "--rootdir", str(root), "-c", str(ini), "-W", "error",
                "-W", "ignore::pytest.PytestDeprecationWarning",
                # installed (not editable), the CLI has imported exportctl before pytest loads the
                # plugin: pytest then warns it cannot rewrite its asserts (the plugin uses none)
                "-W", "ignore::pytest.PytestAssertRewriteWarning"]
        if not _plugin_registered():
            argv += ["-p", "exportctl.pytest_plugin"]
        argv.append("-q" if args.quiet else "-v")
        if args.keyword:
            argv += ["-k", args.keyword]
        if args.junitxml:
            argv += ["--junitxml", str(Path(args.junitxml).resolve())]
        code = int(pytest.main(argv))
    if args.coverage:
        results, _ = C.run_all(ps)
        io.out(coverage_table(C.coverage(ps, results)))
    if code == 5:
        io.err("exportctl test: no golden cases found")
        return 1
    return 0 if code == 0 else (2 if code in (3, 4) else 1)


def _plugin_registered() -> bool:
    from importlib.metadata import entry_points

    return any(ep.value == "exportctl.pytest_plugin" for ep in entry_points(group="pytest11"))


def coverage_table(cov) -> str:
    """Per regime: rules, rules covered (a firing case and a near miss), %, and what is not."""
    by: dict = {}
    for c in cov:
        by.setdefault(c.regime, []).append(c)
    lines = [f"{'regime':<20} {'rules':>5} {'covered':>7} {'%':>6}"]
    gaps = []
    for regime, items in sorted(by.items()):
        n = len(items)
        k = sum(1 for c in items if c.covered)
        lines.append(f"{regime:<20} {n:>5} {k:>7} {100.0 * k / n if n else 100:>5.1f}%")
        for c in items:
            if not c.covered:
                what = "no firing case" if not c.fired_in else "no near miss"
                gaps.append(f"  {c.rule_id} ({c.cite}): {what}")
    if gaps:
        lines.append("uncovered:")
        lines.extend(gaps)
    return "\n".join(lines)
