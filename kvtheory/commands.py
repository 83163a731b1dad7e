"""The subcommands of ``python -m kvtheory`` beyond ``simulate`` and ``opt``.

``claims`` and ``verify`` (the registry), ``tables CHAPTER`` (full-size tables of a chapter's
claims), and the studies that have their own options: ``replicate`` (the synthetic replication),
``a100`` (the real-data replication), ``paper-setup`` (the real-data study under the published
code's engine) and ``code-reading`` (the synthetic experiment under the published code's solver).
:func:`kvtheory.cli.main` dispatches here.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Sequence

import numpy as np

from kvtheory.model.tables import format_table

__all__ = ["DELEGATED", "TABLES", "add_claim_parsers", "run_claims", "run_delegated"]

#: Subcommands whose options a study parses itself: name -> (module, function, one-line help).
DELEGATED = {
    "replicate": ("kvtheory.studies.replication", "main",
                  "the paper's synthetic table (both arrival models) with brackets of the optimum"),
    "a100": ("kvtheory.studies.a100", "main",
             "real-data replication on Llama2-70B / 2 x A100: latency, energy, prediction errors"),
    "code-reading": ("kvtheory.studies.code_reading", "main",
                     "the synthetic experiment under the published code's time-limited solver"),
    "paper-setup": ("kvtheory.studies.paper_study", "main",
                    "the paper's real-data study under its own engine and ours, k = 1..10"),
    "sweep": ("kvtheory.studies.sweep", "main",
              "policies x memory x load scale x seeds x traces: serving figures per cell"),
    "capacity": ("kvtheory.studies.capacity", "main",
                 "per policy, the largest load scale at which an SLO holds (bisection)"),
    "scorecard": ("kvtheory.scorecard", "main",
                  "grade any policy(state) -> Decision: valid, never idles, ratio to the optimum"),
    "tables": ("kvtheory.commands", "tables",
               "full-size tables of a chapter's claims: lower-bounds, semionline or regret"),
}


def run_delegated(name: str, argv: Sequence[str]) -> int:
    """Run the delegated subcommand ``name`` with its own arguments; returns the exit status.

    Examples
    --------
    >>> run_delegated("tables", ["lower-bounds", "--det", "3", "--game"])   # doctest: +ELLIPSIS
    deterministic: ...
    0
    """
    module, func, _ = DELEGATED[name]
    out = getattr(importlib.import_module(module), func)(list(argv))
    return out if isinstance(out, int) else 0


def _tables_lower_bounds(argv: Sequence[str]) -> int:
    """Full-size tables of the lower-bound claims.

    Examples
    --------
    >>> _tables_lower_bounds(["--det", "3", "--game", "3"])     # doctest: +ELLIPSIS
    deterministic: ...
    0
    """
    from kvtheory.claims.lower_bounds import check_lb_deterministic, check_lb_randomized

    ap = argparse.ArgumentParser(prog="kvtheory tables lower-bounds",
                                 description="the adaptive adversary and the randomized game, "
                                             "as tables")
    ap.add_argument("--det", type=int, nargs="*", default=[4, 8, 16, 32, 64, 96, 128, 192, 256])
    ap.add_argument("--game", type=int, nargs="*", default=[4, 8, 16, 32, 64, 96, 128])
    args = ap.parse_args(argv)
    if args.det:
        rep = check_lb_deterministic(args.det)
        print("deterministic:", rep.summary)
        print(format_table(rep.details["per_n"]))
    if args.game:
        rep = check_lb_randomized(args.game, validate=())
        print("randomized:", rep.summary)
        print(format_table(rep.details["per_n"]))
    return 0


def _tables_semionline(argv: Sequence[str]) -> int:
    """Full-size tables of the semi-online readings (exhaustive families)."""
    from kvtheory.claims.semionline import (READINGS, check_identical_exact,
                                            check_semionline_optimal)
    ap = argparse.ArgumentParser(prog="kvtheory tables semionline",
                                 description="exhaustive families for the semi-online readings")
    ap.add_argument("--max-n", type=int, nargs=3, default=[5, 4, 4],
                    help="largest n of the families, one per reading")
    ap.add_argument("--max-output", type=int, default=4)
    ap.add_argument("--max-memory", type=int, default=14)
    ap.add_argument("--random-trials", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    sizes = {x: (n, args.max_output, args.max_memory) for x, n in zip(READINGS, args.max_n)}
    rep = check_semionline_optimal(np.random.default_rng(args.seed), sizes=sizes,
                                   random_trials=args.random_trials)
    print(rep.summary)
    print(format_table([row for x in READINGS for row in rep.details["readings"][x].rows()]))
    print("random instances:")
    print(format_table([row for x in READINGS for row in rep.details["random"][x].rows()]))
    print("smallest best-of counterexample:", rep.worst)
    rep2 = check_identical_exact(np.random.default_rng(args.seed), trials=150)
    print(rep2.summary)
    return 0


def _tables_regret(argv: Sequence[str]) -> int:
    """Full-size tables of regret against the horizon T."""
    from kvtheory.claims.regret import check_constant_regret
    ap = argparse.ArgumentParser(prog="kvtheory tables regret",
                                 description="regret against the horizon T, many seeds")
    ap.add_argument("--loads", type=float, nargs="+", default=[0.5, 0.9, 0.97])
    ap.add_argument("--horizons", type=int, nargs="+", default=[30, 100, 300, 1000, 3000])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--small-horizons", type=int, nargs="+", default=[10, 20, 40, 80, 160])
    ap.add_argument("--small-seeds", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rep = check_constant_regret(np.random.default_rng(args.seed), loads=args.loads,
                                horizons=args.horizons, seeds=args.seeds,
                                small_horizons=args.small_horizons, small_seeds=args.small_seeds)
    print(format_table(rep.details["fluid_rows"]))
    print(format_table(rep.details["hindsight_rows"]))
    print(rep.summary)
    return 0


#: ``tables CHAPTER``: the chapters with full-size tables.
TABLES = {"lower-bounds": _tables_lower_bounds, "semionline": _tables_semionline,
          "regret": _tables_regret}


def tables(argv: Sequence[str]) -> int:
    """``kvtheory tables CHAPTER [options]``: full-size tables of one chapter's claims."""
    ap = argparse.ArgumentParser(prog="kvtheory tables", description=DELEGATED["tables"][2])
    ap.add_argument("chapter", choices=sorted(TABLES))
    args, rest = ap.parse_known_args(argv)
    return TABLES[args.chapter](rest)


