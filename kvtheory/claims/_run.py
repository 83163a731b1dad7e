"""Running the checks: :func:`verify`, its on-disk cache, and the tables the book renders.

The book's registry page, each chapter's verdict box and ``python -m kvtheory verify`` all call
:func:`verify`, so they cannot disagree.  The book reads verdicts from a cache keyed by the
package's source code, the Python version and the result libraries' versions (:func:`kvtheory.model.cache.code_key`): any change to the code re-runs the checks.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from kvtheory.claims._core import Verdict
from kvtheory.model.cache import cache_dir, code_key, machine

__all__ = ["CheckFailed", "verify", "code_key", "cache_dir", "verdict_rows", "verdict_frame",
           "status_box", "html_table"]

class CheckFailed(RuntimeError):
    """A claim's check raised: the claim has no verdict (``verify`` exits 1 on the CLI)."""

    def __init__(self, claim_id: str, error: BaseException):
        super().__init__(f"{claim_id}: the check raised {type(error).__name__}: {error}")
        self.claim_id = claim_id
        self.error = error
        self.partial: list = []          # verdicts of the claims that did run
        self.failed: list = [claim_id]   # every claim whose check raised

    def __reduce__(self):                # picklable across worker processes
        return (CheckFailed, (self.claim_id, RuntimeError(str(self.error))))


def _cache_file(claim_id: str, quick: bool, key: str) -> Path:
    return cache_dir() / key / f"{claim_id}.{'quick' if quick else 'full'}.json"


def _load(path: Path) -> list[Verdict] | None:
    try:
        rows = json.loads(path.read_text())
        return [Verdict(**row) for row in rows]
    except (OSError, ValueError, TypeError):
        return None


def _store(path: Path, verdicts: Sequence[Verdict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{**v.row(), "claim": v.claim, "figures": v.row()["figures"]} for v in verdicts]
    for r in rows:
        r.pop("id")
        r["decide"] = r["decide"] or ""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(rows))
    tmp.replace(path)


def _check_one(claim_id: str, quick: bool) -> list[Verdict]:
    """Run one claim's check and time it (in this process or a worker)."""
    from kvtheory.claims.registry import claim
    c = claim(claim_id)
    t0 = time.perf_counter()
    try:
        got = list(c.check(quick))
    except Exception as err:       # reported per claim
        raise CheckFailed(c.id, err) from err
    seconds = time.perf_counter() - t0
    names = [v.reading for v in got]
    if names != [r.name for r in c.readings]:
        raise CheckFailed(c.id, RuntimeError(
            f"verdicts for readings {names}, expected {[r.name for r in c.readings]}"))
    for v, r in zip(got, c.readings):
        if v.status not in r.statuses:
            raise CheckFailed(c.id, RuntimeError(
                f"reading {r.name!r} returned {v.status!r}, which it does not declare "
                f"(it declares {r.statuses})"))
    out = [_with_seconds(v, seconds, quick) for v in got]
    if c.machine_dependent:          # timings or time-limited solvers: say where
        from dataclasses import replace
        where = f"measured on {machine()}"
        out = [replace(v, searched=f"{v.searched}; {where}" if v.searched else where)
               for v in out]
    return out


def _check_group(ids: Sequence[str], quick: bool) -> list[tuple[str, object]]:
    """Check several claims in one worker; a failing check is returned, not raised."""
    out: list[tuple[str, object]] = []
    for cid in ids:
        try:
            out.append((cid, _check_one(cid, quick)))
        except CheckFailed as err:
            out.append((cid, err))
    return out


def verify(ids: Iterable[str] | None = None, *, quick: bool = False, cache: bool = False,
           progress: bool = False, workers: int = 1, dask=None) -> list[Verdict]:
    """Run the checks of the given claims (default: all) and return one verdict per reading.

    Examples
    --------
    >>> [v.status for v in verify(["clm_kv_capacity"], quick=True)]
    ['proved', 'fails']
    >>> verify(["clm_nope"])
    Traceback (most recent call last):
    ...
    KeyError: "no claim 'clm_nope'; known: clm_ip_exact, ..."

    Parameters
    ----------
    ids : iterable of str, optional
        Claim IDs; unknown IDs raise ``KeyError`` before anything runs.
    quick : bool
        Smaller samples (the whole registry in under 3 minutes on 2 cores); each verdict's
        ``full_status`` says whether the quick run decides as the full run does.
    cache : bool
        Read and write verdicts in :func:`cache_dir`, keyed by :func:`code_key`.
    progress : bool
        A tqdm progress bar over the claims.
    workers : int
        Claims checked in parallel by this many processes (1: in this process).
    dask : str or distributed.Client, optional
        Check the claims on this dask scheduler instead (bound to the loopback address or
        secured with TLS: a scheduler runs what it is sent).

    Notes
    -----
    The checks run through the one executor, :func:`kvtheory.model.cells.run_cells`: one cell
    per claim in this process, one cell per chapter module (claims that share a cached run
    share a process) on local processes or dask.  Verdicts are cached per claim here (``cache``),
    not per cell: a failed check must run again.

    Raises
    ------
    CheckFailed
        A check raised (its claim has no verdict); the other claims still ran.
    """
    from kvtheory.claims.registry import claim
    chosen = [claim(i).id for i in (ids if ids is not None else [c.id for c in _all()])]
    key = code_key() if cache else ""
    found: dict[str, list[Verdict]] = {}
    if cache:
        for cid in chosen:
            got = _load(_cache_file(cid, quick, key))
            if got is not None:
                found[cid] = got
    todo = [cid for cid in chosen if cid not in found]
    failures: list[CheckFailed] = []
    parallel = dask is not None or (workers > 1 and len(todo) > 1)
    if parallel:         # one cell per chapter module, so claims sharing a cached run share a process
        groups: dict[str, list[str]] = {}
        for cid in todo:
            groups.setdefault(claim(cid).check.__module__, []).append(cid)
        cells = [{"ids": ids, "quick": quick} for ids in groups.values()]
    else:
        cells = [{"ids": [cid], "quick": quick} for cid in todo]

    def done(_, group):                 # stored as each cell arrives: an interrupted run resumes
        for cid, got in group:
            if isinstance(got, CheckFailed):
                failures.append(got)
            else:
                found[cid] = got
                if cache:
                    _store(_cache_file(cid, quick, key), got)

    from kvtheory.model.cells import run_cells
    run_cells(_check_group, cells, workers=workers, dask=dask, cache=False, progress=progress,
              desc="verify", on_result=done)
    if failures:
        first = failures[0]
        first.partial = [v for cid in chosen if cid in found for v in found[cid]]
        first.failed = [f.claim_id for f in failures]
        raise first
    return [v for cid in chosen for v in found[cid]]


