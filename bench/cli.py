"""`carte bench seed|run|catalogue-seed|catalogue-run|lifecycle-seed|lifecycle-run|
operations-seed|operations-run|capacity-seed|capacity-run`: load the bench data, or time
the pages and API against it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from time import perf_counter

from django.conf import settings

from bench.capacity import run_capacity, seed_capacity
from bench.catalogue import DEFAULT_SERVICES, run_catalogue, seed_catalogue
from bench.lifecycle import DEFAULT_EVENTS, run_lifecycle, seed_lifecycle
from bench.lifecycle import DEFAULT_SERVICES as LIFECYCLE_SERVICES
from bench.operations import DEFAULT_KPIS, DEFAULT_PERIODS, run_operations, seed_operations
from bench.operations import DEFAULT_SERVICES as OPERATIONS_SERVICES
from bench.run import BenchError, run
from bench.seed import BENCH_EMAIL, BENCH_PASSWORD, SCALES, seed


def _at_least_one(raw: str) -> int:
    """An argparse type: a whole number of 1 or more."""
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _zero_or_more(raw: str) -> int:
    """An argparse type: a whole number of 0 or more."""
    value = int(raw)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="carte bench", description="See bench/README.md.")
    commands = parser.add_subparsers(dest="command", required=True)
    seed_cmd = commands.add_parser("seed", help="replace the bench organisations with new ones")
    seed_cmd.add_argument("--scale", choices=list(SCALES), default="small")
    seed_cmd.add_argument("--force", action="store_true", help="allow in production mode")
    run_cmd = commands.add_parser("run", help="time the list pages and the API; print JSON")
    run_cmd.add_argument("--requests", type=_at_least_one, default=200, help="timed, each")
    run_cmd.add_argument("--warmup", type=_at_least_one, default=20, help="untimed, each")
    run_cmd.add_argument("--org", help="bench organisation to measure (default: the first)")
    run_cmd.add_argument("--out", type=Path, help="also write the JSON report here")
    cat_seed = commands.add_parser(
        "catalogue-seed", help="replace the catalogue bench organisation `bench-cat`"
    )
    cat_seed.add_argument("--services", type=_at_least_one, default=DEFAULT_SERVICES)
    cat_seed.add_argument("--force", action="store_true", help="allow in production mode")
    cat_run = commands.add_parser(
        "catalogue-run", help="time the catalogue pages, API, graph and .xlsx transfer; JSON"
    )
    cat_run.add_argument("--requests", type=_at_least_one, default=100, help="timed, each")
    cat_run.add_argument("--warmup", type=_at_least_one, default=5, help="untimed, each")
    cat_run.add_argument("--skip-import", action="store_true", help="export only")
    cat_run.add_argument("--skip-transfer", action="store_true", help="neither export nor import")
    cat_run.add_argument("--out", type=Path, help="also write the JSON report here")
    life_seed = commands.add_parser(
        "lifecycle-seed", help="replace the lifecycle bench organisation `bench-life`"
    )
    life_seed.add_argument("--services", type=_at_least_one, default=LIFECYCLE_SERVICES)
    life_seed.add_argument(
        "--events", type=_at_least_one, default=DEFAULT_EVENTS, help="timeline events each"
    )
    life_seed.add_argument("--force", action="store_true", help="allow in production mode")
    life_run = commands.add_parser(
        "lifecycle-run", help="time the lifecycle board, pages, API and transitions; JSON"
    )
    life_run.add_argument("--requests", type=_at_least_one, default=100, help="timed, each")
    life_run.add_argument("--warmup", type=_at_least_one, default=5, help="untimed, each")
    life_run.add_argument(
        "--moves", type=_at_least_one, default=200, help="timed defer / propose-again moves"
    )
    life_run.add_argument(
        "--approvals", type=_zero_or_more, default=50, help="timed set-up approvals (0: none)"
    )
    life_run.add_argument("--out", type=Path, help="also write the JSON report here")
    ops_seed = commands.add_parser(
        "operations-seed", help="replace the operations bench organisation `bench-ops`"
    )
    ops_seed.add_argument("--services", type=_at_least_one, default=OPERATIONS_SERVICES)
    ops_seed.add_argument("--kpis", type=_at_least_one, default=DEFAULT_KPIS, help="per service")
    ops_seed.add_argument(
        "--periods", type=_at_least_one, default=DEFAULT_PERIODS, help="months of history"
    )
    ops_seed.add_argument("--force", action="store_true", help="allow in production mode")
    ops_run = commands.add_parser(
        "operations-run", help="time the heat map, Operations tab, CSV import, bulk push; JSON"
    )
    ops_run.add_argument("--requests", type=_at_least_one, default=100, help="timed, each")
    ops_run.add_argument("--warmup", type=_at_least_one, default=5, help="untimed, each")
    ops_run.add_argument("--out", type=Path, help="also write the JSON report here")
    cap_seed = commands.add_parser(
        "capacity-seed", help="replace the capacity bench organisation `bench-cap`"
    )
    cap_seed.add_argument("--force", action="store_true", help="allow in production mode")
    cap_run = commands.add_parser(
        "capacity-run", help="time the capacity grid (page, API), a cell and the fit; JSON"
    )
    cap_run.add_argument("--requests", type=_at_least_one, default=100, help="timed, each")
    cap_run.add_argument("--warmup", type=_at_least_one, default=5, help="untimed, each")
    cap_run.add_argument("--out", type=Path, help="also write the JSON report here")
    return parser


def _refuse_in_production(args: argparse.Namespace) -> bool:
    if settings.PRODUCTION and not args.force:
        print("carte bench: refusing to seed in production mode (add --force).", file=sys.stderr)
        return True
    return False


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    """Run one bench command; errors print one line (exit 2 when the user can fix them)."""
    args = _parser().parse_args(argv)
    if args.command == "catalogue-seed":
        if _refuse_in_production(args):
            return 2
        start = perf_counter()
        seed_catalogue(args.services, progress=_progress)
        print(
            f"Seeded bench-cat: {args.services} services in {perf_counter() - start:.1f} s. "
            f"Login: {BENCH_EMAIL} / {BENCH_PASSWORD}"
        )
        return 0
    if args.command == "operations-seed":
        if _refuse_in_production(args):
            return 2
        seeded = seed_operations(args.services, args.kpis, args.periods, progress=_progress)
        print(
            f"Seeded bench-ops: {seeded.services} services, {seeded.kpis} KPIs, "
            f"{seeded.measurements} measurements in {seeded.seconds:.1f} s. "
            f"Login: {BENCH_EMAIL} / {BENCH_PASSWORD}"
        )
        return 0
    if args.command == "capacity-seed":
        if _refuse_in_production(args):
            return 2
        cap = seed_capacity(progress=_progress)
        print(
            f"Seeded bench-cap: {cap.people} people, {cap.services} services, {cap.needs} needs, "
            f"{cap.allocations} allocations in {cap.seconds:.1f} s. "
            f"Login: {BENCH_EMAIL} / {BENCH_PASSWORD}"
        )
        return 0
    if args.command == "lifecycle-seed":
        if _refuse_in_production(args):
            return 2
        start = perf_counter()
        seed_lifecycle(args.services, args.events, progress=_progress)
        print(
            f"Seeded bench-life: {args.services} services, {args.events} events each, in "
            f"{perf_counter() - start:.1f} s. Login: {BENCH_EMAIL} / {BENCH_PASSWORD}"
        )
        return 0
    if args.command == "seed":
        if settings.PRODUCTION and not args.force:
            print(
                "carte bench: refusing to seed in production mode (add --force).", file=sys.stderr
            )
            return 2
        start = perf_counter()
        orgs = seed(SCALES[args.scale])
        scale = SCALES[args.scale]
        print(
            f"Seeded {args.scale}: {len(orgs)} organisations, {len(orgs) * scale.pmos} PMOs, "
            f"{len(orgs) * scale.people} people in {perf_counter() - start:.1f} s. "
            f"Login: {BENCH_EMAIL} / {BENCH_PASSWORD}"
        )
        return 0
    try:
        if args.command == "capacity-run":
            report = run_capacity(requests=args.requests, warmup=args.warmup, progress=_progress)
        elif args.command == "operations-run":
            report = run_operations(requests=args.requests, warmup=args.warmup, progress=_progress)
        elif args.command == "lifecycle-run":
            report = run_lifecycle(
                requests=args.requests,
                warmup=args.warmup,
                moves=args.moves,
                approvals=args.approvals,
                progress=_progress,
            )
        elif args.command == "catalogue-run":
            report = run_catalogue(
                requests=args.requests,
                warmup=args.warmup,
                skip_import=args.skip_import,
                skip_transfer=args.skip_transfer,
                progress=_progress,
            )
        else:
            report = run(
                requests=args.requests,
                warmup=args.warmup,
                org_slug=args.org,
                progress=_progress,
            )
    except BenchError as exc:
        print(f"carte bench: {exc}", file=sys.stderr)
        return exc.exit_code
    document = json.dumps(report, indent=2)
    print(document)
    if args.out:
        args.out.write_text(document + "\n")
    return 0
