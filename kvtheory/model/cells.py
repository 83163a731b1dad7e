"""One executor for every long computation: a function over a grid of cells, each cell cached.

``run_cells(fn, cells, workers=N)`` computes ``fn(**cell)`` for every cell (a mapping of keyword
arguments) on ``N`` local processes, or with ``dask=ADDRESS`` on an existing
``dask.distributed`` scheduler, and returns the results in the cells' order.  Each result is
stored on disk as it arrives, under a key of the function, the cell's arguments and the code
(:func:`kvtheory.model.cache.code_key`, the key :func:`~kvtheory.model.cache.cached` uses), so:

* a run that stops (interrupted, or a machine that went away) resumes where it stopped: the
  cells already stored are loaded, only the others run;
* a cell whose process died is run again: locally a dead worker breaks the process pool, which
  is replaced and given the unfinished cells (at most ``retries`` times); on dask the scheduler
  moves a dead worker's cells to the others;
* an existing :class:`concurrent.futures.Executor` (``executor=``: a thread or process pool,
  or a dask client's ``get_executor()``) may run the cells instead; it is the caller's, so it
  is neither replaced nor shut down;
* every cell's result is there exactly once, the same as a sequential run's (each cell's
  randomness must come from its own arguments, e.g. a seed).

A progress bar (tqdm, on stderr) counts the cells.  The results are on the machine that calls
``run_cells``: dask workers only compute and return them.

A dask scheduler runs whatever code it is sent.  Bind one to the loopback address
(``dask scheduler --host 127.0.0.1``), or secure it with TLS (``distributed.security.Security``)
before it listens on a network.
"""

from __future__ import annotations

import concurrent.futures as cf
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from tqdm import tqdm

from kvtheory.model.cache import _result_path, code_key, load_result, store_result
from kvtheory.model.validation import as_int

__all__ = ["CellRun", "run_cells", "dask_client"]


@dataclass(frozen=True)
class CellRun:
    """The results of :func:`run_cells`, in the cells' order, and how they were obtained.

    Attributes
    ----------
    values : list
        ``fn(**cell)`` for every cell, in order.
    computed : int
        Cells computed by this run.
    loaded : int
        Cells whose stored result was loaded (a previous run computed them).
    restarts : int
        Times a broken local process pool was replaced.
    """

    values: list
    computed: int
    loaded: int
    restarts: int = 0


def _call(fn: Callable, cell: Mapping) -> Any:
    return fn(**cell)


def dask_client(address: str):
    """A ``distributed.Client`` connected to the scheduler at ``address``; one-line errors.

    Examples
    --------
    >>> dask_client("tcp://127.0.0.1:1")
    Traceback (most recent call last):
    ...
    ValueError: cannot reach the dask scheduler at tcp://127.0.0.1:1 (within 2 s)
    """
    try:
        from distributed import Client
    except ImportError:
        raise ValueError("--dask needs the 'distributed' package (pip install distributed)") from None
    try:
        return Client(address, timeout="2s")
    except (OSError, TimeoutError):
        raise ValueError(f"cannot reach the dask scheduler at {address} (within 2 s)") from None


