"""``python -m kvtheory scorecard POLICY``: the scorecard on the command line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Sequence

__all__ = ["main"]


def main(argv: Sequence[str]) -> int:
    """Print the scorecard of a policy; one-line ``ValueError`` on a policy that cannot load.

    Examples
    --------
    >>> main(["kvtheory:no_such_policy"])
    Traceback (most recent call last):
    ...
    ValueError: cannot load policy 'kvtheory:no_such_policy': module kvtheory has no attribute 'no_such_policy'
    """
    from kvtheory.scorecard._card import scorecard
    from kvtheory.scorecard._guard import Limits
    from kvtheory.scorecard._load import load_policy
    from kvtheory.theory.ratio import RATIO_BOUND
    p = argparse.ArgumentParser(
        prog="python -m kvtheory scorecard",
        description="Grade a policy(state) -> Decision: valid schedules, never idles, ratio to "
                    "the optimum, the lower-bound families, the paper's synthetic study, real "
                    "traces, noisy predictions, decision time; a hostile policy gets a report, "
                    "not a crash.")
    p.add_argument("policy", metavar="POLICY",
                   help="FILE.py:FUNC, package.module:FUNC or a registered name (mc-sf)")
    p.add_argument("--quick", action="store_true",
                   help="the quick budget (under 3 minutes for a policy as fast as MC-SF)")
    p.add_argument("--format", choices=["table", "json", "md"], default="table")
    p.add_argument("--out", metavar="DIR", default=None,
                   help="also write DIR/scorecard.md and DIR/scorecard.json")
    p.add_argument("--workers", type=int, default=1, help="local processes (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the ratio search (default 0)")
    p.add_argument("--seconds", type=float, default=None,
                   help="wall time allowed per decision (default 1 s quick, 5 s full)")
    p.add_argument("--ratio-bound", type=float, default=RATIO_BOUND,
                   help=f"the ratio bound the policy is held to (default {RATIO_BOUND}, the "
                        f"paper's constant for MC-SF)")
    args = p.parse_args(list(argv))
    load_policy(args.policy)                            # a bad spec: one line, exit 2
    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    if args.seconds is not None and not args.seconds > 0:
        raise ValueError(f"--seconds must be > 0, got {args.seconds}")
    limits = Limits(seconds=args.seconds) if args.seconds else None
    card = scorecard(args.policy, quick=args.quick, seed=args.seed, limits=limits,
                     ratio_bound=args.ratio_bound, workers=args.workers)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "scorecard.md").write_text(card.to_markdown())
        (out / "scorecard.json").write_text(card.dumps() + "\n")
    if args.format == "json":
        print(json.dumps(card.to_json(), indent=1))
    elif args.format == "md":
        print(card.to_markdown(), end="")
    else:
        from kvtheory.model.tables import format_table
        print(f"scorecard of {card.policy} ({'quick' if card.quick else 'full'}, "
              f"{card.seconds:.1f} s)")
        print(format_table([{"item": v.claim, "status": v.status,
                             "power": f"{v.power['found']}/{v.power['of']}" if v.power else "-"}
                            for v in card.items]))
        for v in card.items:
            print(f"\n{v.claim} {v.status}: {v.evidence}")
            if v.counterexample:
                print(f"  counterexample: {v.counterexample}")
            if v.decide:
                print(f"  would decide it: {v.decide}")
    return 0
