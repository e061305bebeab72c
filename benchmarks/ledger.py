"""Benchmark (not a test): the register ledger 登记台账 of one year on a large deployment's database.

Runs `python -m bot report ledger YEAR --out FILE.xlsx` (and, with --filtered, the same with a kind and a
state) against a database made by benchmarks/generate_db.py, each in its own process, and prints the
wall time, the peak resident memory of that process (ru_maxrss of the child) and the rows written.
Targets at 1 000 000 matters (issue 16): under 30 s and under 500 MB for a year.

With --chat, the office's `/ledger YEAR` through the bot instead (the recording fake channel, as
benchmarks/scale.py does), while a probe commits a one-row transaction every 100 ms, as other chats would:
it prints the time from the update in to the answer out, the longest wait of the probe for the writer, and
how long the command's own transaction held it; --in-transaction draws it the old way, inside the
command's transaction, to compare.

    python benchmarks/ledger.py [--db /tmp/liaison-scale/scale.db] [--year 2026] [--runs 3] [--filtered]
    python benchmarks/ledger.py --chat [--in-transaction] [--db ...] [--year 2026]
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
                          f"files_dir = {json.dumps(str(Path(folder) / 'files'))}\n"
                          f"key_file = {json.dumps(str(db.parent / 'liaison.key'))}\n", encoding="utf-8")
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


def chat_child() -> int:
    """In the child: the office's /ledger through the bot, with the writer probed meanwhile."""
    import asyncio

    from benchmarks.scale import open_harness, peak_rss_mib, who

    db, year, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]

    async def measure() -> dict[str, object]:
        h = await open_harness(db, NOW)
        try:
            if mode == "in-transaction":
                h.app.processor.routes.prepared.clear()
            office_id = await who(h, "SELECT MIN(person_id) FROM person_roles WHERE role = 'office'")
            office = h.user(f"u{office_id}")
            processor = h.app.processor
            held: list[float] = []
            commit = processor._commit_group

            async def timed(group: list[object]) -> list[Exception | None]:
                started = time.perf_counter()
                try:
                    return await commit(group)  # type: ignore[arg-type]
                finally:
                    held.append(time.perf_counter() - started)

            processor._commit_group = timed  # type: ignore[method-assign]
            waits: list[float] = []
            gaps: list[float] = []  # between a probe's commit and its next start, beyond its 100 ms: the loop busy
            done = asyncio.Event()

            async def probe() -> None:
                while not done.is_set():
                    started = time.perf_counter()
                    async with h.db.transaction() as tx:
                        await tx.execute("UPDATE matters SET subject = subject WHERE id = 0")
                    waits.append(time.perf_counter() - started)
                    slept = time.perf_counter()
                    await asyncio.sleep(0.1)
                    gaps.append(time.perf_counter() - slept - 0.1)

            prober = asyncio.create_task(probe())
            started = time.perf_counter()
            got = await office.say(f"/ledger {year}")
            seconds = time.perf_counter() - started
            done.set()
            await prober
            files = [f for s in got for f in s.payload.get("files") or []]
            if not files:
                raise SystemExit(f"no ledger: {[s.text for s in got]}")
            return {"seconds": seconds, "probe_max_wait": max(waits), "probe_commits": len(waits),
                    "probe_waits_over_1s": sum(1 for w in waits if w > 1), "own_transaction": max(held),
                    "loop_max_stall": max(gaps, default=0.0),
                    "answer": [s.text for s in got if s.op == "message"][-1], "rss_mib": peak_rss_mib()}
        finally:
            await h.app.close()

    print(json.dumps(asyncio.run(measure()), ensure_ascii=False))
    return 0


def chat(db: Path, year: str, in_transaction: bool) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from benchmarks.ledger import chat_child; sys.exit(chat_child())", str(db),
         year, "in-transaction" if in_transaction else "read-first"],
        cwd=REPO, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    if proc.returncode != 0:
        raise SystemExit(f"/ledger failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"/ledger {year} through the bot ({'in its transaction' if in_transaction else 'read first'}): "
          f"{r['seconds']:.1f} s in to out, peak {r['rss_mib']:.0f} MiB; its own transaction held the writer "
          f"{r['own_transaction'] * 1000:.0f} ms; a probe committing every 100 ms waited at most "
          f"{r['probe_max_wait']:.2f} s for the writer ({r['probe_commits']} commits, {r['probe_waits_over_1s']} over "
          f"1 s), the event loop kept it at most {r['loop_max_stall']:.2f} s beyond its sleep — "
          f"{r['answer']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--year", default=str(NOW.year))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--filtered", action="store_true", help="also a filtered ledger (建议, 未办结)")
    parser.add_argument("--chat", action="store_true", help="/ledger through the bot, the writer probed meanwhile")
    parser.add_argument("--in-transaction", action="store_true", help="with --chat: the old way, to compare")
    args = parser.parse_args()
    if args.chat:
        return chat(args.db, args.year, args.in_transaction)
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
