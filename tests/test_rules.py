"""Rules that discriminate: each trend, growth and stability rule fed synthetic evidence.

Flat, slowly rising, sharply rising, falling and noisy sequences, drawn by hypothesis, and the
status each must get.  A growth claim (a lower bound) is supported only by a rise a bounded
target would not show; an upper bound only by a tail that does not rise; a backlog is bounded
only when its slope's 95 % band reaches 0.
"""

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from kvtheory.claims.ratio import ratio_trend_status
from kvtheory.claims.successors_a import grows_like_sqrt
from kvtheory.claims.successors_b import grade_budget
from kvtheory.theory.successors_intervals import grade_growth

SIZES = (7, 8, 16, 32)          # the growth reading's sizes: a random row, then doublings
QS = (1, 2, 4, 8)               # u/l grid (quick)
BUCKETS = (8, 12, 16)           # memory buckets of the Omega(sqrt M) search

base = st.floats(1.0, 50.0)
noise = st.lists(st.floats(-0.01, 0.01), min_size=4, max_size=4)


def _rows(values):
    return [{"n": n, "ratio low": x} for n, x in zip(SIZES, values)]


# --------------------------------------------------------------------------- upper bound: MC-SF
@settings(max_examples=60, deadline=None)
@given(c=base, e=noise)
def test_ratio_trend_flat_or_noisy_flat_is_supported(c, e):
    assert ratio_trend_status(_rows([c * (1 + x) for x in e]))[0] == "supported"


@settings(max_examples=60, deadline=None)
@given(c=base, r=st.floats(0.0, 0.02))
def test_ratio_trend_slowly_rising_within_the_margin_is_supported(c, r):
    assert ratio_trend_status(_rows([c * (1 + r) ** k for k in range(4)]))[0] == "supported"


@settings(max_examples=60, deadline=None)
@given(c=base, r=st.floats(0.2, 1.0), e=noise)
def test_ratio_trend_sharply_rising_even_noisy_is_inconclusive(c, r, e):
    vals = [c * (1 + r) ** k * (1 + x) for k, x in enumerate(e)]
    assert ratio_trend_status(_rows(vals))[0] == "inconclusive"


@settings(max_examples=60, deadline=None)
@given(c=base, r=st.floats(0.01, 0.5))
def test_ratio_trend_falling_is_supported_and_a_late_flat_step_is_not(c, r):
    assert ratio_trend_status(_rows([c * (1 - r / 2) ** k for k in range(4)]))[0] == "supported"
    jump = [c, c, c * (1.2 + r), c * (1.2 + r)]               # sharp rise, then one flat step
    assert ratio_trend_status(_rows(jump))[0] == "inconclusive"


def test_ratio_trend_exceeding_the_bound_fails():
    assert ratio_trend_status(_rows([1, 1, 1, 9300]))[0] == "fails"


# --------------------------------------------------------------------------- upper bound: A_min
@settings(max_examples=60, deadline=None)
@given(c=base, e=noise)
def test_log_rule_flat_log_and_falling_are_supported(c, e):
    logs = [c * (1 + math.log2(q)) * (1 + x) for q, x in zip(QS, e)]
    for w in ([c * (1 + x) for x in e], logs, [c / (1 + k) for k in range(4)]):
        assert grade_growth(QS, w, shape="log").status == "supported", w


@settings(max_examples=60, deadline=None)
@given(c=base, jump=st.floats(1.5, 10.0))
def test_log_rule_linear_growth_and_a_late_jump_are_inconclusive(c, jump):
    assert grade_growth(QS, [c * q for q in QS], shape="log").status == "inconclusive"
    late = [c, c, c, c * 4 * jump]            # 1, 1, 1, 4.3: no cap set by the first values
    assert grade_growth(QS, late, shape="log").status == "inconclusive"


# --------------------------------------------------------------------------- growth: A_max
@settings(max_examples=60, deadline=None)
@given(c=base, e=noise, r=st.floats(0.0, 0.03))
def test_unbounded_rule_needs_a_rise(c, e, r):
    for w in ([c * (1 + x) for x in e], [c * (1 + r) ** k for k in range(4)],
              [c / (1 + k) for k in range(4)]):
        assert grade_growth(QS, w, shape="unbounded").status == "inconclusive", w
    assert grade_growth(QS, [c * (1 + q) / 2 for q in QS], shape="unbounded").status == \
        "supported"


# --------------------------------------------------------------------------- growth: sqrt(M)
@settings(max_examples=60, deadline=None)
@given(c=base, e=st.lists(st.floats(-0.02, 0.02), min_size=3, max_size=3),
       r=st.floats(0.0, 0.04))
def test_sqrt_rule_flat_slow_noisy_and_falling_are_not_growth(c, e, r):
    for w in ([c] * 3, [c * (1 + x) for x in e], [c * (1 + r) ** k for k in range(3)],
              [c / (1 + k) for k in range(3)]):
        assert not grows_like_sqrt(BUCKETS, w), w


