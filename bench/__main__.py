"""``python -m bench``: run the benchmarks (what ``make bench`` runs)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.peers import PEERS
from bench.runner import DEFAULT_BUDGET_MIN, FULL_BUDGET_MIN, RESULTS_ROOT, Options, run
from bench.scenarios import discover


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Start PostgreSQL, the broker and the services on free loopback ports, run every benchmark "
        "scenario, and write a Markdown + JSON + PNG report under bench/results/.",
    )
    p.add_argument("--list", action="store_true", help="list the registered scenarios and exit")
    p.add_argument("--only", action="append", default=[], metavar="NAME", help="run only this scenario (repeatable)")
    p.add_argument("--skip", action="append", default=[], metavar="NAME", help="skip this scenario (repeatable)")
    p.add_argument("--quick", action="store_true", help="shorter loads (a smoke run, figures are noisier)")
    p.add_argument(
        "--full",
        action="store_true",
        help="the largest data sizes too (10M consent records, 1M-row import): about 25 minutes",
    )
    p.add_argument(
        "--budget-min",
        type=float,
        default=None,
        help=f"stop starting scenarios after this many minutes (default {DEFAULT_BUDGET_MIN:g}, "
        f"{FULL_BUDGET_MIN:g} with --full)",
    )
    p.add_argument("--results-dir", type=Path, default=RESULTS_ROOT, help="where run folders are written")
    p.add_argument(
        "--target-url",
        action="append",
        default=[],
        metavar="[SERVICE=]URL",
        help="run the HTTP scenarios against another deployment on this machine instead of starting the services: "
        "a bare URL for every service, or consent=http://127.0.0.1:9001 per service (repeatable)",
    )
    p.add_argument(
        "--peer",
        action="append",
        default=[],
        choices=PEERS,
        help="also measure another product in this run with the same loads (installed into bench/.peers/ once)",
    )
    p.add_argument("--token", help="bearer token for --target-url (tenant and scopes the scenarios need)")
    p.add_argument("--tenant", default="bench", help="tenant of the token issued for the local stack")
    p.add_argument("--target-kafka", help="bootstrap servers of the target's broker, to measure end-to-end rates")
    p.add_argument("--target-topic-prefix", default="", help="topic prefix of the target deployment")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parser().parse_args(argv)
    if args.full and args.quick:
        print("bench: --full and --quick cannot be combined", file=sys.stderr)
        return 2
    if args.list:
        for s in discover():
            print(f"{s.order:>3}  {s.name:<24} {s.title}")
        return 0
    options = Options(
        only=args.only,
        skip=args.skip,
        quick=args.quick,
        full=args.full,
        budget_s=60 * (args.budget_min or (FULL_BUDGET_MIN if args.full else DEFAULT_BUDGET_MIN)),
        results_root=args.results_dir,
        target_urls=args.target_url,
        token=args.token,
        tenant=args.tenant,
        target_kafka=args.target_kafka,
        target_topic_prefix=args.target_topic_prefix,
        peers=args.peer,
    )
    try:
        return run(options)
    except ValueError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