def _with_seconds(v: Verdict, seconds: float, quick: bool) -> Verdict:
    from dataclasses import replace
    return replace(v, seconds=seconds, quick=quick)


def _all():
    from kvtheory.claims.registry import CLAIMS
    return CLAIMS


def verdict_rows(verdicts: Sequence[Verdict]) -> list[dict]:
    """Verdicts as JSON-ready dicts (the ``verify --format json`` array).

    Examples
    --------
    >>> v = Verdict("clm_x", "only", "supported", "fine", "10 random")
    >>> sorted(verdict_rows([v])[0])[:5]
    ['counterexample', 'decide', 'evidence', 'figures', 'full_status']
    """
    return [v.row() for v in verdicts]


def verdict_frame(verdicts: Sequence[Verdict], *, columns: Sequence[str] = (
        "id", "reading", "status", "evidence", "full run")):
    """Verdicts as a pandas DataFrame (the book's registry table).

    Examples
    --------
    >>> df = verdict_frame([Verdict("clm_x", "only", "supported", "fine", "10 random")])
    >>> df.shape, df["full run"][0]
    ((1, 5), 'this is the full run')
    """
    import pandas as pd
    rows = []
    for v, r in zip(verdicts, verdict_rows(verdicts)):
        r["full run"] = ("same status" if v.full_status else
                         "may differ (quick sample)") if v.quick else "this is the full run"
        rows.append({k: r[k] for k in columns})
    return pd.DataFrame(rows)


def html_table(df):
    """A DataFrame as an HTML table that wraps long text and scrolls sideways on narrow pages.

    Examples
    --------
    >>> import pandas as pd
    >>> html_table(pd.DataFrame({"a": [1]})).data.startswith('<div style="overflow-x: auto')
    True
    >>> "&lt;= 2" in html_table(pd.DataFrame({"a": ["<= 2"]})).data      # text is escaped
    True
    """
    from IPython.display import HTML
    css = [{"selector": "td, th", "props": "white-space: normal; text-align: left; "
                                           "vertical-align: top; min-width: 9em; max-width: 34em;"}]
    inner = df.style.format(escape="html").hide(axis="index").set_table_styles(css).to_html()
    return HTML(f'<div style="overflow-x: auto; max-width: 100%;">{inner}</div>')


_BOX = {"proved": "tip", "supported": "note", "fails": "error", "inconclusive": "warning"}


@dataclass(frozen=True)
class StatusBox:
    """A chapter's verdict box: renders as HTML in the book, as text in a terminal."""

    verdicts: tuple

    def _repr_html_(self) -> str:
        import html
        parts = []
        for v in self.verdicts:
            extra = ""
            if v.counterexample:
                extra += f"<br><em>Counterexample:</em> <code>{html.escape(v.counterexample)}</code>"
            if v.decide:
                extra += f"<br><em>What would decide it:</em> {html.escape(v.decide)}"
            parts.append(
                f'<div class="admonition {_BOX[v.status]} kvtheory-verdict">'
                f'<p class="admonition-title">{html.escape(v.claim)} · {html.escape(v.reading)}: '
                f'{v.status}</p><p>{html.escape(v.evidence)}{extra}<br><em>Searched:</em> '
                f'{html.escape(v.searched)}</p></div>')
        return "\n".join(parts)

    def __repr__(self) -> str:
        return "\n".join(f"{v.claim} [{v.reading}]: {v.status}: {v.evidence}"
                         for v in self.verdicts)


def status_box(claim_id: str, *, quick: bool = True) -> StatusBox:
    """The verdicts of one claim, for a chapter (cached; same source as ``verify``).

    Examples
    --------
    >>> box = status_box("clm_kv_capacity")
    >>> [v.status for v in box.verdicts]
    ['proved', 'fails']
    """
    return StatusBox(tuple(verify([claim_id], quick=quick, cache=True)))
