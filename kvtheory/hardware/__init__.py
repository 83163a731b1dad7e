"""The hardware the paper's experiments ran on: two A100s serving Llama2-70B.

Model and GPU specifications, KV capacity and power (:mod:`~kvtheory.hardware.calibration`),
batch-time fits (:mod:`~kvtheory.hardware.batchtime`), the energy of a timed run
(:mod:`~kvtheory.hardware.energy`) and the comparison with Vidur's profiles
(:mod:`~kvtheory.hardware.vidur`).

Layer 2 of 8: may import :mod:`kvtheory.model`.
"""
