"""Shared helpers for the engine's own tests: write a small policy folder and load it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from exportctl import facts
from exportctl.evaluate import evaluate
from exportctl.policyset import read_policies

@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """The policy cache (engine/policy_cache.py) of the test run lives in a temporary folder, never
    in the user's ~/.cache/exportctl; subprocesses inherit it through the environment."""
    import os

    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old


SCHEMA_DIR = Path(__file__).resolve().parent.parent / "policies" / "schema"

RS1_POLICY = '''
regime us-ear "EAR" binding
  version "2026-07-23" source "15 CFR"
rule ear.rs1 "Spacecraft need a licence (RS1)" cite "15 CFR 742.6(a)(1)"
  when item.classification.eccn startswith "9A515" and destination not in {AU, CA, GB}
  then license_required
'''
"""A one-rule policy for the CLI and plugin tests."""


def write_policies(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root


@pytest.fixture
def policy_dir(tmp_path):
    """Returns a function: files -> loaded PolicySet (asserting it has no errors unless told)."""

    def make(files: dict[str, str], expect_errors: bool = False):
        root = write_policies(tmp_path / "policies", files)
        ps = read_policies(root)
        if not expect_errors:
            assert ps.errors == [], [f"{d.code} {d.message} at {d.span}" for d in ps.errors]
        return ps

    return make


def decide(ps, data: dict, as_of: str | None = None) -> dict:
    import datetime as dt

    tx = facts.from_data(data)
    day = dt.date.fromisoformat(as_of) if as_of else tx.date
    return evaluate(ps.regimes, tx.data, day, ps.digest)


def regime(decision: dict, rid: str) -> dict:
    return next(r for r in decision["regimes"] if r["regime"] == rid)


def base_tx(**over) -> dict:
    tx = {
        "id": "TX-T",
        "date": "2026-11-28",
        "ship_from": "US",
        "destination": "FR",
        "end_user": {"name": "Thales Alenia Space", "country": "FR", "kind": "commercial", "lists": []},
        "end_use": ["telecommunications"],
        "items": [{"id": "sat-1", "origin": "US", "value": 1000, "classification": {"eccn": "9A515.a.1", "usml": None},
                   "components": []}],
    }
    tx.update(over)
    return tx
