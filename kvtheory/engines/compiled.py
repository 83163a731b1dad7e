"""A compiled round loop for the built-in rules: the reference engine's schedules, to the token.

:func:`kvtheory.simulate` runs these rules here by default (``compiled=None``) and on the Python
reference engine with ``compiled=False``; any other policy always runs on the reference.

Compiled rules (the registry entries and the plain functions, with their own parameters):

* ``mc-sf`` (:func:`~kvtheory.engines.policies.mc_sf`, also ``a-max``), ``mc-benchmark``
  (``requeue="front"`` only) and ``svf``: **future-feasibility admission**.  At decision time
  ``t`` the waiting requests are walked in the rule's order: predicted output ``(õ, arrival,
  id)`` for MC-SF, ``(arrival, id)`` for MC-Benchmark, predicted volume ``(s õ + õ(õ+1)/2,
  arrival, id)`` for SVF; evicted requests keep their place, since these keys never change.
  A candidate ``(s, õ)`` is admitted iff for every ``k = 1..õ`` the *predicted* memory of
  round ``t + k`` (running requests held as ``s + τ - p`` up to their predicted end
  ``max(p + õ, t + 1)``, plus the requests admitted before it this round) plus ``s + k`` is at
  most ``floor((1 - reserve) M)``; the walk **stops at the first candidate that fails** (no
  skipping).  **Overflow**: if the running requests alone would hold more than ``M`` in round
  ``t + 1`` (only with under-predictions), running requests are evicted first, newest start
  first (ties: larger id first; ``victim="latest-arrival"``: latest ``(arrival, id)`` first),
  until the memory they would hold in round ``t + 1`` (``s + t + 1 - p`` each) covers the
  excess; their attempt ``(p, t)`` is aborted, they leave the prediction profile before the
  walk, and they wait again from ``t + 1`` on.
* ``vllm`` (:func:`~kvtheory.engines.policies.vllm_style`, ``requeue="front"`` only):
  **next-round prefix**.  On overflow evict latest-arrival first (as above) and start nothing;
  otherwise walk ``(arrival, id)`` adding ``s + 1`` per candidate to the next round's memory
  and stop at the first that exceeds ``M - ceil(watermark M)``, except that into an empty
  cache the first candidate is always started.

Requests started at ``t`` join the running set in id order (the victim order's tie-break).  The
timeline of a decision time is the reference's (:mod:`kvtheory.engines.simulator`):
completions, arrivals, decision, then the check that round ``t + 1`` fits.  When the loop
would raise (round overflow, stall, livelock, ``max_rounds``) it reports a status instead and
:func:`kvtheory.simulate` reruns the reference engine, which raises the exact error.
"""

from __future__ import annotations

import math

import numpy as np

from kvtheory.engines._compiled_core import OK, round_loop
from kvtheory.model.instance import Instance
from kvtheory.model.validation import as_fraction, as_int

__all__ = ["COMPILED_RULES", "compiled_rule", "run_compiled", "run_columns", "attempts_of"]

#: Rule name -> its keyword parameters with their defaults.
COMPILED_RULES = {
    "mc-sf": {"reserve": 0.0, "victim": "newest"},
    "mc-benchmark": {"reserve": 0.0, "victim": "newest", "requeue": "front"},
    "svf": {"victim": "newest"},
    "vllm": {"watermark": 0.01, "victim": "latest-arrival", "requeue": "front"},
}

# the built-in functions, by (module, name): the rule each one runs
_FUNCTIONS = {
    ("kvtheory.engines.policies.base", "mc_sf"): "mc-sf",
    ("kvtheory.engines.policies.base", "mc_benchmark"): "mc-benchmark",
    ("kvtheory.engines.policies.base", "vllm_style"): "vllm",
    ("kvtheory.engines.policies.successors", "svf"): "svf",
    ("kvtheory.engines.policies.successors", "a_max"): "mc-sf",
}
_VICTIMS = {"newest": 0, "latest-arrival": 1}