@settings(max_examples=60, deadline=None)
@given(c=base, a=st.floats(0.5, 2.0))
def test_sqrt_rule_sqrt_growth_and_faster_is_growth(c, a):
    assert grows_like_sqrt(BUCKETS, [c * (M / 8) ** a for M in BUCKETS])
    assert not grows_like_sqrt(BUCKETS, [1.3, 1.3, 1.3])


# --------------------------------------------------------------------------- stability
@settings(max_examples=60, deadline=None)
@given(offered=st.floats(1.0, 5.0), mid=st.floats(-0.5, 0.0), half=st.floats(0.0, 0.04))
def test_bounded_backlog_band_reaching_zero_is_supported(offered, mid, half):
    s = {"lo": mid - half, "hi": mid + half, "offered": offered}
    assert grade_budget(s, expect="bounded") == "supported"


@settings(max_examples=60, deadline=None)
@given(offered=st.floats(1.0, 5.0), lo=st.floats(0.001, 0.04), width=st.floats(0.0, 0.04))
def test_backlog_slope_excluding_zero_upward_is_not_bounded(offered, lo, width):
    s = {"lo": lo, "hi": lo + width, "offered": offered}       # e.g. 0.056 to 0.117 tokens/ms
    assert grade_budget(s, expect="bounded") == "inconclusive"
    assert grade_budget({"lo": 0.056, "hi": 0.117, "offered": 3.0}, expect="bounded") != \
        "supported"
    grows = {"lo": 0.06 * offered, "hi": 0.1 * offered, "offered": offered}
    assert grade_budget(grows, expect="bounded") == "fails"


@settings(max_examples=60, deadline=None)
@given(offered=st.floats(1.0, 5.0), share=st.floats(0.021, 0.09))
def test_fluid_rule_refuses_draining_faster_than_capacity(offered, share):
    """At load 1.1 even an unlimited server is only about 9 % of the offered rate below the
    fluid rate: the rule must refuse an excess between -2 % and -9 % (a 5 % cut did not)."""
    assert grade_budget({"excess_hi": -share * offered, "offered": offered},
                        expect="fluid") == "inconclusive"


@settings(max_examples=60, deadline=None)
@given(offered=st.floats(1.0, 5.0), share=st.floats(-0.019, 0.5))
def test_fluid_rule_accepts_draining_at_capacity_or_slower(offered, share):
    assert grade_budget({"excess_hi": share * offered, "offered": offered},
                        expect="fluid") == "supported"


# --------------------------------------------------------------------------- growth: the family
FAMILY_M = (6, 9, 12, 15, 18)   # the prompt family's members against the exact optimum (quick)


@settings(max_examples=60, deadline=None)
@given(c=base, r=st.floats(0.001, 0.04), e=st.lists(st.floats(-0.02, 0.02), min_size=5,
                                                     max_size=5))
def test_family_rule_rejects_a_bounded_strictly_rising_family(c, r, e):
    """On main the family reading graded 'strictly rising': a ratio that creeps up by at most
    4 % per member (bounded) passed it.  The sqrt(M) rule the reading now uses does not."""
    creep = [c * (1 + r / 2) ** k for k in range(5)]
    assert all(b > a for a, b in zip(creep, creep[1:]))
    for w in (creep, [c * (1 + x) for x in e], [c] * 5):
        assert not grows_like_sqrt(FAMILY_M, w), w


@settings(max_examples=60, deadline=None)
@given(c=base, a=st.floats(0.4, 0.55))
def test_overstated_growth_rejects_sqrt_growth_and_passes_linear(c, a):
    """The planted counterpart of a sqrt(M) claim: the same rule with exponent 1.  Growth like
    M^a, a near 1/2, passes the sqrt(M) rule and must fail it (the rule asks half the stated
    growth, so it tells sqrt(M) from M); linear growth passes it."""
    for ms in (BUCKETS, FAMILY_M):
        w = [c * (M / ms[0]) ** a for M in ms]
        assert grows_like_sqrt(ms, w) and not grows_like_sqrt(ms, w, exponent=1)
        assert grows_like_sqrt(ms, [c * M / ms[0] for M in ms], exponent=1)


@settings(max_examples=60, deadline=None)
@given(c=base, a=st.floats(0.3, 1.0))
def test_sqrt_rule_judges_a_dense_grid_as_a_coarse_one(c, a):
    """The full run's family has M = 6, 9, ..., 30: steps of 10 %, where a constant 5 % floor
    would reject sqrt(M) itself.  The margin scales with each step: growth like M^a, a >= 0.3,
    passes; a creep of 2 % per member does not."""
    dense = tuple(range(6, 31, 3))
    assert grows_like_sqrt(dense, [c * M ** a for M in dense])
    assert not grows_like_sqrt(dense, [c * 1.02 ** k for k in range(len(dense))])
