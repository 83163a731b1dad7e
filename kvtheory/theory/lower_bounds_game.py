"""The randomized lower bound: the zero-sum game of the lower-bound family, solved exactly.

On the family of :mod:`kvtheory.theory.lower_bounds` every non-preemptive algorithm, deterministic or
randomized, is a mixture of the strategies "start ``L`` at ``d``"; the adversary picks the release
``r``.  The game with payoff ``ALG(d, r) / OPT(r)`` is solved by linear programming
(:func:`solve_game`), and an explicit adversary distribution (:func:`yao_distribution`) gives a
bound for every ``n`` (Yao's principle).  The names are also available from
:mod:`kvtheory.theory.lower_bounds`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog

from kvtheory.model.validation import as_int
from kvtheory.theory.lower_bounds import _size, deterministic_bound

__all__ = ["game_matrix", "pure_value", "GameResult", "solve_game", "yao_distribution",
           "yao_bound", "yao_analytic_bound"]


def game_matrix(n: int, max_release: int) -> np.ndarray:
    """Payoff matrix ``A[r, d] = ALG(d, r) / OPT(r)`` of the randomized lower-bound game.

    Rows: releases ``r = 1 .. max_release``, then "no shorts" (last row).  Columns: start rounds
    ``d = 0 .. max_release`` (column ``max_release`` also stands for every later start, which it
    dominates on these rows).  Entries equal :func:`cost_ratio`.

    Examples
    --------
    >>> A = game_matrix(4, 6)
    >>> A.shape
    (7, 7)
    >>> float(A[0, 0]), float(A[-1, 2])           # r = 1, d = 0; no shorts, d = 2
    (2.0, 1.5)
    """
    n = _size(n)
    R = as_int(max_release, name="max_release", minimum=1)
    return _payoff(n, R, np.arange(R + 1, dtype=np.int64))


def _payoff(n: int, R: int, starts: np.ndarray) -> np.ndarray:
    """Columns ``starts`` of :func:`game_matrix` ``(n, R)``."""
    d = starts[None, :]
    r = np.arange(1, R + 1, dtype=np.int64)[:, None]
    started = d + n + n * (np.maximum(d + n - r, 0) + 1)
    cost = np.where(d < r, started, 2 * n + r + 1)
    opt = np.minimum(2 * n + r + 1, 2 * n + n * np.maximum(n - r, 0))
    return np.vstack([cost / opt, (d + n) / n]).astype(float)


def pure_value(n: int, max_release: int) -> float:
    """Deterministic value ``min_d max_r A[r, d]`` of :func:`game_matrix` ``(n, max_release)``.

    Computed in blocks of columns, so large families fit in memory.  With
    ``max_release >= n^2`` it equals :func:`deterministic_bound` (the adversary's best answers
    ``d + 1``, ``n`` and "no shorts" are all rows, and later starts cost more); smaller
    families cap it, since starting after every release is then safe.

    Examples
    --------
    >>> pure_value(8, 64) == deterministic_bound(8)
    True
    >>> pure_value(8, 10)           # waiting past round 10 is safe in this small family
    2.25
    """
    n = _size(n)
    R = as_int(max_release, name="max_release", minimum=1)
    best = math.inf
    for lo in range(0, R + 1, 512):
        cols = np.arange(lo, min(lo + 512, R + 1), dtype=np.int64)
        best = min(best, float(_payoff(n, R, cols).max(axis=0).min()))
    return best


@dataclass(frozen=True)
class GameResult:
    """Solution of the lower-bound game (:func:`solve_game`).

    Attributes
    ----------
    n : int
    max_release : int
        Largest release round in the adversary's family (columns go to the same round).
    value : float
        Game value: the least ratio a randomized algorithm can guarantee on the family.
    lower, upper : float
        Certificates: ``min_d (q A)_d`` for the adversary's mix ``q`` (every algorithm, also
        every randomized one, has expected ratio ``>= lower`` on it; Yao) and ``max_r (A p)_r``
        for the algorithm's mix ``p``.
    pure_value : float
        Best ratio of a deterministic algorithm on the same finite family (``min_d max_r A``;
        capped by ``(max_release + n) / n``, see :func:`pure_value`).
    algorithm_mix : ndarray
        ``p[d]``: probability of starting ``L`` alone at ``d``.
    adversary_mix : ndarray
        ``q`` over the rows (releases ``1..max_release``, then no shorts).
    support_max : int
        Latest start with positive probability in ``p``.
    exact : bool
        Whether the value holds for the unbounded family (all releases and starts): true when
        ``max_release >= max(n, support_max + 1)`` (later rows cannot be worse for ``p``, later
        columns are dominated).
    seconds : float
    """

    n: int
    max_release: int
    value: float
    lower: float
    upper: float
    pure_value: float
    algorithm_mix: np.ndarray = field(repr=False)
    adversary_mix: np.ndarray = field(repr=False)
    support_max: int
    exact: bool
    seconds: float

    def row(self) -> dict:
        """Flat dict for tables."""
        return {"n": self.n, "value": self.value, "deterministic": deterministic_bound(self.n),
                "value/sqrt(n)": self.value / math.sqrt(self.n),
                "releases": self.max_release, "latest start": self.support_max,
                "exact": self.exact, "seconds": round(self.seconds, 2)}


def _solve_matrix_game(A: np.ndarray):
    """min_p max_r (A p)_r over mixed p; returns p, q (dual), value."""
    m, k = A.shape
    c = np.r_[np.zeros(k), 1.0]
    res = linprog(c, A_ub=np.c_[A, -np.ones(m)], b_ub=np.zeros(m),
                  A_eq=np.r_[np.ones(k), 0.0][None, :], b_eq=[1.0],
                  bounds=[(0, None)] * k + [(None, None)], method="highs")
    if res.status != 0:
        raise RuntimeError(f"linprog failed on the game: {res.message}")
    p = np.clip(res.x[:k], 0, None)
    p /= p.sum()
    q = np.clip(-res.ineqlin.marginals, 0, None)
    q /= q.sum()
    return p, q, float(res.fun)


def solve_game(n: int, max_release: int | None = None, *, grow: bool = True) -> GameResult:
    """Solve the randomized lower-bound game exactly with :func:`scipy.optimize.linprog`.

    Claim ``clm_lb_randomized``: every randomized non-preemptive online algorithm has expected
    ratio at least ``value`` on the family (hence competitive ratio ``>= value``).

    The program is ``min v`` subject to ``A p <= v``, ``sum p = 1``, ``p >= 0``; the adversary's
    mix ``q`` is its dual solution.  With ``grow`` the family is doubled until the value is
    exact for unbounded release rounds (see :class:`GameResult`).

    Examples
    --------
    >>> g = solve_game(4)
    >>> round(g.value, 4), round(deterministic_bound(4), 4), g.exact
    (1.4164, 1.9091, True)
    >>> abs(g.upper - g.lower) < 1e-8
    True

    Parameters
    ----------
    n : int
    max_release : int, optional
        Largest release (default ``n + ceil(n^1.5)``: the algorithm's optimal mix spreads over
        about ``0.94 n^1.5`` rounds).
    grow : bool
        Double ``max_release`` until :attr:`GameResult.exact`.
    """
    n = _size(n)
    R = (n + math.ceil(n ** 1.5)) if max_release is None else as_int(
        max_release, name="max_release", minimum=1)
    t0 = time.perf_counter()
    while True:
        A = game_matrix(n, R)
        p, q, v = _solve_matrix_game(A)
        supp = int(np.flatnonzero(p > 1e-12).max())
        exact = R >= max(n, supp + 1)
        if exact or not grow:
            break
        R *= 2
    lower, upper = float((q @ A).min()), float((A @ p).max())
    pure = float(A.max(axis=0).min())
    return GameResult(n, R, v, lower, upper, pure, p, q, supp, exact,
                      time.perf_counter() - t0)


def yao_distribution(n: int) -> tuple[int, np.ndarray]:
    """An explicit adversary mix proving ``Omega(sqrt n)`` for randomized algorithms.

    With probability 1/2 no shorts; with probability 1/2 shorts at ``r`` uniform on
    ``1 .. K``, ``K = n m``, ``m = ceil(sqrt(n / 6))``.  Returns ``(K, q)`` with ``q`` over the
    rows of :func:`game_matrix` ``(n, K)``.

    Examples
    --------
    >>> K, q = yao_distribution(24)
    >>> K, float(q[-1]), float(q[:-1].sum())
    (48, 0.5, 0.5)
    """
    n = _size(n)
    m = math.ceil(math.sqrt(n / 6))
    K = n * m
    q = np.r_[np.full(K, 0.5 / K), 0.5]
    return K, q


def yao_bound(n: int) -> float:
    """``min_d E_q[ALG(d, r) / OPT(r)]`` for :func:`yao_distribution`: a proven lower bound.

    Every deterministic algorithm of the family has expected ratio at least this on ``q``; by
    averaging, so has every randomized one against its worst release (Yao's principle).

    Examples
    --------
    >>> round(yao_bound(24), 4)
    2.1655
    """
    K, q = yao_distribution(n)
    return float((q @ game_matrix(n, K)).min())


def yao_analytic_bound(n: int) -> float:
    """Closed-form lower bound on :func:`yao_bound`: ``min(1/2 + (n+1)/(12m), m/2 + 1/(2n))``.

    For ``d <= K - n`` the releases ``d + 1 .. d + n`` find ``L`` running and cost ratio at
    least ``(d + n + 1 - r)/3`` each (``OPT <= 3n``), summing to ``n(n + 1)/6``; for
    ``d > K - n`` the no-shorts instance alone costs ``(d + n)/n > K/n``.  With
    ``m ~ sqrt(n/6)`` both terms grow like ``sqrt(n) / (2 sqrt 6)``.

    Examples
    --------
    >>> round(yao_analytic_bound(24), 4), round(yao_analytic_bound(600), 3)
    (1.0208, 5.001)
    """
    n = _size(n)
    m = math.ceil(math.sqrt(n / 6))
    return min(0.5 + (n + 1) / (12 * m), m / 2 + 1 / (2 * n))