def compiled_rule(policy) -> tuple[str, dict] | None:
    """The compiled rule and parameters that ``policy`` runs, or None if it is not compiled.

    A policy is compiled when it is one of the built-in functions (or a :func:`functools.partial`
    of one, as the registry's entries are) with parameters the loop implements.

    Examples
    --------
    >>> from kvtheory.engines.policies import POLICIES, mc_sf, make_policy
    >>> compiled_rule(POLICIES["mc-sf"])
    ('mc-sf', {'reserve': 0.0, 'victim': 'newest'})
    >>> compiled_rule(make_policy(mc_sf, reserve=0.1))[1]["reserve"]
    0.1
    >>> compiled_rule(POLICIES["sorted-f"]) is None, compiled_rule(lambda s: None) is None
    (True, True)
    """
    func, args, kw = policy, (), {}
    if hasattr(policy, "func") and hasattr(policy, "keywords"):      # functools.partial
        func, args, kw = policy.func, policy.args, dict(policy.keywords)
    key = (getattr(func, "__module__", None), getattr(func, "__qualname__", None))
    rule = _FUNCTIONS.get(key)
    if rule is None or args:
        return None
    params = dict(COMPILED_RULES[rule])
    if any(k not in params for k in kw):
        return None
    params.update(kw)
    if params["victim"] not in _VICTIMS or params.get("requeue", "front") != "front":
        return None
    for name in ("reserve", "watermark"):
        if name in params:
            try:
                params[name] = as_fraction(params[name], name=name, high=1.0, high_open=True)
            except (ValueError, TypeError):
                return None
    return rule, params


