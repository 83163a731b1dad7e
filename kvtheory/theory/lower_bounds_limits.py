"""Symbolic limits of the lower-bound constructions (``clm_lb_deterministic``, ``clm_lb_randomized``).

The finite-size checks of :mod:`kvtheory.theory.lower_bounds` and
:mod:`kvtheory.theory.lower_bounds_game` measure the adversary's ratio for a few ``n``; growth over
finitely many sizes proves nothing about ``n -> oo``.  This module derives, with sympy, a closed
form in ``n`` that bounds the adversary's ratio from below for *every* ``n`` and takes its limit;
each derivation ends in assertions (a failed step raises ``AssertionError``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LimitDerivation", "deterministic_limit", "randomized_limit"]


@dataclass(frozen=True)
class LimitDerivation:
    """A closed-form lower bound ``bound(n)`` on an adversary's ratio and its limits.

    Attributes
    ----------
    bound : sympy expression
        Lower bound on the ratio, valid for every integer ``n >= n_min``.
    n : sympy Symbol
        The size symbol.
    n_min : int
        Smallest size for which the derivation holds.
    limit : sympy expression
        ``limit(bound, n, oo)`` (``oo``: unbounded).
    slope : sympy expression
        ``limit(bound / g(n), n, oo)`` for the growth rate ``g`` named in ``rate``.
    rate : str
        ``"n"`` or ``"sqrt(n)"``.
    steps : tuple of str
        The derivation's steps, in words.
    """

    bound: object
    n: object
    n_min: int
    limit: object
    slope: object
    rate: str
    steps: tuple

    def at(self, n: int) -> float:
        """The bound at an integer ``n`` as a float.

        Examples
        --------
        >>> round(deterministic_limit().at(8), 4)
        3.25
        """
        return float(self.bound.subs(self.n, n))


def deterministic_limit() -> LimitDerivation:
    """Claim ``clm_lb_deterministic``: each non-preemptive deterministic ratio is >= (n^2+2n-2)/(3n).

    On the family ``L = (0, n^2, n)`` plus ``n`` shorts ``(r, n, 1)``, ``M = n(n+1)``, an
    algorithm that starts ``L`` alone at round ``d`` and meets shorts released at ``r = d + 1``
    pays ``ALG = d + n + n^2`` (the shorts wait for ``L``), while ``OPT(r) = min(2n + r + 1,
    2n + n max(n - r, 0))`` (:func:`kvtheory.theory.lower_bounds.opt_cost`).  For ``d <= n - 2``
    the ratio is at least ``(d + n + n^2) / (2n + d + 2)``, non-increasing in ``d`` (its
    derivative is ``-(n - 2)(n + 1) / (2n + d + 2)^2``), so at least its value at
    ``d = n - 2``; for ``d >= n - 1``, ``OPT = 2n`` and the ratio is at least
    ``(n^2 + 2n - 1) / (2n)``, which exceeds the first by ``(n + 1)^2 / (6n)``; an algorithm
    that waits ``n^2`` rounds pays at least ``(n^2 + 2n + 1) / (2n)`` on the shorts released then.
    So every such algorithm has ratio at least ``(n^2 + 2n - 2) / (3n)``, which tends to
    infinity like ``n / 3``.

    Examples
    --------
    >>> d = deterministic_limit()
    >>> str(d.limit), str(d.slope), d.rate
    ('oo', '1/3', 'n')
    """
    import sympy as sp

    n = sp.Symbol("n", positive=True, integer=True)
    d = sp.Symbol("d", nonnegative=True, integer=True)
    alg = d + n + n ** 2                              # L at d, shorts at d + 1 wait for L
    early = alg / (2 * n + d + 2)                     # OPT(d + 1) <= 2n + (d + 1) + 1
    deriv = sp.factor(sp.simplify(sp.diff(early, d)))
    assert sp.simplify(deriv * (2 * n + d + 2) ** 2 + (n - 2) * (n + 1)) == 0
    bound = sp.simplify(early.subs(d, n - 2))
    assert sp.simplify(bound - (n ** 2 + 2 * n - 2) / (3 * n)) == 0
    late = (n - 1 + n + n ** 2) / (2 * n)             # d >= n - 1: OPT = 2n, ALG >= d + n + n^2
    assert sp.simplify(late - bound - (n + 1) ** 2 / (6 * n)) == 0
    waits = (2 * n + n ** 2 + 1) / (2 * n)            # never starts L by n^2: 2n + n^2 + 1 vs 2n
    assert sp.simplify(waits - bound - (n ** 2 + 2 * n + 7) / (6 * n)) == 0
    lim = sp.limit(bound, n, sp.oo)
    slope = sp.limit(bound / n, n, sp.oo)
    assert lim == sp.oo and slope == sp.Rational(1, 3)
    steps = ("shorts at d + 1 against L started at d: ratio >= (d + n + n^2)/(2n + d + 2)",
             "derivative in d: -(n - 2)(n + 1)/(2n + d + 2)^2 <= 0, so d = n - 2 is the least",
             "d >= n - 1: OPT = 2n, ratio >= (n^2 + 2n - 1)/(2n), larger by (n + 1)^2/(6n)",
             "bound (n^2 + 2n - 2)/(3n) -> oo, ~ n/3")
    return LimitDerivation(bound, n, 2, lim, slope, "n", steps)


def randomized_limit() -> LimitDerivation:
    """Claim ``clm_lb_randomized``: the explicit Yao bound tends to infinity like ``sqrt(n)``.

    :func:`kvtheory.theory.lower_bounds_game.yao_analytic_bound` is
    ``min(1/2 + (n + 1)/(12 m), m/2 + 1/(2n))`` with ``m = ceil(sqrt(n / 6))``.  Since
    ``sqrt(n/6) <= m <= sqrt(n/6) + 1``, it is at least
    ``min(1/2 + (n + 1)/(12 (sqrt(n/6) + 1)), sqrt(n/6)/2)``; both terms tend to infinity
    (the first like ``sqrt(6 n)/12``, the second like ``sqrt(n/6)/2``, the same rate), so the
    expected ratio of every randomized algorithm on the family is unbounded.

    Examples
    --------
    >>> r = randomized_limit()
    >>> str(r.limit), r.rate, r.at(600) <= 5.001
    ('oo', 'sqrt(n)', True)
    """
    import sympy as sp

    n = sp.Symbol("n", positive=True)
    root = sp.sqrt(n / 6)
    first = sp.Rational(1, 2) + (n + 1) / (12 * (root + 1))   # m <= sqrt(n/6) + 1
    second = root / 2                                           # m >= sqrt(n/6)
    bound = sp.Min(first, second)
    l1, l2 = sp.limit(first, n, sp.oo), sp.limit(second, n, sp.oo)
    s1 = sp.limit(first / sp.sqrt(n), n, sp.oo)
    s2 = sp.limit(second / sp.sqrt(n), n, sp.oo)
    assert l1 == sp.oo and l2 == sp.oo
    assert sp.simplify(s1 - s2) == 0 and s1.is_positive
    steps = ("yao_analytic_bound = min(1/2 + (n+1)/(12m), m/2 + 1/(2n)), m = ceil(sqrt(n/6))",
             "sqrt(n/6) <= m <= sqrt(n/6) + 1 bounds each term from below",
             f"both lower terms -> oo, each ~ {sp.nsimplify(s1)} sqrt(n)")
    return LimitDerivation(bound, n, 2, sp.oo, s1, "sqrt(n)", steps)
