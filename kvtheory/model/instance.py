"""Requests and instances: the model of arXiv 2502.07115 (every version).

A request ``i = (a_i, s_i, o_i)`` arrives in round ``a_i`` with a prompt of ``s_i`` tokens and
will produce ``o_i`` output tokens.  Started at decision time ``p >= a_i`` it is processed in
rounds ``p+1, ..., p+o_i``, holds ``s_i + j`` units of KV-cache memory in round ``p+j`` and
completes at ``c_i = p + o_i``.  An instance is a tuple of requests plus the memory ``M``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable, Sequence

import numpy as np

from kvtheory.model.validation import as_int, check_fits, check_request_fields

__all__ = ["Request", "Instance"]


@dataclass(frozen=True)
class Request:
    """One inference request.

    Examples
    --------
    >>> r = Request(arrival=0, prompt=3, output=4)
    >>> r.predicted            # no prediction given: the scheduler knows o exactly
    4
    >>> Request(arrival=2, prompt=3, output=4, prediction=6).predicted
    6
    >>> Request(arrival=0, prompt=0, output=4)
    Traceback (most recent call last):
    ...
    ValueError: request ?: prompt must be >= 1, got 0

    Attributes
    ----------
    arrival : int
        Round ``a_i >= 0`` in which the request becomes known.
    prompt : int
        Prompt size ``s_i >= 1`` (tokens of KV cache held from the first round on).
    output : int
        True output length ``o_i >= 1`` (rounds of processing).
    prediction : int or None
        Predicted output length ``õ_i >= 1`` seen by the scheduler; ``None`` means exact
        (``õ_i = o_i``).
    """

    arrival: int
    prompt: int
    output: int
    prediction: int | None = None

    def __post_init__(self):
        a, s, o, p = check_request_fields("?", self.arrival, self.prompt, self.output,
                                          self.prediction)
        object.__setattr__(self, "arrival", a)
        object.__setattr__(self, "prompt", s)
        object.__setattr__(self, "output", o)
        object.__setattr__(self, "prediction", p)

    @property
    def predicted(self) -> int:
        """The output length the scheduler believes: ``prediction`` or, if absent, ``output``."""
        return self.output if self.prediction is None else self.prediction

    @property
    def volume(self) -> int:
        """Memory-time area ``s*o + o(o+1)/2`` of the request (the area of the paper's v4/v5 lower-bound arguments)."""
        return self.prompt * self.output + self.output * (self.output + 1) // 2


@dataclass(frozen=True)
class Instance:
    """A scheduling instance: requests (indexed 0..n-1) and the KV-cache capacity ``M``.

    Validation happens here, once: every request must fit alone (``s + o <= M``, and
    ``s + õ <= M`` for its prediction), and either every request carries a prediction or none
    does.

    Examples
    --------
    >>> inst = Instance.from_arrays(arrival=[0, 0, 1], prompt=[2, 1, 3], output=[3, 1, 2], memory=8)
    >>> inst.n, inst.memory
    (3, 8)
    >>> inst.output.tolist()
    [3, 1, 2]
    >>> Instance.from_arrays(arrival=[0], prompt=[30], output=[10], memory=32)
    Traceback (most recent call last):
    ...
    ValueError: request 0 can never fit: s+o=40 > M=32

    Attributes
    ----------
    requests : tuple of Request
        The requests; a request's id is its position.
    memory : int
        KV-cache capacity ``M`` in tokens.
    """

    requests: tuple[Request, ...]
    memory: int
    name: str = field(default="", compare=False)

    def __post_init__(self):
        reqs = tuple(self.requests)
        if not all(isinstance(r, Request) for r in reqs):
            raise ValueError("requests must be Request objects")
        m = as_int(self.memory, name="memory M", minimum=1)
        with_pred = [r.prediction is not None for r in reqs]
        if any(with_pred) and not all(with_pred):
            missing = with_pred.index(False)
            raise ValueError(
                f"request {missing}: prediction missing (either every request has a "
                f"prediction or none has)")
        for i, r in enumerate(reqs):
            check_fits(i, r.prompt, r.output, r.prediction, m)
        object.__setattr__(self, "requests", reqs)
        object.__setattr__(self, "memory", m)

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_arrays(cls, arrival: Sequence, prompt: Sequence, output: Sequence, memory: int,
                    prediction: Sequence | None = None, name: str = "") -> "Instance":
        """Build an instance from equal-length sequences of fields.

        Examples
        --------
        >>> Instance.from_arrays([0, 1], [1, 1], [2, 2], memory=4, prediction=[3, 2]).prediction.tolist()
        [3, 2]
        >>> Instance.from_arrays([0, 1], [1], [2, 2], memory=4)
        Traceback (most recent call last):
        ...
        ValueError: arrival, prompt and output must have equal lengths, got 2, 1, 2
        """
        cols = [list(arrival), list(prompt), list(output)]
        if prediction is not None:
            cols.append(list(prediction))
        lengths = [len(c) for c in cols]
        if len(set(lengths)) != 1:
            names = "arrival, prompt, output" + (", prediction" if prediction is not None else "")
            names = names.rsplit(", ", 1)
            raise ValueError(f"{names[0]} and {names[1]} must have equal lengths, got "
                             + ", ".join(map(str, lengths)))
        preds = cols[3] if prediction is not None else [None] * lengths[0]
        reqs = []
        for i, (a, s, o, p) in enumerate(zip(cols[0], cols[1], cols[2], preds)):
            a, s, o, p = check_request_fields(i, a, s, o, p)
            reqs.append(Request(a, s, o, p))
        return cls(tuple(reqs), memory, name=name)

    def with_predictions(self, prediction: Iterable | None) -> "Instance":
        """Return a copy whose requests carry the given predictions (``None`` = exact).

        Examples
        --------
        >>> inst = Instance.from_arrays([0], [1], [2], memory=4)
        >>> inst.with_predictions([3]).prediction.tolist()
        [3]
        """
        if prediction is None:
            return Instance.from_arrays(self.arrival, self.prompt, self.output, self.memory,
                                        name=self.name)
        return Instance.from_arrays(self.arrival, self.prompt, self.output, self.memory,
                                    prediction=list(prediction), name=self.name)

    # ----------------------------------------------------------------- array views
    @property
    def n(self) -> int:
        """Number of requests."""
        return len(self.requests)

    def _column(self, attr: str) -> np.ndarray:
        arr = np.fromiter((getattr(r, attr) for r in self.requests), dtype=np.int64,
                          count=len(self.requests))
        arr.flags.writeable = False
        return arr

    @cached_property
    def arrival(self) -> np.ndarray:
        """Arrival rounds as a read-only ``int64`` array."""
        return self._column("arrival")

    @cached_property
    def prompt(self) -> np.ndarray:
        """Prompt sizes as a read-only ``int64`` array."""
        return self._column("prompt")

    @cached_property
    def output(self) -> np.ndarray:
        """True output lengths as a read-only ``int64`` array."""
        return self._column("output")

    @cached_property
    def prediction(self) -> np.ndarray:
        """Predicted output lengths (equal to ``output`` when no predictions were given)."""
        return self._column("predicted")

    @cached_property
    def volume(self) -> np.ndarray:
        """Memory-time area ``s*o + o(o+1)/2`` of each request (:attr:`Request.volume`)."""
        return self._column("volume")

    @property
    def has_predictions(self) -> bool:
        """Whether the requests carry explicit predictions."""
        return bool(self.requests) and self.requests[0].prediction is not None

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<Instance{label}: n={self.n}, M={self.memory}>"
