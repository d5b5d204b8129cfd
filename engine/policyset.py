"""Finding, reading, checking and compiling a folder of policies, once (cached)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from . import ast as A
from .diagnostics import Diagnostic, ExportctlError
from .locations import policies_root  # noqa: F401 - re-exported: where the bundled policies are
from .source import Span


def checkout_policies(start: Path | None = None) -> Path | None:
    """The `policies/` folder of the checkout the user is in: from `start` (the cwd) upwards to
    the git root (the folder that holds `.git`), the first `policies/` with `*/*.policy` files;
    outside a git repository only `start` itself is looked at. None when there is none."""
    here = (start or Path.cwd()).resolve()
    in_git = any((d / ".git").exists() for d in (here, *here.parents))
    for d in (here, *here.parents):
        cand = d / "policies"
        try:
            if cand.is_dir() and any(cand.glob("*/*.policy")):
                return cand
        except OSError:
            pass
        if not in_git or (d / ".git").exists():
            return None
    return None


def resolve_policies(given, io=None) -> Path:
    """The policy folder a command uses: `--policies DIR` when given; else the checkout's
    `policies/` when the user is in one (said on stderr when it is not the installed copy,
    e.g. after a non-editable `pip install .`); else the bundled policies."""
    if given:
        return Path(given)
    bundled = policies_root()
    local = checkout_policies()
    if local is None:
        return bundled
    try:
        same = local.resolve() == bundled.resolve()
    except OSError:
        same = False
    if not same and io is not None:
        shown = display_path(local, local)
        io.err(f"exportctl: using policies from {shown} (the checkout), not the installed copy "
               "(--policies DIR chooses another)")
    return local


def policy_files(root: Path, problems: list | None = None) -> list[Path]:
    """Every `*.policy` below `root`. A symlink is followed only when it points inside `root`
    (a workspace of linked folders works), each real folder is read once (no loops), and a
    link out of the folder, broken or in a loop is skipped and reported as E109 in `problems`."""
    import os

    def problem(path: Path, what: str) -> None:
        if problems is not None:
            name = os.path.abspath(path)      # the link itself, not where it points
            rel = os.path.relpath(name)
            name = rel if not rel.startswith("..") else name
            problems.append(Diagnostic("E109", f"{what}: not read", Span(name, 0, 0),
                                       hint="a policy folder holds its files, or links to folders inside it"))

    try:
        real_root = root.resolve()
    except (OSError, RuntimeError):
        return []
    # Folders go on the stack with their real path: a plain (not linked) folder's is its parent's
    # joined with its name, so only links cost a resolve (os.path.realpath of every folder, a
    # system call per component, was most of a warm start's walk).
    seen = {str(real_root)}
    found: list[Path] = []
    stack = [(str(root), str(real_root))]
    while stack:
        folder, real_folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            problem(Path(folder), f"cannot list the folder ({e.strerror or e})")
            continue
        for ent in entries:
            try:
                if ent.is_symlink():
                    path = Path(ent.path)
                    try:
                        target = path.resolve(strict=True)
                    except (OSError, RuntimeError):
                        problem(path, "a broken symbolic link, or one in a loop")
                        continue
                    if target != real_root and real_root not in target.parents:
                        problem(path, f"a symbolic link out of the policy folder (to {target})")
                        continue
                    if target.is_dir():
                        real = Path(real_folder)
                        if target == real or target in real.parents:
                            problem(path, "a symbolic link to a folder that contains it (a loop)")
                        elif str(target) not in seen:
                            seen.add(str(target))
                            stack.append((ent.path, str(target)))
                    elif ent.name.endswith(".policy") and target.is_file():
                        found.append(path)
                elif ent.is_dir(follow_symlinks=False):
                    real = os.path.join(real_folder, ent.name)
                    if real not in seen:
                        seen.add(real)
                        stack.append((ent.path, real))
                elif ent.name.endswith(".policy") and ent.is_file(follow_symlinks=False):
                    found.append(Path(ent.path))
            except OSError as e:
                problem(Path(ent.path), f"cannot be read ({e.strerror or e})")
    return sorted(found)


@dataclass
class PolicySet:
    """A policy folder read and checked: its policies, their problems and the digest of it all."""

    root: Path
    policies: list[A.Policy]
    diagnostics: list[Diagnostic]
    digest: str
    digests: dict = field(default_factory=dict)
    _compiled: dict | None = None

    @property
    def schema_folder(self) -> str | None:
        """The policy set's own schema/ when it has one (e.g. a benchmark ruleset), else None (bundled)."""
        if self.root == policies_root():    # the bundled set itself (own and bundled below are one path)
            return None
        own = self.root / "schema" / "transaction.schema.json"
        bundled = policies_root() / "schema" / "transaction.schema.json"
        if own.is_file() and own.resolve() != bundled.resolve():
            return str((self.root / "schema").resolve())
        return None

    @cached_property
    def bundled(self) -> bool:
        """Whether these are the policies shipped with this exportctl (decisions warn otherwise).
        Asked for every decision: answered once per policy set."""
        try:
            if self.root.resolve() == policies_root().resolve():
                return True
        except OSError:
            return False
        # another folder with the same text (a checkout next to a non-editable install) is the same law
        shipped = load(policies_root())
        return bool(self.digest) and shipped.digest == self.digest

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


