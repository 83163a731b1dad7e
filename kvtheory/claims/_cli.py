"""The ``claims`` and ``verify`` subcommands of ``python -m kvtheory``."""

from __future__ import annotations

import json
import sys

__all__ = ["add_parsers", "run"]


def add_parsers(sub) -> None:
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
                   help="claims checked in parallel (default 2)")


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
                          progress=not args.no_progress, workers=args.workers)
        failed = []
    except CheckFailed as err:
        verdicts, failed = err.partial, [f"check of {c} raised" for c in err.failed]
        failed[0] = str(err)
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


def run(args) -> int:
    """Dispatch ``claims`` / ``verify``; returns the exit code."""
    return _claims(args) if args.command == "claims" else _verify(args)