def add_claim_parsers(sub) -> None:
    """Add ``claims`` and ``verify`` to an argparse subparsers object."""
    p = sub.add_parser("claims", help="list the claim definitions (no check runs)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p = sub.add_parser("verify", help="run the claims' checks and print one verdict per reading")
    p.add_argument("ids", nargs="*", metavar="ID", help="claim IDs (default: all)")
    p.add_argument("--quick", action="store_true",
                   help="smaller samples: the whole registry in under 3 minutes")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--cached", action="store_true",
                   help="reuse verdicts cached for this exact code (as the book does)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--workers", type=int, default=2,
                   help="claims checked in parallel by local processes (default 2)")
    p.add_argument("--dask", metavar="ADDRESS", default=None,
                   help="check the claims on an existing dask.distributed scheduler (bind it to "
                        "127.0.0.1 or secure it with TLS: it runs what it is sent)")


def _claims(args) -> int:
    from kvtheory.claims.registry import CLAIMS
    if args.format == "json":
        print(json.dumps([c.row() for c in CLAIMS], indent=1))
        return 0
    from kvtheory.model.tables import format_table
    print(format_table([{"id": c.id, "versions": c.versions, "provenance": c.provenance,
                         "readings": len(c.readings), "chapter": c.chapter.removeprefix("book/")}
                        for c in CLAIMS]))
    return 0


def _verify(args) -> int:
    from kvtheory.claims.registry import CLAIMS, claim
    from kvtheory.claims._run import CheckFailed, verify
    ids = args.ids or [c.id for c in CLAIMS]
    for i in ids:
        try:
            claim(i)
        except KeyError:
            print(f"error: unknown claim {i!r}; see 'python -m kvtheory claims'", file=sys.stderr)
            return 2
    try:
        verdicts = verify(ids, quick=args.quick, cache=args.cached,
                          progress=not args.no_progress, workers=args.workers,
                          dask=args.dask)
        failed = []
    except CheckFailed as err:
        verdicts, failed = err.partial, [f"check of {c} raised" for c in err.failed]
        failed[0] = str(err)
    except ValueError as err:                   # e.g. an unreachable dask scheduler
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps([v.row() for v in verdicts], indent=1))
    else:
        from kvtheory.model.tables import format_table
        print(format_table([{"id": v.claim, "reading": v.reading, "status": v.status,
                             "seconds": v.seconds,
                             "note": "" if v.full_status else "quick: full run may differ"}
                            for v in verdicts]))
        for v in verdicts:
            print(f"\n{v.claim} [{v.reading}] {v.status}: {v.evidence}")
            if v.counterexample:
                print(f"  counterexample: {v.counterexample}")
            if v.decide:
                print(f"  would decide it: {v.decide}")
    for msg in failed:
        print(f"error: {msg}", file=sys.stderr)
    return 1 if failed else 0


def run_claims(args) -> int:
    """Dispatch ``claims`` / ``verify``; returns the exit code."""
    return _claims(args) if args.command == "claims" else _verify(args)