def display_path(path: Path, root: Path, cwd: Path | None = None) -> str:
    """`path` relative to the working folder when inside it (`cwd`: that folder resolved, when
    the caller shows several paths)."""
    try:
        return str(path.resolve().relative_to(cwd or Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):   # outside the cwd, or a link in a loop
        return str(path)


_SMALL_FILE = 256 * 1024
"""Bytes below which a policy file is read without asking the parser for its limit, so a start
whose policies come from the cache never imports the parser (and Lark); test_speed checks that
this stays below 4 * parse.MAX_FILE."""


def _max_file() -> int:
    from .parse import MAX_FILE

    return MAX_FILE


def read_policies(root: Path, cache: bool = True, walked: tuple | None = None) -> PolicySet:
    """Parse and check every `*.policy` below `root`. Problems are collected, not raised.
    The parsed and checked result is kept in the user's cache folder by digest (policy_cache):
    a later process with the same files, schema and engine reads it instead of parsing again.
    `walked`: (files, problems) of `policy_files(root)`, when the caller has just walked it."""
    from .facts import schema

    diags, digests = [], {}
    h = hashlib.sha256()
    walk_problems: list = []
    if walked is None:
        files = policy_files(root, walk_problems)
    else:
        files, walk_problems = walked[0], list(walked[1])
    diags.extend(walk_problems)
    if not files:
        diags.append(Diagnostic("E102", f"no *.policy files under {root}", Span(str(root), 0, 0)))
    texts = []   # (display name, text) of every readable file, in order
    try:
        cwd = Path.cwd().resolve()
    except OSError:
        cwd = None
    for f in files:
        name = display_path(f, root, cwd)
        try:
            size = f.stat().st_size
            if size > _SMALL_FILE and size > 4 * _max_file():  # bytes; the parser checks the limit in characters
                diags.append(Diagnostic("E106", f"{name}: {size:,} bytes, more than a policy file may have",
                                        Span(name, 0, 0)))
                continue
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            diags.append(Diagnostic("E102", f"cannot read {name}: {e}", Span(name, 0, 0)))
            continue
        rel = f.relative_to(root).as_posix()
        h.update(rel.encode() + b"\0" + text.encode("utf-8") + b"\0")
        digests[name] = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
        texts.append((name, text))
    ps = PolicySet(root, [], diags, "sha256:" + h.hexdigest(), digests)
    # The transaction schema's defaults take part in every decision: the digest covers it too.
    schema_file = Path(ps.schema_folder or policies_root() / "schema") / "transaction.schema.json"
    if schema_file.is_file():
        h.update(b"schema/transaction.schema.json\0" + schema_file.read_bytes() + b"\0")
        ps.digest = "sha256:" + h.hexdigest()
    # So do the restricted-party lists and matching parameters that screening reads (lists/).
    for f in sorted((root / "lists").glob("*.yaml")) if (root / "lists").is_dir() else ():
        h.update(b"lists/" + f.name.encode() + b"\0" + f.read_bytes() + b"\0")
        ps.digest = "sha256:" + h.hexdigest()
    from . import policy_cache

    key = policy_cache.key(ps.digest, [n for n, _ in texts], [d.as_dict() for d in diags]) if cache else None
    hit = policy_cache.get(key) if key else None
    if hit is not None:
        ps.policies, ps.diagnostics = hit
        return ps
    from .check import check
    from .parse import parse_policy

    policies = ps.policies
    for name, text in texts:
        try:
            policies.append(parse_policy(text, name))
        except ExportctlError as e:
            diags.extend(e.diagnostics)
    if policies:
        diags.extend(check(policies, schema("transaction", ps.schema_folder)))
    if key:
        policy_cache.put(key, (policies, diags))
    return ps


@lru_cache(maxsize=8)
def _cached(root: str, stamp: tuple) -> PolicySet:
    walked = _WALKED.pop(root, None)
    return read_policies(Path(root), walked=walked[1:] if walked and walked[0] == stamp else None)


_WALKED: dict = {}
"""root -> (stamp, files, problems) of the walk `load` just made, for `read_policies` to reuse
(one walk of the folder per start instead of two)."""


def load(root: str | Path | None = None) -> PolicySet:
    """Policies read once per process; re-read when a file changed."""
    r = Path(root) if root else policies_root()
    if not r.is_dir():
        return PolicySet(r, [], [Diagnostic("E102", f"no such policy folder: {r}", Span(str(r), 0, 0))], "")
    real = str(r.resolve())
    problems: list = []
    files = policy_files(Path(real), problems)
    stamp = tuple((str(p), p.stat().st_mtime_ns) for p in files)
    _WALKED[real] = (stamp, files, tuple(problems))
    try:
        return _cached(real, stamp)
    finally:
        _WALKED.pop(real, None)
