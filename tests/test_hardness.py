"""Hardness of the semi-online reading with arbitrary prompts (clm_semionline_optimal): the
3-PARTITION reduction, checked against the exact optimum on exhaustive and random families."""

import numpy as np
import pytest

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
    # {4,4,4,4,4,6}, M = 13: rounds hold <= 3 items; {4,4,4} (size 12) + {4,4,6} (14 > 13) fails,
    # so some round holds <= 2 items: best is 3 + 2 + 1 items -> 3*1 + 2*2 + 1*3 = 10 = K + 1
    tp = three_partition_instance([4, 4, 4, 4, 4, 6], 13)
    inst = reduction_instance(tp)
    res = exact_optimum_at_zero(inst)
    assert res.objective == 10 == threshold(2) + 1
    assert check_schedule(inst, res.schedule(inst), preemptive=False).total_latency == 10


def test_yes_instance_optimum_is_threshold():
    tp = three_partition_instance([4, 4, 5, 4, 4, 5], 13)
    inst = reduction_instance(tp)
    assert inst.memory == 13 and inst.prompt.tolist() == [3, 3, 3, 3, 4, 4]
    assert exact_optimum_at_zero(inst).objective == 9


@pytest.mark.parametrize("m,bounds", [(1, range(5, 30)), (2, range(5, 28)), (3, range(5, 19)),
                                      (4, range(5, 15))])
def test_reduction_exhaustive(m, bounds):
    rep = verify_reduction(three_partition_family(m, bounds))
    assert rep["instances"] > 0
    assert rep["agree"] == rep["instances"], rep["disagree"]
    if m >= 2:
        assert rep["no"] > 0 and rep["min_excess_no"] >= 1


def test_reduction_with_the_integer_program():
    rep = verify_reduction(three_partition_family(2, range(5, 16)), method="ip")
    assert rep["agree"] == rep["instances"] == 20 and rep["no"] == 2


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
    assert rep["holds"] and rep["instances"] == 200 and rep["no"] > 30
