"""One test per checked claim (test name = claim ID) and the registry's integrity."""

import importlib
import re
from pathlib import Path

import numpy as np
import pytest

from kvtheory.claims import CLAIMS, claim
from kvtheory import checks

ROOT = Path(__file__).resolve().parents[1]


def test_clm_ip_exact():
    rep = checks.check_ip_exact(np.random.default_rng(11), trials=60)
    assert rep.holds, rep.summary


def test_clm_mcsf_feasible():
    rep = checks.check_mcsf_feasible(np.random.default_rng(12), trials=150)
    assert rep.holds, rep.summary


def test_clm_peak_points():
    rep = checks.check_peak_points(np.random.default_rng(13), trials=80)
    assert rep.holds and rep.details["decisions"] > 500, rep.summary


def test_clm_no_policy_beats_opt():
    rep = checks.check_no_policy_beats_opt(np.random.default_rng(14), trials=15)
    assert rep.holds, rep.summary


def test_clm_clear_all_livelock():
    rep = checks.check_clear_all_livelock(np.random.default_rng(15), trials=40)
    assert rep.holds, rep.summary
    rates = rep.details["livelock_rate"]
    assert rates["mc-sf"] == rates["vllm"] == rates["alpha-0.2-beta-0.1"] == 0


def _resolve(dotted):
    mod, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(mod), name)


@pytest.mark.parametrize("c", CLAIMS, ids=[c.id for c in CLAIMS])
def test_registry_pointers_exist(c):
    if c.status == "open":
        return
    chapter = ROOT / f"{c.chapter}.md"
    assert chapter.exists(), f"{c.id}: chapter {chapter} missing"
    assert f"({c.label})=" in chapter.read_text() or f":label: {c.label}" in chapter.read_text(), \
        f"{c.id}: label {c.label} not in {chapter}"
    assert callable(_resolve(c.check))
    path, _, func = c.test.partition("::")
    assert re.search(rf"def {func}\(", (ROOT / path).read_text()), f"{c.id}: test {c.test} missing"
    assert func.endswith(c.id), "the test carries the claim ID"
    assert c.check.rsplit(".", 1)[1] == "check_" + c.id.removeprefix("clm_"), \
        "the check function carries the claim ID"


def test_registry_ids_unique():
    ids = [c.id for c in CLAIMS]
    assert len(ids) == len(set(ids))
    assert claim(ids[0]) is CLAIMS[0]
