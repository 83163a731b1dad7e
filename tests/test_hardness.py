"""Hardness of the semi-online reading with arbitrary prompts (clm_semionline_optimal): the
3-PARTITION reduction, checked against the exact optimum on exhaustive and random families."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kvtheory import check_schedule
from kvtheory.theory.hardness import (
    is_three_partition,
    random_three_partition,
    reduction_instance,
    reduction_rows,
    three_partition_family,
    three_partition_instance,
    threshold,
    verify_reduction,
)
from kvtheory.theory.semionline import exact_optimum_at_zero


def test_threshold_by_hand():
    # m = 2: rounds 1, 1, 1, 2, 2, 2 -> 9; m = 4: 3 * (1 + 2 + 3 + 4) = 30
    assert threshold(2) == 9
    assert threshold(4) == 30


def test_brute_force_three_partition_by_hand():
    # B = 13: {4,4,5} + {4,4,5} works; {4,4,4,4,4,6}: 6 needs 7 = 3 + 4 or 4 + 3: impossible
    assert is_three_partition(three_partition_instance([4, 4, 5, 4, 4, 5], 13))
    assert not is_three_partition(three_partition_instance([4, 4, 4, 4, 4, 6], 13))
    # B = 20, values in 6..9: {6,6,8} {6,7,7} {6,6,8} is yes; {6,6,6,6,6,6,9,9,6}? sum must be 60
    assert is_three_partition(three_partition_instance([6, 6, 8, 6, 7, 7, 6, 6, 8], 20))
    # {6,6,6,6,6,6,8,8,8}: every triple with an 8 needs 6 + 6; three 8s need six 6s: yes
    assert is_three_partition(three_partition_instance([6] * 6 + [8] * 3, 20))
    # {6,6,6,6,6,7,7,7,9}: 9 needs 11 = 6 + 5 (no 5) or... 7 + 4 (no 4): no
    assert not is_three_partition(three_partition_instance([6] * 5 + [7] * 3 + [9], 20))


def test_validation_messages():
    with pytest.raises(ValueError, match="sum to m\\*B = 26"):
        three_partition_instance([4, 4, 4, 4, 4, 4], 13)
    with pytest.raises(ValueError, match="3m values"):
        three_partition_instance([4, 4], 13)


def test_no_instance_optimum_by_hand():
    # {4,4,4,4,4,6}, M = 26 (sizes 2a): rounds hold <= 3 items; {4,4,4} + {4,4,6} (28 > 26) fails,
    # so some round holds <= 2 items: best is 3 + 2 + 1 items -> 3*1 + 2*2 + 1*3 = 10 = K + 1
    tp = three_partition_instance([4, 4, 4, 4, 4, 6], 13)
    inst = reduction_instance(tp)
    res = exact_optimum_at_zero(inst)
    assert res.objective == 10 == threshold(2) + 1
    assert check_schedule(inst, res.schedule(inst), preemptive=False).total_latency == 10


def test_yes_instance_optimum_is_threshold():
    tp = three_partition_instance([4, 4, 5, 4, 4, 5], 13)
    inst = reduction_instance(tp)
    assert inst.memory == 26 and inst.prompt.tolist() == [7, 7, 7, 7, 9, 9]
    assert exact_optimum_at_zero(inst).objective == 9


@pytest.mark.parametrize("m,bounds", [(1, range(1, 30)), (2, range(1, 28)), (3, range(1, 19)),
                                      (4, range(1, 15))])
def test_reduction_exhaustive(m, bounds):
    rep = verify_reduction(three_partition_family(m, bounds))
    assert rep["instances"] > 0
    assert rep["agree"] == rep["instances"], rep["disagree"]
    if m >= 2:
        assert rep["no"] > 0 and rep["min_excess_no"] >= 1


def test_reduction_with_the_integer_program():
    rep = verify_reduction(three_partition_family(2, range(5, 16)), method="ip")
    assert rep["agree"] == rep["instances"] == 20 and rep["no"] == 2
    rep = verify_reduction(three_partition_family(2, [3]), method="ip")    # B = 3: all ones
    assert rep["agree"] == rep["instances"] == rep["yes"] == 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reduction_random(seed):
    rng = np.random.default_rng(seed)
    fam = [random_three_partition(rng, m, B, yes=y)
           for m, B in [(3, 21), (4, 25), (5, 29)] for y in (True, False)]
    rep = verify_reduction(fam)
    assert rep["agree"] == rep["instances"] == 6 and rep["yes"] == 3


def test_rows_shape():
    rows = reduction_rows([(2, range(5, 14))])
    assert rows[0]["instances"] == rows[0]["agree"]


def test_clm_semionline_optimal_arbitrary_reading_is_hard():
    from kvtheory.theory.hardness import check_reduction
    rep = check_reduction(quick=True)
    # 200 instances with B >= 5 plus the three all-ones instances with B = 3 (m = 1, 2, 3)
    assert rep["holds"] and rep["instances"] == 203 and rep["no"] > 30
    assert rep["excess_no"][0] >= 1


def test_smallest_bound_is_accepted_and_reduced():
    # B = 3: the only integer in (3/4, 3/2) is 1; a_j - 1 would be a zero prompt, 2 a_j - 1 = 1
    for m in (1, 2, 3):
        tp = three_partition_instance([1] * (3 * m), 3)
        inst = reduction_instance(tp)
        assert inst.prompt.tolist() == [1] * (3 * m) and inst.memory == 6
        assert is_three_partition(tp)
        assert exact_optimum_at_zero(inst).objective == threshold(m)     # triples per round
    assert three_partition_family(1, [1, 2, 3, 4]) == [three_partition_instance([1, 1, 1], 3)]


def test_every_small_valid_instance_reduces():
    # every valid instance with m <= 2, B <= 20, found by plain enumeration (not the family code)
    from itertools import combinations_with_replacement
    count = 0
    for m in (1, 2):
        for B in range(1, 21):
            for vals in combinations_with_replacement(range(1, B + 1), 3 * m):
                if sum(vals) != m * B or not all(B < 4 * v < 2 * B for v in vals):
                    continue
                tp = three_partition_instance(vals, B)
                inst = reduction_instance(tp)
                assert inst.prompt.min() >= 1 and inst.memory == 2 * B
                opt = exact_optimum_at_zero(inst).objective
                assert (opt == threshold(m)) == is_three_partition(tp) and opt >= threshold(m)
                count += 1
    assert count == len(three_partition_family(1, range(1, 21))) + \
        len(three_partition_family(2, range(1, 21)))


@st.composite
def _valid_instances(draw):
    m = draw(st.integers(1, 3))
    B = draw(st.sampled_from([3] + list(range(5, 26))))
    lo, hi = B // 4 + 1, (B - 1) // 2
    vals = draw(st.lists(st.integers(lo, hi), min_size=3 * m - 1, max_size=3 * m - 1))
    last = m * B - sum(vals)
    assume(lo <= last <= hi)
    return three_partition_instance(vals + [last], B)


@given(_valid_instances())
@settings(max_examples=60, deadline=None)
def test_property_reduction_on_valid_instances(tp):
    inst = reduction_instance(tp)
    res = exact_optimum_at_zero(inst)
    assert check_schedule(inst, res.schedule(inst), preemptive=False).total_latency == res.objective
    assert res.objective >= threshold(tp.m)
    assert (res.objective == threshold(tp.m)) == is_three_partition(tp)
