"""The problem's data and the plumbing every layer shares.

Requests and instances (:mod:`~kvtheory.model.instance`), schedules and their per-request records
(:mod:`~kvtheory.model.schedule`), the independent feasibility checker
(:mod:`~kvtheory.model.checker`), trace files (:mod:`~kvtheory.model.traces`; their
formats in :mod:`~kvtheory.model.trace_read`, their columns in
:mod:`~kvtheory.model.trace_columns`), workload
generators (:mod:`~kvtheory.model.workloads`), input validation
(:mod:`~kvtheory.model.validation`), text tables (:mod:`~kvtheory.model.tables`), statistics
helpers (:mod:`~kvtheory.model.stats`), the code-versioned result cache
(:mod:`~kvtheory.model.cache`), the one executor of long computations over grids of cells, on
local processes or a dask cluster (:mod:`~kvtheory.model.cells`), and the stage model of the fluid-batching successor paper with its
independent checker (:mod:`~kvtheory.model.fluid_checker`).

Layer 1 of 8: imports nothing else from kvtheory.
"""
