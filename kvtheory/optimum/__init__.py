"""The hindsight optimum: exact, bounded from below, approached from above.

The paper's integer program on ``scipy.optimize.milp``/HiGHS and its cuts
(:mod:`~kvtheory.optimum.exact`, :mod:`~kvtheory.optimum.cuts`), lower bounds with peak rows
(:mod:`~kvtheory.optimum.bounds`), a local search for better schedules
(:mod:`~kvtheory.optimum.search`), and the published code's solver setup (:mod:`~kvtheory.optimum.paper_solver`).

Layer 4 of 8: may import model, hardware and engines.
"""