def run_cells(fn: Callable[..., Any], cells: Sequence[Mapping[str, Any]], *,
              workers: int | None = 1, dask=None, executor: cf.Executor | None = None,
              cache: bool = True, progress: bool | None = None, retries: int = 2,
              desc: str | None = None,
              on_result: Callable[[int, Any], None] | None = None) -> CellRun:
    """``fn(**cell)`` for every cell, on local processes or a dask cluster, each result cached.

    Parameters
    ----------
    fn : callable
        A module-level function (it travels to other processes by name).
    cells : sequence of mappings
        Keyword arguments of one call each; picklable.
    workers : int or None
        Local processes (``1``: in this process, in order; ``None``: one per CPU).  Ignored
        with ``dask``.
    dask : str or distributed.Client, optional
        A scheduler address (``tcp://127.0.0.1:8786``) or a client: run the cells there.
    executor : concurrent.futures.Executor, optional
        Run the cells on this executor (the caller's: not shut down, not replaced when it
        breaks).  Ignored with ``dask``; overrides ``workers``.
    cache : bool
        Load stored results and store new ones (under ``$KVTHEORY_CACHE``, keyed by the
        function, the cell and the code).  ``False`` computes every cell and stores nothing.
    progress : bool or None
        Show a progress bar (default: when stderr is a terminal).
    retries : int
        Local mode: how many times a pool broken by a dying process is replaced.
    desc : str, optional
        The progress bar's label (default: the function's name).
    on_result : callable, optional
        ``on_result(index, value)`` in this process as each computed cell's result arrives
        (e.g. to store it in the caller's own form before the others finish).

    Returns
    -------
    CellRun

    Examples
    --------
    >>> import os, tempfile
    >>> os.environ["KVTHEORY_CACHE"] = tempfile.mkdtemp()
    >>> run = run_cells(round, [{"number": 2.718, "ndigits": 1}, {"number": 3.142, "ndigits": 2}])
    >>> run.values, run.computed, run.loaded
    ([2.7, 3.14], 2, 0)
    >>> again = run_cells(round, [{"number": 3.142, "ndigits": 2}, {"number": 1.5, "ndigits": 0}])
    >>> again.values, again.computed, again.loaded
    ([3.14, 2.0], 1, 1)
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(2) as pool:
    ...     run_cells(round, [{"number": 0.25, "ndigits": 1}], executor=pool, cache=False).values
    [0.2]
    >>> del os.environ["KVTHEORY_CACHE"]
    """
    cells = [dict(c) for c in cells]
    retries = as_int(retries, name="retries", minimum=0)
    key = code_key() if cache else None
    paths = [_result_path(key, fn, (), c) if cache else None for c in cells]
    values: list = [None] * len(cells)
    todo = []
    for k, path in enumerate(paths):
        hit, value = load_result(path) if cache else (False, None)
        if hit:
            values[k] = value
        else:
            todo.append(k)
    bar = tqdm(total=len(cells), initial=len(cells) - len(todo), desc=desc or fn.__name__,
               disable=(None if progress is None else not progress), unit="cell")

    def done(k, value):
        values[k] = value
        if cache:
            store_result(paths[k], value)
        if on_result is not None:
            on_result(k, value)
        bar.update(1)

    restarts = 0
    try:
        if dask is not None:
            _run_dask(fn, cells, todo, dask, done)
        elif executor is not None:
            _run_local(fn, cells, todo, workers, 0, done, executor=executor)
        elif workers == 1 or len(todo) <= 1:
            for k in todo:
                done(k, fn(**cells[k]))
        else:
            restarts = _run_local(fn, cells, todo, workers, retries, done)
    finally:
        bar.close()
    return CellRun(values, len(todo), len(cells) - len(todo), restarts)


def _run_local(fn, cells, todo, workers, retries, done, executor=None) -> int:
    """Run ``todo`` on a process pool, replacing it (at most ``retries`` times) when it breaks.

    With ``executor`` (the caller's) the cells run there instead; it is not shut down, and a
    broken one is not replaced.
    """
    left, restarts = dict.fromkeys(todo), 0        # an ordered set: O(1) removal
    while left:
        pool = executor or cf.ProcessPoolExecutor(max_workers=workers)
        futures = {pool.submit(_call, fn, cells[k]): k for k in left}
        broken = False
        try:
            for fut in cf.as_completed(futures):
                try:
                    value = fut.result()
                except BrokenProcessPool:
                    broken = True
                    continue
                k = futures[fut]
                done(k, value)
                del left[k]
        finally:
            if executor is None:
                pool.shutdown(wait=True, cancel_futures=True)
        if broken and left:
            first = cells[next(iter(left))]
            if restarts == retries or executor is not None:
                raise RuntimeError(f"{len(left)} cells left after a worker process died "
                                   f"{restarts + 1} times (first: {first})")
            restarts += 1
    return restarts


def _run_dask(fn, cells, todo, dask, done) -> None:
    """Run ``todo`` on a dask cluster; the scheduler reruns the cells of a worker that died."""
    from distributed import as_completed
    client = dask_client(dask) if isinstance(dask, str) else dask
    try:
        futures = client.map(_call, [fn] * len(todo), [cells[k] for k in todo], pure=False)
        index = {f.key: k for f, k in zip(futures, todo)}
        for fut in as_completed(futures):
            done(index[fut.key], fut.result())
    finally:
        if isinstance(dask, str):
            client.close()
