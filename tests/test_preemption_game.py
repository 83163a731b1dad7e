"""The fat-short game (clm_lb_deterministic, preemptive reading): the memoised minimax of
``fat_short_game_value`` against an independent brute force and against values computed by hand.

The brute force below shares no code with the solver.  It lists every release sequence the
adversary can play (any number of shorts at any decision up to a horizon past the end of every
play, ``n`` in all, releases after ``L`` is done included), scores each with the exact optimum of
the brute-force dynamic program ``preemptive_optimum`` (which does not use the recompute lemma),
and enumerates the algorithm's deterministic decision trees: a tree picks one action per
observed history, so its cost on every sequence is a vector; subtrees are combined over the
histories the algorithm can tell apart and dominated vectors are dropped (a dominated tree is
never better for a min-max of ratios).  The value is the least, over the surviving trees, of the
worst ratio over the sequences.
"""

from fractions import Fraction
from itertools import combinations_with_replacement

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvtheory import check_schedule
from kvtheory.theory.preemption import fat_short_instance, fat_short_opt, preemptive_optimum
from kvtheory.theory.preemption_game import (
    fat_short_game_value,
    fat_short_opt_cost,
    game_line_schedule,
    game_rows,
)


def _pareto(vectors):
    keep = []
    for v in sorted(set(vectors), key=sum):
        if not any(all(a <= b for a, b in zip(k, v)) for k in keep):
            keep.append(v)
    return keep


def brute_force_value(n, P, max_idle=0):
    """min over decision trees of max over release sequences of ALG / OPT (tiny n, P only)."""
    horizon = (n + max_idle + 1) * P + 1          # every play is over by then
    seqs = [s for k in range(n + 1)
            for s in combinations_with_replacement(range(horizon + 1), k)]
    memo = {}

    def trees(d, state, group):
        # group: sequences the algorithm cannot tell apart before decision d
        parts = {}
        for i, s in enumerate(group):
            parts.setdefault(tuple(x for x in s if x <= d), []).append(i)
        result = [(0,) * len(group)]
        for idxs in parts.values():
            sub = decide(d, state, tuple(group[i] for i in idxs))
            merged = []
            for r in result:
                for v in sub:
                    w = list(r)
                    for i, x in zip(idxs, v):
                        w[i] = x
                    merged.append(tuple(w))
            result = _pareto(merged)
        return result

    def decide(d, state, sub):
        # every sequence of sub shows the same releases up to d
        key = (d, state, sub)
        if key in memo:
            return memo[key]
        prog, done, served, idles, completions = state
        seen = sum(1 for x in sub[0] if x <= d)
        waiting = seen - served
        if done and waiting == 0:                  # nothing to do: wait for later releases
            later = [i for i, s in enumerate(sub) if len(s) > seen]
            out_v = [completions - sum(s) for s in sub]
            out = [tuple(out_v)]
            if later:
                out = []
                for v in trees(d + 1, state, tuple(sub[i] for i in later)):
                    w = list(out_v)
                    for i, x in zip(later, v):
                        w[i] = x
                    out.append(tuple(w))
        else:
            vecs = []
            if not done:                           # run L
                nxt = (0, True, served, idles, completions + d + 1) if prog + 1 == P else \
                    (prog + 1, False, served, idles, completions)
                vecs += trees(d + 1, nxt, sub)
            if waiting:                            # serve a short (L loses its progress)
                vecs += trees(d + 1, (0, done, served + 1, idles, completions + d + 1), sub)
            if idles < max_idle:                   # idle (L loses its progress)
                vecs += trees(d + 1, (0, done, served, idles + 1, completions), sub)
            out = _pareto(vecs)
        memo[key] = out
        return out

    opt = {s: preemptive_optimum(fat_short_instance(n, list(s), P), "recompute").objective
           for s in seqs}
    root = trees(0, (0, False, 0, 0, 0), tuple(seqs))
    return min(max(Fraction(v[i], opt[s]) for i, s in enumerate(seqs)) for v in root)


