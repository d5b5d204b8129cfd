"""The fuzz targets (fuzz/targets.py) in CI: every seed of the corpus as it is, then a short
bounded run of mutated inputs per target. A longer run: `python -m fuzz.run --minutes 10`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fuzz.targets import TARGETS, mutated, seeds  # noqa: E402


@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_every_seed_is_handled(kind):
    assert seeds(kind), f"fuzz/corpus/{kind}/ has no seeds"
    for data in seeds(kind):
        TARGETS[kind](data)


@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_mutated_inputs_never_crash(kind):
    @settings(max_examples=40, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(mutated(kind))
    def one(data):
        TARGETS[kind](data)

    one()
