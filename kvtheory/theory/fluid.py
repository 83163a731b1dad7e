"""Symbolic derivations for the successor chapters (sympy; every step ends in an assertion).

* :func:`fluid_derivation`: the fluid equilibrium of arXiv 2504.11320 (section "Fluid model and
  equilibrium", current revision): per-type memory, flow balance, ``n_j*``, ``M*``, the
  throughput identity ``sum lambda_j l'_j``, the blow-up at ``d_1 rho -> 1``, and the paper's
  FCFS example (``l = l' = 1``, ``lambda = 4``: ``M* = 12``).
* :func:`budget_derivation`: the token-budget capacity ``b_max / t(b_max)`` of arXiv 2504.07347
  (*second-hand*) for CodeLlama-34B's clock, and the observation (ours) that the section 6
  counterexample's offered load ``1280 / 467.5`` equals the capacity at ``b_max = 128``.
"""

from __future__ import annotations

__all__ = ["fluid_derivation", "budget_derivation"]


def fluid_derivation() -> dict:
    """Derive the fluid benchmark symbolically; raise ``AssertionError`` if a step fails.

    Examples
    --------
    >>> d = fluid_derivation()
    >>> sym = d["symbols"]
    >>> d["n_star"].subs({sym["d0"]: 1, sym["d1"]: 0})      # unit rounds: lambda per stage
    lam
    >>> d["fcfs_example_memory"], d["fcfs_example_throughput"]
    (12, 4)
    """
    import sympy as sp

    l, lp, n, lam, d0, d1, s = sp.symbols("l lp n lam d0 d1 s", positive=True)
    # memory of n prompts at each stage 0..l' (stage s holds l + s)
    per_type = sp.summation(l + s, (s, 0, lp))
    assert sp.simplify(per_type - (lp + 1) * (l + lp / 2)) == 0
    w = (lp + 1) * (l + lp / 2)
    # flow balance: arrivals in one iteration = completions (n per iteration)
    sol = sp.solve(sp.Eq((d0 + d1 * n * w) * lam, n), n)
    assert len(sol) == 1
    n_star = sol[0]
    assert sp.simplify(n_star - d0 * lam / (1 - d1 * lam * w)) == 0
    M_star = sp.simplify(n_star * w)
    # throughput: completed decode tokens per unit time = lambda l'
    thr = sp.simplify(n_star * lp / (d0 + d1 * M_star))
    assert sp.simplify(thr - lam * lp) == 0
    # two types: Delta T = d0 + d1 sum n_j w_j with n_j = lambda_j Delta T
    lam1, lam2, w1, w2, dT = sp.symbols("lam1 lam2 w1 w2 dT", positive=True)
    dT_sol = sp.solve(sp.Eq(dT, d0 + d1 * (lam1 * dT * w1 + lam2 * dT * w2)), dT)[0]
    rho = lam1 * w1 + lam2 * w2
    assert sp.simplify(dT_sol - d0 / (1 - d1 * rho)) == 0
    # the memory requirement blows up at the stability limit d1 rho -> 1
    r = sp.symbols("r", positive=True)
    assert sp.limit(d0 * r / (1 - d1 * r), r, 1 / d1, "-") == sp.oo
    # unit rounds (d0 = 1, d1 = 0) and the paper's FCFS example
    ex = {l: 1, lp: 1, lam: 4, d0: 1, d1: 0}
    mem_ex = M_star.subs(ex)
    assert mem_ex == 12
    thr_ex = (lam * lp).subs(ex)
    assert thr_ex == 4
    # WAIT thresholds with d1 = 0: Delta T = 1 <= n / lambda, i.e. n >= lambda; n = 4 fills C = 12
    assert sp.Integer(4) * w.subs(ex) == 12
    return {"symbols": {"l": l, "lp": lp, "lam": lam, "d0": d0, "d1": d1},
            "per_type_memory": w, "n_star": n_star, "M_star": M_star, "throughput": thr,
            "delta_T_two_types": dT_sol, "fcfs_example_memory": int(mem_ex),
            "fcfs_example_throughput": int(thr_ex)}


def budget_derivation() -> dict:
    """Token-budget capacities for CodeLlama-34B's clock; raise ``AssertionError`` on failure.

    Examples
    --------
    >>> d = budget_derivation()
    >>> d["capacity_512"], d["offered_vertex_c"] == d["capacity_128"]
    (12800/3829, True)
    """
    import sympy as sp

    c, a = sp.Rational("11.28"), sp.Rational("35.47")

    def t(b, b0=128):
        return c + a * sp.ceiling(sp.Rational(b, b0))

    cap = {b: sp.Rational(b) / t(b) for b in (128, 512, 1024)}
    assert t(512) == sp.Rational("153.16")
    offered = sp.Rational(290 + 990) / sp.Rational("467.5")
    assert offered == cap[128]                 # vertex C sits on the b_max = 128 boundary
    assert offered < cap[1024]                  # and below the b_max = 1024 capacity
    return {"capacity_128": cap[128], "capacity_512": cap[512], "capacity_1024": cap[1024],
            "offered_vertex_c": offered}
