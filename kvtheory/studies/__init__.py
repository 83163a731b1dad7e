"""The experiments: each study runs engines and solvers over workloads and returns tidy rows.

The A100 latency-and-energy replication (:mod:`~kvtheory.studies.a100`), the paper's published
setup (:mod:`~kvtheory.studies.paper_study`) and its two engine rules one at a time
(:mod:`~kvtheory.studies.paper_rules`), the synthetic replication
(:mod:`~kvtheory.studies.replication`) with its brackets (:mod:`~kvtheory.studies.bracket`) and
under the published code's solver (:mod:`~kvtheory.studies.code_reading`), the regret measurements
(:mod:`~kvtheory.studies.regret_study`), engine scaling (:mod:`~kvtheory.studies.scaling`) and
small drivers for the chapters (:mod:`~kvtheory.studies.experiments`).

Layer 6 of 8: may import every layer below; nothing below imports it.
"""
