"""The engine's waiting queue: sorted views kept up to date incrementally (so a round costs what happens in it).

Policies walk the waiting requests in one of three orders and usually stop after a few:

* ``"arrival"``: ``(arrival, id)``, the order of ``state.waiting`` (FCFS, evicted requests keep
  their priority);
* ``"prediction"``: ``(predicted output, arrival, id)`` (shortest predicted first, MC-SF);
* ``"requeue"``: ``(max(arrival, last eviction), id)`` (FCFS where evicted requests queue again
  from their eviction time).

Each order is a :class:`sortedcontainers.SortedList` of integer codes, built the first time a
policy asks for it and then updated on every arrival, start and eviction in ``O(log n)``, so a
decision costs what the policy reads, not the length of the queue.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
from sortedcontainers import SortedList

ORDERS = ("arrival", "prediction", "requeue")


class WaitingQueue:
    """Waiting requests of one simulation, in every order a policy may ask for.

    ``rank[i]`` is the position of request ``i`` in ``(arrival, id)`` order and ``by_rank`` its
    inverse; ``joined`` and ``evicted_at`` are the engine's arrays (read, never written here).
    """

    def __init__(self, rank: list, by_rank: list, prompt: list, prediction: list,
                 joined: np.ndarray, evicted_at: np.ndarray):
        self.n = len(rank)
        self.rank, self.by_rank = rank, by_rank
        self.prompt, self.prediction = prompt, prediction
        self.joined, self.evicted_at = joined, evicted_at
        self.fcfs = SortedList()            # ranks: always kept (size, membership order)
        self.member = bytearray(self.n)
        self.views: dict[str, SortedList] = {}

    # ------------------------------------------------------------------ codes of each order
    def _code(self, by: str, i: int) -> int:
        if by == "prediction":
            return self.prediction[i] * self.n + self.rank[i]
        return max(int(self.joined[i]), int(self.evicted_at[i])) * self.n + i

    def _decode(self, by: str, code: int) -> int:
        if by == "prediction":
            return self.by_rank[code % self.n]
        return code % self.n

    # ------------------------------------------------------------------ updates
    def add(self, ids) -> None:
        """Add requests (already marked in ``joined``/``evicted_at``) to every view."""
        rank, member = self.rank, self.member
        for i in ids:
            member[i] = 1
        self.fcfs.update([rank[i] for i in ids])
        for by, view in self.views.items():
            view.update([self._code(by, i) for i in ids])

    def remove(self, ids) -> None:
        """Remove started requests from every view."""
        rank, member, fcfs = self.rank, self.member, self.fcfs
        for i in ids:
            member[i] = 0
            fcfs.remove(rank[i])
        for by, view in self.views.items():
            for i in ids:
                view.remove(self._code(by, i))

    # ------------------------------------------------------------------ reads
    def __len__(self) -> int:
        return len(self.fcfs)

    def __contains__(self, i: int) -> bool:
        return 0 <= i < self.n and bool(self.member[i])

    def ids(self) -> np.ndarray:
        """Waiting ids in ``(arrival, id)`` order (``O(queue)``: for ``state.waiting``)."""
        ranks = np.fromiter(self.fcfs, dtype=np.int64, count=len(self.fcfs))
        return np.asarray(self.by_rank, dtype=np.int64)[ranks] if ranks.size else ranks

    def iter(self, by: str) -> Iterator[tuple[int, int, int]]:
        """``(id, prompt, prediction)`` of waiting requests in order ``by``, lazily."""
        prompt, pred = self.prompt, self.prediction
        if by == "arrival":
            by_rank = self.by_rank
            for r in self.fcfs:
                i = by_rank[r]
                yield i, prompt[i], pred[i]
            return
        if by not in ORDERS:
            raise ValueError(f"order must be one of {ORDERS}, got {by!r}")
        view = self.views.get(by)
        if view is None:
            view = self.views[by] = SortedList(
                self._code(by, self.by_rank[r]) for r in self.fcfs)
        n = self.n
        if by == "prediction":
            by_rank = self.by_rank
            for c in view:
                i = by_rank[c % n]
                yield i, prompt[i], pred[i]
        else:
            for c in view:
                i = c % n
                yield i, prompt[i], pred[i]


class PredictedProfile:
    """Predicted memory of the running requests in rounds ``t + 1, t + 2, ...``, kept incrementally.

    A running request started at ``p`` (prompt ``s``, prediction ``õ``) is predicted to hold
    ``s + τ - p`` in round ``τ`` up to ``max(p + õ, t + 1)``.  ``P`` is a ring over absolute
    rounds holding the sum of these predictions for requests whose predicted end ``e = p + õ``
    lies ahead (a start adds ``s + k`` for ``k = 1..õ``, a completion or eviction subtracts what
    remains); per-end buckets tell which requests outlive their prediction at each decision
    time, after which they count in round ``t + 1`` only (two totals).  A start or removal costs
    ``O(õ)``, :meth:`window` ``O(h)``, whatever the number of requests running.
    """

    def __init__(self, max_prediction: int):
        self.maxp = int(max_prediction)
        self.L = 2 * self.maxp + 4
        self.P = np.zeros(self.L, dtype=np.int64)
        self.A = [0] * self.L                         # per predicted end: sum of s - p
        self.C = [0] * self.L                         # per predicted end: count
        self.ramp = np.arange(1, self.maxp + 1, dtype=np.int64)
        self.ring = 0                                 # requests with e > z
        self.late_a = self.late_c = 0                 # requests with e <= z
        self.z = -1                                   # last decision time advanced to

    def _add(self, lo: int, vals: np.ndarray) -> None:
        """Add ``vals`` to rounds ``lo, lo + 1, ...`` of the ring."""
        L, m = self.L, vals.size
        j = lo % L
        if j + m <= L:
            self.P[j:j + m] += vals
        else:
            k = L - j
            self.P[j:] += vals[:k]
            self.P[:m - k] += vals[k:]

    def add(self, p: int, s: int, o: int) -> None:
        """A request started at decision time ``p`` (the current one)."""
        self._add(p + 1, s + self.ramp[:o])
        j = (p + o) % self.L
        self.A[j] += s - p
        self.C[j] += 1
        self.ring += 1

    def remove(self, p: int, s: int, o: int) -> None:
        """A request started at ``p`` completed or was evicted."""
        e = p + o
        if e > self.z:
            k0 = max(self.z - p, 0)                   # predicted rounds already past
            if k0 < o:
                self._add(p + 1 + k0, -(s + self.ramp[k0:o]))
            j = e % self.L
            self.A[j] -= s - p
            self.C[j] -= 1
            self.ring -= 1
        else:
            self.late_a -= s - p
            self.late_c -= 1

    def advance(self, t: int) -> None:
        """Move to decision time ``t``: rounds up to ``t`` are past."""
        if self.ring:
            for tau in range(self.z + 1, min(t + 1, self.z + 1 + self.L)):
                j = tau % self.L
                self.P[j] = 0
                c = self.C[j]
                if c:
                    self.late_a += self.A[j]
                    self.late_c += c
                    self.ring -= c
                    self.A[j] = self.C[j] = 0
        self.z = t

    def window(self, t: int, h: int) -> np.ndarray:
        """Predicted memory of rounds ``t + 1 .. t + h`` (after :meth:`advance` to ``t``)."""
        out = np.zeros(h, dtype=np.int64)
        m = min(h, self.L - 1)
        j = (t + 1) % self.L
        if j + m <= self.L:
            out[:m] = self.P[j:j + m]
        else:
            k = self.L - j
            out[:k] = self.P[j:]
            out[k:m] = self.P[:m - k]
        out[0] += self.late_a + (t + 1) * self.late_c
        return out
