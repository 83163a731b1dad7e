"""The engine's waiting queue: sorted views kept up to date incrementally (issue 16).

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
