"""Finding, reading, checking and compiling a folder of policies, once (cached)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from . import ast as A
from .check import check
from .diagnostics import Diagnostic, ExportctlError
from .parse import parse_policy
from .source import Span


def policies_root() -> Path:
    """The bundled policies: inside the installed package, or the checkout's `policies/`."""
    here = Path(__file__).resolve().parent
    installed = here / "_policies"          # in a wheel
    return installed if (installed / "schema").is_dir() else here.parent / "policies"


def policy_files(root: Path) -> list[Path]:
    """Every `*.policy` below `root`, following linked folders (a workspace of symlinks works)."""
    import os

    found = []
    for folder, _, files in os.walk(root, followlinks=True):
        found.extend(Path(folder) / f for f in files if f.endswith(".policy"))
    return sorted(p for p in found if p.is_file())


@dataclass
class PolicySet:
    root: Path
    policies: list[A.Policy]
    diagnostics: list[Diagnostic]
    digest: str
    digests: dict = field(default_factory=dict)
    _compiled: dict | None = None

    @property
    def schema_folder(self) -> str | None:
        """The policy set's own schema/ when it has one (e.g. a benchmark ruleset), else None (bundled)."""
        own = self.root / "schema" / "transaction.schema.json"
        bundled = policies_root() / "schema" / "transaction.schema.json"
        if own.is_file() and own.resolve() != bundled.resolve():
            return str((self.root / "schema").resolve())
        return None

    @property
    def bundled(self) -> bool:
        """Whether these are the policies shipped with this exportctl (decisions warn otherwise)."""
        try:
            return self.root.resolve() == policies_root().resolve()
        except OSError:
            return False

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def regimes(self) -> dict:
        """Compiled regimes (compiled on first use)."""
        if self._compiled is None:
            if self.errors:
                raise ExportctlError(self.errors)
            from .evaluate import compile_regimes
            from .facts import schema

            roots = frozenset(schema("transaction", self.schema_folder)["properties"])
            self._compiled = compile_regimes(self.policies, roots, self.digests)
        return self._compiled

    def policy(self, regime: str) -> A.Policy | None:
        return next((p for p in self.policies if p.regime == regime), None)

    def rule(self, rule_id: str) -> tuple[A.Policy, A.Rule] | None:
        for p in self.policies:
            for r in list(p.rules) + list(p.conflicts):
                if r.id == rule_id:
                    return p, r
        return None

    def source_text(self, file: str) -> str:
        for p in self.policies:
            if p.path == file:
                return p.text
        try:
            return Path(file).read_text(encoding="utf-8")
        except OSError:
            return ""


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_policies(root: Path) -> PolicySet:
    """Parse and check every `*.policy` below `root`. Problems are collected, not raised."""
    from .facts import schema

    policies, diags, digests = [], [], {}
    h = hashlib.sha256()
    files = policy_files(root)
    if not files:
        diags.append(Diagnostic("E102", f"no *.policy files under {root}", Span(str(root), 0, 0)))
    for f in files:
        name = _display(f, root)
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            diags.append(Diagnostic("E102", f"cannot read {name}: {e}", Span(name, 0, 0)))
            continue
        rel = f.relative_to(root).as_posix()
        h.update(rel.encode() + b"\0" + text.encode("utf-8") + b"\0")
        digests[name] = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
        try:
            policies.append(parse_policy(text, name))
        except ExportctlError as e:
            diags.extend(e.diagnostics)
    ps = PolicySet(root, policies, diags, "sha256:" + h.hexdigest(), digests)
    # The transaction schema's defaults take part in every decision: the digest covers it too.
    schema_file = Path(ps.schema_folder or policies_root() / "schema") / "transaction.schema.json"
    if schema_file.is_file():
        h.update(b"schema/transaction.schema.json\0" + schema_file.read_bytes() + b"\0")
        ps.digest = "sha256:" + h.hexdigest()
    # So do the restricted-party lists and matching parameters that screening reads (lists/).
    for f in sorted((root / "lists").glob("*.yaml")) if (root / "lists").is_dir() else ():
        h.update(b"lists/" + f.name.encode() + b"\0" + f.read_bytes() + b"\0")
        ps.digest = "sha256:" + h.hexdigest()
    if policies:
        diags.extend(check(policies, schema("transaction", ps.schema_folder)))
    return ps


@lru_cache(maxsize=8)
def _cached(root: str, stamp: tuple) -> PolicySet:
    return read_policies(Path(root))


def load(root: str | Path | None = None) -> PolicySet:
    """Policies read once per process; re-read when a file changed."""
    r = Path(root) if root else policies_root()
    stamp = tuple((str(p), p.stat().st_mtime_ns) for p in policy_files(r)) if r.is_dir() else ()
    if not r.is_dir():
        return PolicySet(r, [], [Diagnostic("E102", f"no such policy folder: {r}", Span(str(r), 0, 0))], "")
    return _cached(str(r.resolve()), stamp)
