"""The engines that turn an instance and a policy into a schedule, and the policies.

The round engine and its queues (:mod:`~kvtheory.engines.simulator`,
:mod:`~kvtheory.engines.queues`), which also times rounds with a batch-time model
(``simulate_timed``); the paper's published-code engine (:mod:`kvtheory.engines.paper`); the
scheduling policies as plain functions ``policy(state) -> Decision``
(:mod:`~kvtheory.engines.policies`: the paper's and the successor papers'); per-request tables
and serving figures of any engine's run (:mod:`~kvtheory.engines.serving_metrics`); and the
engines of two successor papers' models: the stage model with residents that may skip rounds
(:mod:`~kvtheory.engines.fluid`, :mod:`~kvtheory.engines.fluid_policies`) and a token-budget
batch layer (:mod:`~kvtheory.engines.token_budget`).

Layer 3 of 8: may import :mod:`kvtheory.model` and :mod:`kvtheory.hardware`.
"""