def _order(rule: str, arrival, prompt, pred, rank) -> np.ndarray:
    """Request ids in the rule's waiting order (ties: arrival, id, i.e. ``rank``)."""
    if rule == "mc-sf":
        return np.lexsort((rank, pred))
    if rule == "svf":
        return np.lexsort((rank, prompt * pred + pred * (pred + 1) // 2))
    return np.argsort(rank, kind="stable")


def run_compiled(instance: Instance, rule: str, params: dict | None = None, *,
                 max_rounds: int | None = None, stall_limit: int | None = None,
                 livelock_limit: int | None = None) -> list[list[tuple[int, int]]] | None:
    """Every request's attempts ``(start, stop)`` under a compiled rule, or None on an error.

    None means the reference engine would raise (a round overflows, the run stalls or
    livelocks, or ``max_rounds`` passes): rerun it there for the exact error.  The limits have
    the defaults of :func:`kvtheory.simulate`.

    Examples
    --------
    >>> from kvtheory import Instance
    >>> inst = Instance.from_arrays([0, 0, 0], [1, 1, 1], [4, 1, 2], memory=5)
    >>> run_compiled(inst, "mc-sf")
    [[(1, 5)], [(0, 1)], [(0, 2)]]
    >>> run_compiled(inst, "mc-benchmark")
    [[(0, 4)], [(0, 1)], [(4, 6)]]

    Under-predicted outputs overflow, and the newest request is evicted:

    >>> inst = Instance.from_arrays([0, 0], [1, 1], [4, 4], memory=8, prediction=[1, 1])
    >>> run_compiled(inst, "mc-sf")
    [[(0, 4)], [(0, 3), (4, 8)]]

    Parameters
    ----------
    instance : Instance
    rule : {"mc-sf", "mc-benchmark", "svf", "vllm"}
    params : dict, optional
        The rule's parameters (:data:`COMPILED_RULES`; default: its defaults).
    max_rounds, stall_limit, livelock_limit : int, optional
        As in :func:`kvtheory.simulate`.

    Returns
    -------
    list of list of (int, int) or None
        For each request its aborted attempts in order, then the completed one.
    """
    arrival = np.ascontiguousarray(instance.arrival, dtype=np.int64)
    output = np.ascontiguousarray(instance.output, dtype=np.int64)
    if instance.n == 0:
        return []
    status, start, ev_id, ev_start, ev_stop = run_columns(
        arrival, instance.prompt, output, instance.prediction, instance.memory, rule, params,
        max_rounds=max_rounds, stall_limit=stall_limit, livelock_limit=livelock_limit)
    if status != OK:
        return None
    return attempts_of(start, output, ev_id, ev_start, ev_stop)


def run_columns(arrival, prompt, output, prediction, memory: int, rule: str,
                params: dict | None = None, *, max_rounds: int | None = None,
                stall_limit: int | None = None, livelock_limit: int | None = None):
    """The compiled loop on bare columns: ``(status, start, ev_id, ev_start, ev_stop)``.

    For traces too long for an :class:`~kvtheory.model.instance.Instance` (the columns are
    taken as valid: ``s + o <= M`` and ``s + õ <= M``).  ``status`` is 0 when the run
    completed; ``start`` holds each request's final start (completion ``start + output``) and
    the ``ev_*`` arrays the aborted attempts ``(start, stop)`` in the order they were aborted.

    Examples
    --------
    >>> st, start, ev_id, _, _ = run_columns([0, 0, 0], [1, 1, 1], [4, 1, 2], [4, 1, 2], 5,
    ...                                      "mc-sf")
    >>> int(st), start.tolist(), ev_id.tolist()
    (0, [1, 0, 0], [])
    """
    if rule not in COMPILED_RULES:
        raise ValueError(f"rule must be one of {tuple(COMPILED_RULES)}, got {rule!r}")
    params = {**COMPILED_RULES[rule], **(params or {})}
    arrival, prompt, output, pred = (np.ascontiguousarray(x, dtype=np.int64)
                                     for x in (arrival, prompt, output, prediction))
    n, M = arrival.size, int(memory)
    max_rounds = (int(arrival.max()) + 100 * (int(output.sum()) + n) + 1000
                  if max_rounds is None else as_int(max_rounds, name="max_rounds", minimum=1))
    stall_limit = (int(output.sum()) + 1000 if stall_limit is None
                   else as_int(stall_limit, name="stall_limit", minimum=1))
    livelock_limit = (4 * int(output.max()) + 10 if livelock_limit is None
                      else as_int(livelock_limit, name="livelock_limit", minimum=1))
    order = np.lexsort((np.arange(n), arrival))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    id_at = _order(rule, arrival, prompt, pred, rank).astype(np.int64)
    slot_of = np.empty(n, dtype=np.int64)
    slot_of[id_at] = np.arange(n)
    if rule == "vllm":
        admission, capacity = 1, M
        limit = M - math.ceil(params["watermark"] * M)
    else:
        admission, limit = 0, M
        capacity = math.floor((1.0 - params.get("reserve", 0.0)) * M)
    status, _, start, ev_id, ev_start, ev_stop, n_ab = round_loop(
        arrival[order], order.astype(np.int64), slot_of, id_at, rank, prompt, output, pred,
        M, admission, _VICTIMS[params["victim"]], capacity, limit, max_rounds, stall_limit,
        livelock_limit)
    return status, start, ev_id[:n_ab], ev_start[:n_ab], ev_stop[:n_ab]


def attempts_of(start, output, ev_id, ev_start, ev_stop) -> list[list[tuple[int, int]]]:
    """Per-request attempt lists from final starts and the aborted attempts in order.

    Examples
    --------
    >>> attempts_of(np.array([4, 0]), np.array([2, 1]), np.array([0]), np.array([0]),
    ...             np.array([3]))
    [[(0, 3), (4, 6)], [(0, 1)]]
    """
    stop = (np.asarray(start) + np.asarray(output)).tolist()
    start = np.asarray(start).tolist()
    if not len(ev_id):
        return [[(p, q)] for p, q in zip(start, stop)]
    out: list[list[tuple[int, int]]] = [[] for _ in start]
    for i, p, q in zip(np.asarray(ev_id).tolist(), np.asarray(ev_start).tolist(),
                       np.asarray(ev_stop).tolist()):
        out[i].append((p, q))
    for att, p, q in zip(out, start, stop):
        att.append((p, q))
    return out
