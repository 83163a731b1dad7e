"""The paper's theorems as computations: adversaries, games, reductions, ratios and regret.

Deterministic and randomized lower bounds (:mod:`~kvtheory.theory.lower_bounds`,
:mod:`~kvtheory.theory.lower_bounds_game`) and their limits
(:mod:`~kvtheory.theory.lower_bounds_limits`), preemption and its game
(:mod:`~kvtheory.theory.preemption`, :mod:`~kvtheory.theory.preemption_game`), NP-hardness
(:mod:`~kvtheory.theory.hardness`), the semi-online algorithm
(:mod:`~kvtheory.theory.semionline`), MC-SF's competitive ratio (:mod:`~kvtheory.theory.ratio`),
the searches of its lemmas, each a function of its target bound
(:mod:`~kvtheory.theory.lemma_searches`), and its worst case as instances grow
(:mod:`~kvtheory.theory.ratio_search`), regret under
stochastic arrivals in both batching models (:mod:`~kvtheory.theory.regret`,
:mod:`~kvtheory.theory.regret_separate`), and the successor papers' families, bounds and
derivations (:mod:`~kvtheory.theory.successors`, :mod:`~kvtheory.theory.successors_intervals`,
:mod:`~kvtheory.theory.fluid`) and the searches of their ratio claims, each a function of its
target policy (:mod:`~kvtheory.theory.successor_searches`).

Layer 5 of 8: may import model, hardware, engines and optimum.
"""
