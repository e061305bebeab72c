"""Benchmark (not a test): the bot on a large deployment's database (issue 6, benchmark 3).

On a database made by benchmarks/generate_db.py (1 000 000 matters over ten years, 100 000 contacts,
5 000 representatives, a backlog of a few thousand open matters), measures, each in a fresh child
process so that each has its own peak resident memory (VmHWM):

- one **reminder tick** (the whole supervision sweep, every rule) in the steady state, where nothing
  new is due (six ticks a minute apart in one process: the first, cold, is shown apart; the median is
  of the others, as the ticks of a running bot), and on a normal working day at 09:00, where that
  day's reminders fire (queued to the people's chats through the outbox);
- the **/digest** of a leader (the weekly figures and the chart), from the update in to the answer out;
- the **/report** of the office (the half-year report, .docx and .xlsx);
- **/my** of the deputy with the most matters, and **/inbox** of a handler of the busiest department,
  of the office and of discipline inspection, each from the update in to the answer out;
- with each, the longest the event loop was held from everything else (the worst lateness of a 10 ms
  timer): a query of a transaction or snapshot runs on the loop (storage/db.py), a long read does not;

then prints `EXPLAIN QUERY PLAN` of every query those paths run, flagging each full SCAN of a big table.

With `--engine postgresql` (beside `--engine sqlite`, the default), the same measurements on PostgreSQL
(issue 17): a throw-away cluster on disk with every commit flushed (tests/pg_cluster.py, the installed
server binaries), the generated database moved into it as `python -m bot migrate-to` does (storage/move.py,
counted and compared, then ANALYZEd), each child on it. Both engines in one run: a table each, then the
two side by side with their ratio.

Everything runs on a working copy of the generated database (the original stays as generated, so a
rerun measures the same thing). The ticks move the clock a working day at a time, so the runs of the
day tick are successive normal days. Figures are medians over `--runs`.

    python benchmarks/scale.py [--db /tmp/liaison-scale/scale.db] [--runs 3] [--quick] [--no-plans]
                               [--engine sqlite] [--engine postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.generate_db import DEFAULT_DB, NOW, SH, FixedClock  # noqa: E402
from tests.pg_cluster import Cluster  # noqa: E402

TARGETS = {"tick_steady": 0.2, "tick_day": None, "digest": 2.0, "digest_county": 2.0, "report": 30.0}
RSS_TARGET_MIB = 500
BIG_TABLES = ("matters", "timeline", "replies", "reminders", "contacts", "extensions", "audit_log", "outbox",
              "invitations", "card_recipients", "attendance", "inbox")
SLOW_QUERY = 0.05  # seconds: a query of a hot path slower than this on its own is flagged too


# -- the child: one measurement ------------------------------------------------------------------


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def open_harness(db: Path, at: datetime, url: str = "") -> Any:
    """`url`: the PostgreSQL database the SQLite file `db` was moved into (its data key stays beside the file)."""
    from bot.app import App
    from bot.config import Config, DatabaseConfig, OutboxConfig, StorageConfig
    from bot.files import FileStore
    from tests.fakes import Harness, MovableClock, RecordingChannel

    config = Config(storage=StorageConfig(database=db, files_dir=db.parent / "files", key_file=db.parent / "liaison.key"),
                    outbox=OutboxConfig(global_rate=1000, per_chat_interval=0, max_attempts=5),
                    database=DatabaseConfig(url))
    clock = MovableClock(at)
    app = await App.open(config, clock)
    channel = RecordingChannel(FileStore(config.storage.files_dir, clock))
    app.add_channel(channel)
    harness = Harness(app, channel, clock)
    harness._updates = itertools.count(time.time_ns())  # update ids unique across the children on one database
    return harness


async def who(h: Any, sql: str) -> int:
    async with h.db.snapshot() as q:
        return int(await q.scalar(sql))


async def heartbeat(held: list[float], every: float = 0.01) -> None:
    """How long the event loop was kept from its other chats: the worst lateness of a 10 ms timer."""
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(every)
        held[0] = max(held[0], loop.time() - before - every)


async def child(what: str, db: Path, at: datetime, repeat: int, url: str = "") -> dict[str, Any]:
    h = await open_harness(db, at, url)
    out: dict[str, Any] = {}
    held = [0.0]
    beat = asyncio.create_task(heartbeat(held))
    try:
        if what == "tick":  # repeated a minute apart: the first is the one at start-up, the rest as in a running bot
            out["seconds"], out["fired"] = [], {}
            for n in range(repeat):
                if n:
                    h.clock.advance(minutes=1)
                started = time.perf_counter()
                result = await h.app.supervise()
                out["seconds"].append(time.perf_counter() - started)
                for rule, count in result.fired.items():
                    out["fired"][rule] = out["fired"].get(rule, 0) + count
                out["skipped"] = result.skipped_outside_hours
            async with h.db.transaction() as tx:  # as if the dispatcher had sent them: the next child starts clean
                out["queued"] = await tx.execute("UPDATE outbox SET state = 'sent' WHERE state = 'pending'")
        else:
            if what == "my":
                person = await who(h, "SELECT representative_id FROM matters GROUP BY representative_id"
                                      " ORDER BY COUNT(*) DESC LIMIT 1")
                command = "/my"
            elif what == "inbox":  # a handler of the department with the most open matters
                person = await who(h, "SELECT MIN(p.id) FROM persons p JOIN person_roles r ON r.person_id = p.id"
                                      " WHERE r.role = 'handler' AND p.department_id = (SELECT department_id FROM"
                                      " matters WHERE state IN ('assigned', 'in_progress', 'concluded', 'reopened')"
                                      " GROUP BY department_id ORDER BY COUNT(*) DESC LIMIT 1)")
                command = "/inbox"
            elif what == "inbox_office":
                person = await who(h, "SELECT MIN(person_id) FROM person_roles WHERE role = 'office'")
                command = "/inbox"
            elif what == "inbox_discipline":
                person = await who(h, "SELECT MIN(person_id) FROM person_roles WHERE role = 'discipline'")
                command = "/inbox"
            elif what == "digest":
                person = await who(h, "SELECT MIN(person_id) FROM person_roles WHERE role = 'leader'")
                command = "/digest"
            elif what == "digest_county":  # a leader of the last unit: its own figures alone (the first's roll up)
                person = await who(h, "SELECT MIN(p.id) FROM persons p JOIN person_roles r ON r.person_id = p.id"
                                      " WHERE r.role = 'leader' AND p.unit_id = (SELECT MAX(id) FROM units)")
                command = "/digest"
            elif what == "report":
                person = await who(h, "SELECT MIN(person_id) FROM person_roles WHERE role = 'office'")
                command = "/report 2026H1"
            else:
                raise SystemExit(f"unknown measurement {what}")
            user = h.user(f"u{person}")
            seconds = []
            for _ in range(repeat):
                started = time.perf_counter()
                got = await user.say(command)
                seconds.append(time.perf_counter() - started)
                if not got:
                    raise SystemExit(f"{what}: no answer")
            out["answers"] = len(got)
            out["seconds"] = seconds
    finally:
        beat.cancel()
        await h.app.close()
    out["rss_mib"] = peak_rss_mib()
    out["loop_held"] = held[0]
    return out


# -- query plans ------------------------------------------------------------------------------------


async def plans(db: Path, at: datetime) -> list[tuple[str, str, list[str], float]]:
    """Every distinct read query of the hot paths, with its plan and its time alone (best of three)."""
    from storage import db as dbmod

    seen: dict[str, tuple[str, Any]] = {}
    current = ["?"]
    originals = {name: getattr(dbmod.SqliteTx, name) for name in ("one", "all", "execute")}

    def wrap(name: str) -> Any:
        original = originals[name]

        async def recorded(self: Any, sql: str, params: Any = ()) -> Any:
            head = sql.lstrip().split(None, 1)[0].upper()
            if head in ("SELECT", "WITH") and sql not in seen and current[0] != "?":
                seen[sql] = (current[0], params)
            return await original(self, sql, params)
        return recorded

    for name in originals:
        setattr(dbmod.SqliteTx, name, wrap(name))
    h = await open_harness(db, at)
    try:
        current[0] = "tick"
        await h.app.supervise()
        for what, sql, command in (
            ("/my", "SELECT representative_id FROM matters GROUP BY representative_id ORDER BY COUNT(*) DESC LIMIT 1",
             "/my"),
            ("/inbox handler", "SELECT MIN(p.id) FROM persons p JOIN person_roles r ON r.person_id = p.id"
                               " WHERE r.role = 'handler'", "/inbox"),
            ("/inbox office", "SELECT MIN(person_id) FROM person_roles WHERE role = 'office'", "/inbox"),
            ("/inbox discipline", "SELECT MIN(person_id) FROM person_roles WHERE role = 'discipline'", "/inbox"),
            ("/digest", "SELECT MIN(person_id) FROM person_roles WHERE role = 'leader'", "/digest"),
            ("/report", "SELECT MIN(person_id) FROM person_roles WHERE role = 'office'", "/report 2026H1"),
        ):
            current[0] = "?"
            person = await who(h, sql)
            current[0] = what
            await h.user(f"u{person}").say(command)
    finally:
        await h.app.close()
        for name, original in originals.items():
            setattr(dbmod.SqliteTx, name, original)
    conn = sqlite3.connect(db)
    found = []
    for sql, (where, params) in seen.items():
        rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            conn.execute(sql, params).fetchall()
            best = min(best, time.perf_counter() - started)
        found.append((where, sql, [f"{'  ' * depth(rows, r)}{r[3]}" for r in rows], best))
    conn.close()
    return found


def depth(rows: list[Any], row: Any) -> int:
    parents = {r[0]: r[1] for r in rows}
    n, parent = 0, row[1]
    while parent in parents:
        n, parent = n + 1, parents[parent]
    return n


def full_scans(sql: str, lines: list[str]) -> list[str]:
    """Plan lines that read a whole big table (or a whole index of one); not the newest row by id."""
    flagged = []
    text = " ".join(sql.split())
    if text.endswith("ORDER BY id DESC LIMIT 1"):
        return flagged
    for line in lines:
        words = line.split()
        table = words[1] if len(words) >= 2 and words[0] == "SCAN" else None
        if len(words) >= 3 and words[0] == "SCAN" and words[1] == "TABLE":  # SCAN TABLE x (older SQLite)
            table = words[2]
        if table in BIG_TABLES and f"FROM {table} ORDER BY id DESC LIMIT 1" not in text:  # the newest row, by id
            flagged.append(line.strip())
    return flagged


# -- the parent -------------------------------------------------------------------------------------


def spawn(what: str, db: Path, at: datetime, repeat: int = 1, url: str = "") -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", what, "--work", str(db), "--at", at.isoformat(),
                           "--repeat", str(repeat)], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "BENCH_DATABASE_URL": url})
    if proc.returncode != 0:
        raise SystemExit(f"{what} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def working_days(after: datetime, n: int) -> list[datetime]:
    from bot.workdays import MAINLAND
    days, day = [], after.date()
    while len(days) < n:
        day += timedelta(days=1)
        if MAINLAND.is_workday(day):
            days.append(datetime.combine(day, datetime.min.time(), SH) + timedelta(hours=9))
    return days


def median(values: list[float]) -> float:
    return statistics.median(values)


ENGINE_NAMES = {"sqlite": "SQLite (the file, WAL, synchronous=FULL)",
                "postgresql": "PostgreSQL (a local cluster on disk, fsync on; moved by storage/move.py, then ANALYZEd)"}


async def moved_into(cluster: Cluster, work: Path) -> str:
    """The SQLite working copy moved into a new database of the cluster, as `migrate-to` does; its URL."""
    from storage.db import Database
    from storage.move import move
    from storage.pg import PgDatabase

    cluster.psql("CREATE DATABASE scale")
    url = cluster.url("scale")
    started = time.perf_counter()
    source, target = await Database.open(work), await Database.open(url)
    assert isinstance(target, PgDatabase)
    try:
        moved = await move(source, target, NOW)
    finally:
        await target.close()
        await source.close()
    print(f"moved into PostgreSQL in {time.perf_counter() - started:.0f} s: {moved.rows} rows of {len(moved.tables)} "
          "tables, each compared")
    return url


def measure(work: Path, url: str, runs: int) -> dict[str, list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {}
    for day in working_days(NOW, runs):
        results.setdefault("tick_day", []).append(spawn("tick", work, day, url=url))
        results.setdefault("tick_steady", []).append(spawn("tick", work, day + timedelta(minutes=10), repeat=6,
                                                           url=url))
    at = working_days(NOW, runs)[-1] + timedelta(minutes=20)
    with sqlite3.connect(work) as conn:
        several = conn.execute("SELECT COUNT(*) FROM units").fetchone()[0] > 1  # unit 1's figures roll up theirs
    for what, repeat in (("my", 5), ("inbox", 5), ("inbox_office", 3), ("inbox_discipline", 3), ("digest", 1),
                         *((("digest_county", 1),) if several else ()), ("report", 1)):
        for _ in range(runs if repeat == 1 else 1):
            results.setdefault(what, []).append(spawn(what, work, at, repeat, url=url))
    return results


def warm(runs: list[dict[str, Any]]) -> list[float]:
    """The measured seconds: of a repeated measurement, all but the first (cold) call."""
    return [s for r in runs for s in (r["seconds"] if len(r["seconds"]) == 1 else r["seconds"][1:])]


def typical(runs: list[dict[str, Any]]) -> float:
    return median(warm(runs))


def show(results: dict[str, list[dict[str, Any]]]) -> None:
    print(f"\n{'measurement':<28}{'median s':>10}{'min s':>9}{'max s':>9}{'peak RSS MiB':>14}{'loop held ms':>14}"
          "  target")
    for what, runs in results.items():
        seconds = warm(runs)
        first = [r["seconds"][0] for r in runs]
        rss = max(r["rss_mib"] for r in runs)
        target = TARGETS.get(what)
        verdict = "" if target is None else f"< {target:g} s {'ok' if median(seconds) < target else 'MISSED'}"
        held = max(r["loop_held"] for r in runs) * 1000  # the worst moment, in any run
        print(f"{what:<28}{median(seconds):>10.3f}{min(seconds):>9.3f}{max(seconds):>9.3f}{rss:>14.0f}{held:>14.0f}"
              f"  {verdict}")
        if len(runs[0]["seconds"]) > 1:
            print(f"{'  (first call, cold)':<28}{median(first):>10.3f}")
        if what.startswith("tick"):
            fired: dict[str, int] = {}
            for r in runs:
                for rule, n in r["fired"].items():
                    fired[rule] = fired.get(rule, 0) + n
            print(f"{'':<4}fired over {sum(len(r['seconds']) for r in runs)} ticks: " + (", ".join(f"{k} {v}" for k, v in sorted(fired.items()))
                                                            or "nothing") +
                  f"; messages queued: {sum(r['queued'] for r in runs)}")
    peak = max(r["rss_mib"] for runs in results.values() for r in runs)
    print(f"peak RSS of any of them: {peak:.0f} MiB (target < {RSS_TARGET_MIB} MiB: "
          f"{'ok' if peak < RSS_TARGET_MIB else 'MISSED'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help="made by benchmarks/generate_db.py")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="the small database of generate_db.py --quick")
    parser.add_argument("--no-plans", action="store_true", help="skip the query plans")
    parser.add_argument("--engine", action="append", choices=("sqlite", "postgresql"),
                        help="measure on this engine (repeatable; default sqlite)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--at", help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(args.child, args.work, datetime.fromisoformat(args.at), args.repeat,
                                           os.environ.get("BENCH_DATABASE_URL", "")))))
        return
    source = args.db
    if args.quick and source == DEFAULT_DB:
        source = DEFAULT_DB.with_name("scale-quick.db")
        if not source.exists():
            subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate_db.py"), "--quick"], check=True)
    if not source.exists():
        raise SystemExit(f"no database at {source}: make it with .venv/bin/python benchmarks/generate_db.py"
                         + (" --quick" if args.quick else ""))
    work = source.with_name("work-" + source.name)
    for suffix in ("-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    shutil.copyfile(source, work)
    size = os.path.getsize(source) >> 20
    with sqlite3.connect(source) as conn:
        counts = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                  for t in ("matters", "timeline", "replies", "reminders", "contacts", "persons")}
        open_now = conn.execute("SELECT COUNT(*) FROM matters WHERE state IN ('registered', 'assigned', 'in_progress',"
                                " 'concluded', 'reopened')").fetchone()[0]
    print(f"database {source} ({size} MiB): " + ", ".join(f"{n} {t}" for t, n in counts.items())
          + f", {open_now} not yet concluded; copied in {time.perf_counter() - started:.1f} s")
    engines = args.engine or ["sqlite"]
    by_engine: dict[str, dict[str, list[dict[str, Any]]]] = {}
    # PostgreSQL gets the copy as generated, before the SQLite measurements change it (their ticks fire the
    # days' reminders): both engines measure the same days from the same state
    cluster = Cluster.start(durable=True) if "postgresql" in engines else None
    try:
        url = asyncio.run(moved_into(cluster, work)) if cluster is not None else ""
        for engine in engines:
            by_engine[engine] = measure(work, url if engine == "postgresql" else "", args.runs)
    finally:
        if cluster is not None:
            cluster.stop()
    for engine, results in by_engine.items():
        print(f"\n{ENGINE_NAMES[engine]}:")
        show(results)
    if len(by_engine) == 2:
        lite, pg = by_engine["sqlite"], by_engine["postgresql"]
        print(f"\n{'measurement':<28}{'SQLite s':>10}{'PostgreSQL s':>14}{'PostgreSQL / SQLite':>21}")
        for what in lite:
            a, b = typical(lite[what]), typical(pg[what])
            print(f"{what:<28}{a:>10.3f}{b:>14.3f}{b / a:>20.2f}×")
    at = working_days(NOW, args.runs)[-1] + timedelta(minutes=20)
    if not args.no_plans and "sqlite" in by_engine:  # SQLite's EXPLAIN QUERY PLAN (PostgreSQL's plans: left alone)
        print("\nquery plans (EXPLAIN QUERY PLAN) of every read query of these paths:")
        flagged = 0
        for where, sql, lines, seconds in asyncio.run(plans(work, at + timedelta(minutes=10))):
            scans = full_scans(sql, lines)
            flagged += bool(scans) or seconds > SLOW_QUERY
            marks = ("  <-- FULL SCAN: " + "; ".join(scans) if scans else "") + \
                    (f"  <-- SLOW (> {SLOW_QUERY * 1000:.0f} ms)" if seconds > SLOW_QUERY else "")
            print(f"\n[{where}] {seconds * 1000:.1f} ms{marks}\n  {' '.join(sql.split())}")
            for line in lines:
                print(f"    {line}")
        print(f"\n{flagged} queries read a whole big table or take more than {SLOW_QUERY * 1000:.0f} ms alone")
    print(f"\nrerun: .venv/bin/python benchmarks/scale.py --db {source} --runs {args.runs}"
          + (" --quick" if args.quick else "") + "".join(f" --engine {e}" for e in args.engine or ()) + f"  (from {REPO}; make the database first with"
          f" benchmarks/generate_db.py{' --quick' if args.quick else ''})")


if __name__ == "__main__":
    main()
