"""Benchmark (not a test): the register ledger 登记台账 of one year on a large deployment's database.

Runs `python -m bot report ledger YEAR --out FILE.xlsx` (and, with --filtered, the same with a kind and a
state) against a database made by benchmarks/generate_db.py, each in its own process, and prints the
wall time, the peak resident memory of that process (ru_maxrss of the child) and the rows written.
Targets at 1 000 000 matters (issue 16): under 30 s and under 500 MB for a year.

    python benchmarks/ledger.py [--db /tmp/liaison-scale/scale.db] [--year 2026] [--runs 3] [--filtered]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.generate_db import DEFAULT_DB, NOW  # noqa: E402

TARGET_SECONDS, TARGET_MIB = 30.0, 500


def run(db: Path, year: str, extra: list[str]) -> tuple[float, float, int]:
    """(seconds, peak MiB of the child, matters) of one `report ledger` in a fresh process."""
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config.toml"
        config.write_text(f"[storage]\ndatabase = {json.dumps(str(db))}\n"
                          f"files_dir = {json.dumps(str(Path(folder) / 'files'))}\n", encoding="utf-8")
        out = Path(folder) / "ledger.xlsx"
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", "import sys; from benchmarks.ledger import child; sys.exit(child())", str(config),
             year, str(out), *extra], cwd=REPO, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(f"ledger failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        return seconds, peak / 1024, int(result["matters"])  # the largest child so far: this one, or an earlier


def child() -> int:
    """In the child: the command line, on the generator's clock (its `now`)."""
    from bot.__main__ import main
    from benchmarks.generate_db import FixedClock

    config, year, out, *extra = sys.argv[1:]
    return main(["--config", config, "--json", "report", "ledger", year, "--out", out, *extra], FixedClock(NOW))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--year", default=str(NOW.year))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--filtered", action="store_true", help="also a filtered ledger (建议, 未办结)")
    args = parser.parse_args()
    cases = [("the year", [])] + ([("建议, 未办结", ["--kind", "建议", "--state", "未办结"])] if args.filtered else [])
    for label, extra in cases:
        times, peaks, count = [], [], 0
        for _ in range(args.runs):
            seconds, peak, count = run(args.db, args.year, extra)
            times.append(seconds)
            peaks.append(peak)
        print(f"ledger {args.year} ({label}): {count} matters, median {statistics.median(times):.1f} s "
              f"(min {min(times):.1f}, max {max(times):.1f}), peak {max(peaks):.0f} MiB "
              f"(targets {TARGET_SECONDS:.0f} s, {TARGET_MIB} MiB)")


if __name__ == "__main__":
    main()
