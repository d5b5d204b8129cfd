"""pytest plugin: every golden case (policies/<regime>/cases/*.yaml) is one test item,
named by the case, located at its file and line. Installed through the `pytest11` entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import cases as C
from .diagnostics import ExportctlError
from .policyset import load


def pytest_addoption(parser):
    group = parser.getgroup("exportctl")
    group.addoption("--exportctl-policies", default=None,
                    help="policy folder whose golden cases to collect (default: the ini option exportctl_policies)")
    parser.addini("exportctl_policies", type="paths", default=["policies"],
                  help="policy folders (relative to the ini file) whose golden cases pytest collects")


def _policy_root(path: Path) -> Path | None:
    """policies/<regime>/cases/x.yaml -> policies/, when that folder holds policies."""
    if path.suffix != ".yaml" or path.parent.name != "cases":
        return None
    root = path.parent.parent.parent
    if any(root.glob("*/*.policy")):
        return root
    return None


def pytest_collect_file(parent, file_path: Path):
    root = _policy_root(file_path)
    if root is None:
        return None
    wanted = parent.config.getoption("--exportctl-policies", None)
    if wanted:
        roots = [Path(wanted)]
    else:
        roots = [Path(p) for p in parent.config.getini("exportctl_policies")]
        roots = [p if p.is_absolute() else parent.config.rootpath / p for p in roots]
    if not any(r.resolve() == root.resolve() for r in roots):
        return None  # e.g. test fixtures: collected only when asked for
    return CaseFile.from_parent(parent, path=file_path, root=root)


class CaseFile(pytest.File):
    def __init__(self, *, root: Path, **kw):
        super().__init__(**kw)
        self.root = root

    def collect(self):
        ps = load(self.root)
        if ps.errors:
            raise CaseFileError(ExportctlError(ps.errors))
        regimes = C.folder_regimes(ps)
        try:
            found = C.read_case_file(self.path, self.root, regimes, C.display_path(self.path))
        except ExportctlError as e:
            raise CaseFileError(e) from None
        for case in found:
            yield CaseItem.from_parent(self, name=case.name, case=case, root=self.root)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, CaseFileError):
            return excinfo.value.render()
        return super().repr_failure(excinfo)


class CaseFileError(Exception):
    def __init__(self, err: ExportctlError):
        super().__init__(str(err))
        self.err = err

    def render(self) -> str:
        from .render import diagnostics_text

        return diagnostics_text(self.err.diagnostics, color=False)


class CaseFailed(Exception):
    def __init__(self, result: C.CaseResult):
        super().__init__("; ".join(result.problems))
        self.result = result


class CaseItem(pytest.Item):
    def __init__(self, *, case: C.Case, root: Path, **kw):
        super().__init__(**kw)
        self.case = case
        self.root = root
        for rid in case.about:
            self.add_marker(pytest.mark.exportctl_rule(rid))

    def runtest(self):
        result = C.run_case(load(self.root), self.case)
        if not result.passed:
            raise CaseFailed(result)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CaseFailed):
            from .render import case_failure_text

            return case_failure_text(excinfo.value.result)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.case.line - 1, f"case: {self.case.name}"


def pytest_configure(config):
    config.addinivalue_line("markers", "exportctl_rule(id): the policy rule a golden case is about")