@pytest.mark.parametrize("n,P,idle,value", [
    (1, 2, 0, 1), (1, 3, 0, 1), (2, 2, 0, 1), (2, 3, 0, Fraction(9, 8)), (2, 3, 1, Fraction(9, 8)),
    (2, 4, 0, 1), (2, 5, 0, Fraction(13, 11)), (3, 2, 0, 1), (3, 3, 0, Fraction(6, 5))])
def test_game_value_equals_brute_force(n, P, idle, value):
    # the literal values are the brute force's (seconds each); the solver must agree with it
    brute = brute_force_value(n, P, idle)
    assert brute == value
    assert fat_short_game_value(n, P, max_idle=idle)["value"] == brute


@pytest.mark.parametrize("P", range(2, 8))
def test_one_short_by_hand(P):
    # one short: when it arrives the algorithm knows the whole instance, so it can play the
    # optimum of the rest (keep L, or evict it and serve the short first): value 1
    assert fat_short_game_value(1, P)["value"] == 1


def test_two_shorts_P3_by_hand():
    # lower bound 9/8: no idling, so L runs at 0; the adversary releases a short at 1.
    # keep L -> a second short at 2: keeping gives L at 3, shorts at 4, 5: 3 + 3 + 3 = 9;
    #   evicting serves the first short at 3 (latency 2), then either the second at 4 and L in
    #   5..7 (2 + 2 + 7 = 11) or L in 4..6 and the second at 7 (2 + 6 + 5 = 13);
    #   OPT of (1, 2) serves both at once, L in 4..6: 1 + 1 + 6 = 8.
    # evict at 1 (short in round 2) -> L restarts at 2; a second short at 3 (progress 1):
    #   keep: L ends 5, short waits to 6: 5 + 1 + 3 = 9; evict: short 1, L 5..7: 7 + 1 + 1 = 9;
    #   OPT of (1, 3): L in 1..3, shorts at 4, 5: 3 + 3 + 2 = 8.  So value >= 9/8; the brute
    #   force above gives the matching upper bound.
    assert fat_short_opt_cost([1, 2], 3) == fat_short_opt_cost([1, 3], 3) == 8
    g = fat_short_game_value(2, 3)
    assert g["value"] == Fraction(9, 8) and (g["ALG"], g["OPT"]) == (9, 8)


def test_play_line_is_checked_and_scored():
    for n, P in [(2, 3), (3, 3), (3, 4), (2, 6)]:
        g = fat_short_game_value(n, P)
        inst, sched = game_line_schedule(g)
        assert check_schedule(inst, sched, preemptive=True).total_latency == g["ALG"]
        assert fat_short_opt(inst)[0] == g["OPT"]
        assert Fraction(g["ALG"], g["OPT"]) == g["value"]


def test_P3_values_follow_the_release_every_round_line():
    # the adversary releases one short per round from 1 while L runs; keeping L costs
    # 3 + 3n, serving them at once and L afterwards 2n + 4 (observation for n <= 4 here)
    for n in (2, 3, 4):
        assert fat_short_game_value(n, 3)["value"] == Fraction(3 * (n + 1), 2 * (n + 2))


def test_idling_never_raises_the_value():
    for n, P in [(2, 3), (3, 3)]:
        v0 = fat_short_game_value(n, P)["value"]
        assert fat_short_game_value(n, P, max_idle=2)["value"] <= v0


def test_budget_and_validation():
    with pytest.raises(ValueError, match="max_states=50"):
        fat_short_game_value(3, 3, max_states=50)
    with pytest.raises(ValueError, match="P must be >= 2"):
        fat_short_game_value(2, 1)
    with pytest.raises(ValueError, match="n must be >= 1"):
        fat_short_game_value(0, 3)


def test_rows():
    rows = game_rows([(2, 3)])
    assert rows[0]["value"] == "9/8" and rows[0]["ratio"] == 1.125


@given(st.lists(st.integers(0, 6), max_size=3), st.integers(2, 4))
@settings(max_examples=30, deadline=None)
def test_property_opt_cost_matches_exact_optimum(releases, P):
    releases = sorted(releases)
    inst = fat_short_instance(3, releases, P)
    assert fat_short_opt_cost(releases, P) == fat_short_opt(inst)[0] == \
        preemptive_optimum(inst, "recompute").objective
