"""The scorecard: every status of every item is reached by a real policy, hostile ones included.

Small budgets keep each test within seconds; the quick budget's time is measured by
``benchmarks/bench_scorecard.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from kvtheory import Decision, mc_sf
from kvtheory.engines.policies.planted import longest_first
from kvtheory.scorecard import Budget, Limits, load_policy, scorecard
from kvtheory.scorecard import _card
from kvtheory.engines.policies.planted import admit_all, idle_on_odd_rounds

TINY = Budget(seeds=8, sizes=(6, 10), family_sizes=(2,), ratio_max_n=3, ratio_restarts=1,
              ratio_steps=1, trend=((8, 16), (10, 20), (12, 24)), trend_restarts=1,
              trend_steps=0, search_evals=10, final_evals=10, lb_ns=(4, 8, 16), lb_ms=(4, 8, 16),
              synth_trials=2, synth_evals=20, synth_size=(("n", 8), ("horizon", 8), ("memory", 16)),
              trace_n=200, decision_n=60)
FAST = Limits(seconds=0.1, stall=5, livelock=40)


def card(policy, **kw):
    kw.setdefault("budget", TINY)
    kw.setdefault("cache", False)
    kw.setdefault("limits", FAST)
    return scorecard(policy, **kw)


@pytest.fixture(scope="module")
def mcsf_card():
    return card(mc_sf)


def test_valid_policy_supported(mcsf_card):
    for item in ("valid", "never-idles"):
        v = mcsf_card[item]
        assert v.status == "supported", v
        assert v.power["found"] >= 0.8 * v.power["of"]
    assert [v.claim for v in mcsf_card.items] == list(_card.ITEMS)


def test_json_and_markdown(mcsf_card):
    data = json.loads(json.dumps(mcsf_card.to_json()))
    assert [r["item"] for r in data["items"]] == list(_card.ITEMS)
    assert data["items"][0]["power"]["planted"] == _card.PLANTED["valid"][0]
    md = mcsf_card.to_markdown()
    assert md.startswith("# Scorecard: mc_sf") and "| valid | **supported** |" in md


def overflows(state):
    """Starts every waiting request: overflows memory."""
    return admit_all(state)


def test_overflow_fails_with_smallest_instance():
    c = card(overflows)
    v = c["valid"]
    assert v.status == "fails"
    assert "exceeded memory" in v.counterexample and "t=" in v.counterexample
    assert "request" in v.counterexample
    assert v.counterexample.count("(a=") == 2           # shrunk to the two requests that clash
    assert c["never-idles"].status == "fails"           # its runs were stopped too
    assert c["ratio"].status == "fails"


def test_idler_fails_never_idles_only():
    c = card(idle_on_odd_rounds, items=("valid", "never-idles"))
    assert c["valid"].status == "supported"
    v = c["never-idles"]
    assert v.status == "fails" and "nothing ran or started while request" in v.counterexample
    assert v.counterexample.count("(a=") <= 2           # shrunk: dropping any request ends it


def test_ratio_statuses(mcsf_card):
    assert mcsf_card["ratio"].status in ("supported", "inconclusive")
    grows = card(longest_first, items=("valid", "ratio"))
    assert grows["valid"].status == "supported"
    assert grows["ratio"].status == "inconclusive" and grows["ratio"].decide
    held = card(longest_first, ratio_bound=1.5, items=("ratio",))
    v = held["ratio"]
    assert v.status == "fails" and "more than 1.5 x a checked schedule" in v.counterexample


def test_ratio_supported_on_a_flat_tail():
    flat = Budget(seeds=1, sizes=(3,), family_sizes=(), ratio_max_n=3, ratio_restarts=1,
                  ratio_steps=0, trend=((8, 16), (16, 32), (32, 64)), trend_restarts=1,
                  trend_steps=3, search_evals=50, final_evals=300)
    v = card(mc_sf, budget=flat, items=("ratio",))["ratio"]
    assert v.status == "supported", v.evidence
    assert v.power == {"planted": _card.PLANTED["ratio"][0], "found": 1, "of": 1}


def test_low_power_is_inconclusive(monkeypatch):
    monkeypatch.setitem(_card.PLANTED, "valid", ("MC-SF itself (no violation)", mc_sf))
    monkeypatch.setitem(_card.PLANTED, "never-idles", ("MC-SF itself (no violation)", mc_sf))
    c = card(mc_sf, items=("valid", "never-idles"))
    for item in ("valid", "never-idles"):
        assert c[item].status == "inconclusive" and c[item].power["found"] == 0
        assert c[item].decide


def raises(state):
    """Fails at decision time 2."""
    if state.t >= 2:
        raise ZeroDivisionError("division by zero")
    return mc_sf(state)


def hangs(state):
    """Sleeps far past the limit at decision time 1."""
    if state.t == 1:
        time.sleep(30)
    return mc_sf(state)


def bad_ids(state):
    return Decision(start=[10**6])


def never_admits(state):
    return Decision()


@pytest.mark.parametrize("policy, words", [
    (raises, "raised ZeroDivisionError: division by zero (t=2"),
    (hangs, "took more than 0.1 s for one decision (interrupted) (t=1"),
    (bad_ids, "started a request that is not waiting (t="),
    (never_admits, "started nothing for 5 rounds"),
])
def test_hostile_policy_gets_a_report(policy, words):
    t0 = time.perf_counter()
    c = card(policy)
    assert time.perf_counter() - t0 < 30
    assert c["valid"].status == "fails" and words in c["valid"].counterexample
    # every item's runs were stopped: each is graded fails, with the guard's line
    assert [v.status for v in c.items] == ["fails"] * len(_card.ITEMS)
    assert all(v.counterexample for v in c.items)


def test_one_hostile_item_leaves_the_others_graded():
    # a policy that is valid and never idles on the sample's instances but raises on the
    # ratio search's large all-at-0 instances
    def big_raises(state):
        if len(state.waiting) > 10:
            raise RuntimeError("queue too long")
        return mc_sf(state)
    c = card(big_raises, items=("valid", "never-idles", "ratio"))
    assert c["valid"].status == "supported" and c["never-idles"].status == "supported"
    assert c["ratio"].status == "fails" and "queue too long" in c["ratio"].counterexample


def test_policy_specs(tmp_path):
    assert load_policy("kvtheory:mc_sf")[0] is mc_sf
    assert load_policy("kvtheory.engines.policies.planted:longest_first")[0] is longest_first
    f = tmp_path / "mine.py"
    f.write_text("from kvtheory import mc_sf\n\ndef pol(state):\n    return mc_sf(state)\n")
    fn, label = load_policy(f"{f}:pol")
    c = card(f"{f}:pol", items=("valid",))
    assert c.policy == label and c["valid"].status == "supported"
    for spec, msg in [("nope", "not a registered name"), (f"{f}:missing", "has no attribute"),
                      (f"{tmp_path}/none.py:f", "no file"), ("no_such_mod_xyz:f", "ModuleNotFound"),
                      ("kvtheory:POLICIES", "not callable")]:
        with pytest.raises(ValueError, match=msg):
            load_policy(spec)
    broken = tmp_path / "broken.py"
    broken.write_text("def pol(state:\n")
    with pytest.raises(ValueError, match="SyntaxError"):
        load_policy(f"{broken}:pol")


def test_cli_out_dir(tmp_path, monkeypatch, capsys):
    from kvtheory.cli import main
    monkeypatch.setattr(_card, "QUICK", TINY)
    f = tmp_path / "user_policy.py"
    f.write_text("from kvtheory import mc_sf\n\ndef pol(state):\n    return mc_sf(state)\n")
    assert main(["scorecard", f"{f}:pol", "--quick", "--format", "json", "--out",
                 str(tmp_path / "out")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["items"][0]["status"] == "supported"
    assert json.loads((tmp_path / "out" / "scorecard.json").read_text()) == data
    assert (tmp_path / "out" / "scorecard.md").read_text().startswith("# Scorecard:")


@pytest.mark.parametrize("spec", ["no.such.module:f", "/no/such/file.py:f", "mc-sff"])
def test_cli_bad_policy_one_line_exit_2(spec):
    out = subprocess.run([sys.executable, "-m", "kvtheory", "scorecard", spec, "--quick"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot load policy")


def test_package_is_callable():
    import kvtheory
    c = kvtheory.scorecard(mc_sf, budget=TINY, limits=FAST)
    assert c["valid"].status == "supported"
    assert kvtheory.scorecard.scorecard is scorecard


def test_workers_give_the_same_statuses(mcsf_card):
    c = scorecard("kvtheory:mc_sf", budget=TINY, limits=FAST, workers=2)
    assert [v.status for v in c.items] == [v.status for v in mcsf_card.items]
    assert c["valid"].evidence == mcsf_card["valid"].evidence


# --------------------------------------------------------------------------- items 4-8
def test_measurement_items_of_mc_sf(mcsf_card):
    for item in ("synthetic", "traces", "predictions"):
        v = mcsf_card[item]
        assert v.status == "supported", (item, v.evidence)
        assert v.power["found"] >= 0.8 * v.power["of"] and v.power["of"] == 2
        assert "MC-SF" in v.evidence
    v = mcsf_card["traces"]
    assert "p99" in v.evidence and "kJ" in v.evidence and "vLLM-style" in v.evidence
    assert "paper's engine" in v.evidence and "TTFT" in v.evidence
    assert "evictions" in mcsf_card["predictions"].evidence
    d = mcsf_card["decision-time"]
    assert d.status == "supported" and d.power is None
    assert 0 < d.figures["policy"]["median (ms)"] <= d.figures["policy"]["p99 (ms)"]


def test_lower_bounds_grow_for_a_deterministic_policy(mcsf_card):
    v = mcsf_card["lower-bounds"]
    # MC-SF is deterministic and non-preemptive: the adversary's ratio grows with n
    assert v.status == "inconclusive" and v.decide
    adv = v.figures["adversary"]
    assert [r["n"] for r in adv] == list(TINY.lb_ns)
    assert all(r["ratio low"] >= r["bound"] for r in adv)       # the proven lower bound holds
    assert adv[-1]["ratio low"] > adv[0]["ratio low"]
    assert v.power["found"] == 1


def test_lower_bounds_fail_past_a_low_bound():
    v = card(mc_sf, ratio_bound=5.0, items=("lower-bounds",))["lower-bounds"]
    assert v.status == "fails"
    assert v.counterexample.startswith("adversary member n=16 (M=272)")
    assert "> 5" in v.counterexample


def test_lower_bounds_supported_and_low_power_from_rows():
    from kvtheory.scorecard._grade import grade_lower_bounds
    flat = [{"n": n, "M": 3 * n, "ratio low": 1.2, "bound": n / 3, "policy": 12,
             "reference": 10} for n in (4, 8, 16)]
    grow = [dict(r, **{"ratio low": r["n"] / 2}) for r in flat]
    mine = {"adversary": flat, "prompts": flat, "fault": None}
    assert grade_lower_bounds(mine, {"adversary": grow, "prompts": grow, "fault": None},
                              100, "", True, 0.0).status == "supported"
    low = grade_lower_bounds(mine, mine, 100, "", True, 0.0)      # planted seen as flat
    assert low.status == "inconclusive" and low.power["found"] == 0


def test_longest_first_fails_the_comparisons():
    c = card(longest_first, items=("synthetic", "traces", "predictions"))
    for item in ("synthetic", "traces", "predictions"):
        assert c[item].status == "fails", (item, c[item].evidence)
    assert "against MC-SF's" in c["synthetic"].counterexample
    assert "azure-conv: mean latency" in c["traces"].counterexample


@pytest.mark.parametrize("item", ["synthetic", "traces", "predictions"])
def test_measurement_low_power_is_inconclusive(monkeypatch, item):
    monkeypatch.setitem(_card.PLANTED, item, ("MC-SF itself (no loss)", mc_sf))
    v = card(mc_sf, items=(item,))[item]
    assert v.status == "inconclusive" and v.power["found"] == 0 and v.decide


def slow(state):
    """MC-SF that takes 15 ms per decision."""
    time.sleep(0.015)
    return mc_sf(state)


def test_slow_decisions_fail_decision_time():
    v = card(slow, items=("decision-time",))["decision-time"]
    assert v.status == "fails" and "ms > 10 ms" in v.counterexample
    assert v.figures["policy"]["p99 (ms)"] >= 15


def test_item_verdicts_are_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("KVTHEORY_CACHE", str(tmp_path))
    first = card(mc_sf, items=("lower-bounds",), cache=True)

    def boom(**kw):
        raise AssertionError("computed again")
    monkeypatch.setattr(_card, "_cell", boom)
    again = card(mc_sf, items=("lower-bounds",), cache=True)
    assert again["lower-bounds"] == first["lower-bounds"]
    with pytest.raises(AssertionError, match="computed again"):
        card(mc_sf, items=("lower-bounds",), cache=True, ratio_bound=50.0)
