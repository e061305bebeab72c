"""Drill 6 (not a test): the bad-input fuzz, long version.

Random sequences of text, commands, button presses (real, mutated, another user's, random data), files
and contacts from people in every role — stranger, deputy, CPPCC member, supervisor, office, handlers,
department head, leader, discipline inspection — against the real core on a copy of one prepared SQLite
database, checked after every step: no unhandled error, every update answered, a refusal changes no
business table. What a step is and what is checked: tests/fuzzing.py. CI runs a short fixed-seed version
(tests/test_fuzz.py).

    python benchmarks/fuzz.py [--examples 2000] [--seed N] [--min-steps 10] [--max-steps 40] [--quick]

Prints the steps run, inputs by kind, refusals by kind, and on failure the shrunk reproduction (a list
of steps that `tests.fuzzing.run_steps` replays exactly), then exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from hypothesis import HealthCheck, Phase, given, settings, seed as hseed  # noqa: E402

from tests import fuzzing  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=2000, help="sequences to try (default 2000)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a fresh one, printed)")
    parser.add_argument("--max-steps", type=int, default=40, help="at most this many steps per sequence (default 40)")
    parser.add_argument("--min-steps", type=int, default=10, help="at least this many (default 10)")
    parser.add_argument("--quick", action="store_true", help="100 sequences: a smoke run")
    opts = parser.parse_args()
    examples = 100 if opts.quick else opts.examples
    chosen = opts.seed if opts.seed is not None else random.SystemRandom().randrange(2 ** 32)
    command = f"python benchmarks/fuzz.py --examples {examples} --seed {chosen} --min-steps {opts.min_steps} --max-steps {opts.max_steps}"

    started = time.monotonic()
    world = fuzzing.world()
    built = time.monotonic() - started
    stats = fuzzing.Stats()
    failing: list[list[tuple[Any, ...]]] = []
    errors: list[str] = []

    @hseed(chosen)
    @settings(max_examples=examples, database=None, deadline=None, print_blob=False,
              phases=[Phase.generate, Phase.shrink],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(fuzzing.sequences(min_size=min(opts.min_steps, opts.max_steps), max_size=opts.max_steps))
    def probe(items: list[tuple[Any, ...]]) -> None:
        try:
            asyncio.run(fuzzing.run_steps(world, items, stats))
        except BaseException as failure:
            failing.append(items)
            errors.append(f"{type(failure).__name__}: {failure}")
            raise

    started = time.monotonic()
    ok = True
    try:
        probe()
    except BaseException:  # noqa: BLE001 - the shrunk failure is reported below
        ok = False
    elapsed = time.monotonic() - started

    print(f"command: {command}")
    print(f"world built in {built:.1f} s; fuzzed for {elapsed:.1f} s")
    print(f"examples run: {stats.examples} (asked for {examples}; shrinking replays count too)")
    print(f"steps run: {stats.steps} ({stats.steps / max(elapsed, 1e-9):.0f} steps/s)")
    print("inputs by kind:")
    for kind, n in sorted(stats.kinds.items()):
        print(f"  {kind:<22} {n}")
    print(f"refusals: {sum(stats.refusals.values())}, by kind:")
    for msgid, n in stats.refusals.most_common():
        print(f"  {n:>6}  {msgid}")
    print(f"dialogue steps reached: {len(stats.dialog_steps)}")
    for name, n in sorted(stats.dialog_steps.items()):
        print(f"  {name:<34} {n}")
    if ok:
        print("result: no failure")
        return 0
    print("result: FAILED")
    print(f"  {errors[-1]}")
    print("  shrunk reproduction (tests.fuzzing.run_steps(tests.fuzzing.world(), STEPS)):")
    print(f"  STEPS = {failing[-1]!r}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
