"""Drills (not tests): the kill drill and the Bot API faults drill of issue 6, full size.

The load, the kill loop and the counting are tests/drills.py, the same code as the short
versions that CI runs in tests/test_kill.py. Each run builds a fresh database in a temporary
folder, starts `python -m bot run` against the fake Bot API on 127.0.0.1 and prints the counts,
the faults injected by kind, the duration, and the command that reproduces it.

    python benchmarks/drills.py kill   [--rounds 20] [--users 40] [--seed 1 [2 ...]] [--quick] [--keep DIR]
    python benchmarks/drills.py faults [--rate 0.10] [--rounds 0] [--users 40] [--seed 1 ...] [--quick]
    python benchmarks/drills.py wecom-kill   [--rounds 10] [--users 20] [--seed 1 ...] [--quick]
    python benchmarks/drills.py wecom-faults [--rate 0.10] [--rounds 1] [--users 20] [--seed 1 ...] [--quick]

kill:   SIGKILL after a random (seeded) number of Bot API calls, restarted, --rounds times.
faults: --rate of all Bot API calls (getUpdates too) answered 429, 500, 502, timed out (with or
        without the message delivered) or dropped; then late updates with the faults still on and
        after them, to show that polling never stops.

Targets: updates lost 0, matters registered twice 0, notifications lost 0, messages sent twice
only after a send of unknown outcome (policy "retry"; button answers never), audit chain ok,
integrity_check ok. The exit status is 1 if any run misses a target.

wecom-kill, wecom-faults: the same load over WeCom (`python -m bot run --channel wecom`, the fake
WeCom of tests/fakewecom.py; tests/drills.py run_wecom_drill). WeCom gives up on a callback after
three posts, so what is owed is what the bot answered 200: none of it lost or handled twice; a
person sends again what WeCom gave up on while the bot was down. Faults: 5xx, -1 busy, dropped
connections (before or after the message is delivered), 40014/42001 token faults, 45033.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.drills import (  # noqa: E402
    DrillOptions,
    DrillResult,
    WeComDrillOptions,
    WeComDrillResult,
    run_drill,
    run_wecom_drill,
)
from tests.pg_cluster import Cluster  # noqa: E402


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("drill", choices=["kill", "faults", "wecom-kill", "wecom-faults"])
    parser.add_argument("--rounds", type=int, help="kills (default: kill 20, faults 0; --quick: kill 3)")
    parser.add_argument("--users", type=int, help="representatives (default 40; --quick 10)")
    parser.add_argument("--seed", type=int, nargs="+", default=[1], help="one run per seed")
    parser.add_argument("--rate", type=float, default=0.10, help="faults: fraction of calls answered with a fault")
    parser.add_argument("--clerks", type=int, help="office clerks assigning (default: one per 20 representatives)")
    parser.add_argument("--departments", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="a small load: well under a minute")
    parser.add_argument("--keep", type=Path, help="keep each run's database and bot log under this folder")
    parser.add_argument("--processes", type=int, default=1,
                        help="kill: bot processes on one PostgreSQL database (a throw-away cluster of the installed "
                             "server); each kill hits the one leading and another takes over (issue 17)")
    return parser.parse_args()


def options(args: argparse.Namespace, seed: int) -> DrillOptions:
    users = args.users or (10 if args.quick else 40)
    if args.rounds is not None:
        kills = args.rounds
    else:
        kills = 0 if args.drill == "faults" else 3 if args.quick else 20
    return DrillOptions(users=users, kills=kills, seed=seed, departments=args.departments,
                        clerks=args.clerks or max(1, users // 20),
                        fault_rate=args.rate if args.drill == "faults" else 0.0,
                        late_waves=1 if args.quick else 3, processes=args.processes)


def command(args: argparse.Namespace, opts: DrillOptions | WeComDrillOptions) -> str:
    parts = ["python", "benchmarks/drills.py", args.drill, "--users", str(opts.users), "--rounds", str(opts.kills),
             "--clerks", str(opts.clerks), "--departments", str(opts.departments), "--seed", str(opts.seed)]
    if args.drill in ("faults", "wecom-faults"):
        parts += ["--rate", str(opts.fault_rate)]
    if isinstance(opts, DrillOptions) and opts.processes > 1:
        parts += ["--processes", str(opts.processes)]
    return " ".join(parts)


R = TypeVar("R", DrillResult, WeComDrillResult)


async def one_run(args: argparse.Namespace, opts: Any, drill: Callable[[Any, Path], Awaitable[R]]) -> R:
    """One seed's drill in a folder of its own (kept under --keep), its figures printed with what it missed and
    the command that runs it again."""
    workdir = Path(tempfile.mkdtemp(prefix=f"drill-{args.drill}-{opts.seed}-"))
    try:
        result = await drill(opts, workdir)
    finally:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            shutil.copytree(workdir, args.keep / workdir.name)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"== {args.drill} drill, seed {opts.seed}")
    for line in result.lines():
        print("  " + line)
    for failure in result.failures():
        print("  MISSED: " + failure)
    print("  reproduce: " + command(args, opts))
    sys.stdout.flush()
    return result


def wecom_options(args: argparse.Namespace, seed: int) -> WeComDrillOptions:
    users = args.users or (6 if args.quick else 20)
    kills = args.rounds if args.rounds is not None else (1 if args.drill == "wecom-faults" else 3 if args.quick else 10)
    return WeComDrillOptions(users=users, kills=kills, seed=seed, departments=args.departments,
                             clerks=args.clerks or max(2, users // 10),
                             fault_rate=args.rate if args.drill == "wecom-faults" else 0.0)


async def main_wecom(args: argparse.Namespace) -> int:
    results: list[WeComDrillResult] = []
    for seed in args.seed:
        results.append(await one_run(args, wecom_options(args, seed), run_wecom_drill))
    print("machine: shared, 2 cores; figures other than counts (durations) are indicative only")
    return 1 if any(r.failures() for r in results) else 0


async def main() -> int:
    args = parse()
    if args.drill.startswith("wecom"):
        return await main_wecom(args)
    results: list[DrillResult] = []
    cluster = Cluster.start() if args.processes > 1 else None
    try:
        return await _runs(args, results, cluster)
    finally:
        if cluster is not None:
            cluster.stop()


async def _runs(args: argparse.Namespace, results: list[DrillResult], cluster: Cluster | None) -> int:
    for seed in args.seed:
        opts = options(args, seed)
        if cluster is not None:
            cluster.psql(f"CREATE DATABASE drill_{seed}")
            opts = replace(opts, database_url=cluster.url(f"drill_{seed}"))
        results.append(await one_run(args, opts, run_drill))
    if len(results) > 1:
        print(f"== {len(results)} runs: {sum(not r.failures() for r in results)} met every target; "
              f"kills {sum(r.kills for r in results)}, updates lost {sum(r.updates_lost for r in results)}, "
              f"matters twice {sum(r.matters_twice for r in results)}, notifications lost "
              f"{sum(r.notifications_lost for r in results)}, messages twice {sum(r.messages_twice for r in results)} "
              f"(not allowed {sum(r.messages_twice_not_allowed for r in results)}), callback answers missing "
              f"{sum(r.callbacks_unanswered_held + r.callbacks_unanswered_other for r in results)} "
              f"(held by policy {sum(r.callbacks_unanswered_held for r in results)})")
    print("machine: shared, 2 cores; figures other than counts (durations, gaps) are indicative only")
    return 1 if any(r.failures() for r in results) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
