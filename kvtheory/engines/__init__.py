"""The engines that turn an instance and a policy into a schedule, and the policies.

The round engine and its queues (:mod:`~kvtheory.engines.simulator`,
:mod:`~kvtheory.engines.queues`), which also times rounds with a batch-time model
(``simulate_timed``); the paper's published-code engine (:mod:`kvtheory.engines.paper`); the
scheduling policies as plain functions ``policy(state) -> Decision``
(:mod:`~kvtheory.engines.policies`); per-request tables and serving figures of any engine's run
(:mod:`~kvtheory.engines.serving_metrics`).

Layer 3 of 8: may import :mod:`kvtheory.model` and :mod:`kvtheory.hardware`.
"""
