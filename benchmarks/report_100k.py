"""Benchmark (not a test): the half-year report on a database of 100 000 matters.

Builds, in a temporary folder, a database through the real migrations and fills it in bulk: matters
registered over five years in every kind and state, with their timeline (registered, assigned, urged,
stale, rated), replies with ratings, extensions, contacts with a roster of representatives, and the NPC
register. Then runs the operator's command exactly as in production, in a child process,

    python -m bot --config CONFIG report half-year 2026H1 --out report.docx

and prints its wall-clock seconds and peak resident memory (the child's rusage ru_maxrss, by os.wait4),
then the same for `report assessment 2026`.

    python benchmarks/report_100k.py [--matters 100000] [--period 2026H1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.app import App  # noqa: E402
from bot.config import load  # noqa: E402
from bot.sealing import COMPLAINANT_NAME, PHONE, Sealer  # noqa: E402

SH = ZoneInfo("Asia/Shanghai")
KINDS = ("suggestion", "criticism", "opinion", "report", "accusation", "appeal")
METHODS = ("forum", "work_report", "home_visit", "inspection", "documents", "letter", "opinion_card", "other")
START = datetime(2022, 1, 1, tzinfo=SH)
END = datetime(2026, 11, 20, tzinfo=SH)


def ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def fill(db: Path, matters: int, rng: random.Random) -> dict[str, int]:
    sealer = Sealer.from_text((db.parent / "liaison.key").read_text("ascii"))  # made by the first start
    now = ts(datetime.now(UTC))
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA synchronous=OFF")
    counts: dict[str, int] = {}
    with conn:
        departments = [conn.execute("INSERT INTO departments (name, created_at) VALUES (?, ?) RETURNING id",
                                    (f"第{n}检察部", now)).fetchone()[0] for n in range(1, 9)]
        staff = []
        for n in range(30):
            dept = departments[n % 8] if n >= 6 else None
            person = conn.execute("INSERT INTO persons (name, department_id, created_at, updated_at) VALUES"
                                  " (?, ?, ?, ?) RETURNING id", (f"干警{n:02d}", dept, now, now)).fetchone()[0]
            conn.execute("INSERT INTO person_roles (person_id, role) VALUES (?, ?)",
                         (person, "office" if n < 4 else "leader" if n < 6 else "handler"))
            staff.append(person)
        office = staff[:4]
        reps = [conn.execute(
            "INSERT INTO persons (name, body, sector, phone, supervisor, roster_key, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (f"代表{n:03d}", "npc" if n % 3 else "cppcc", f"界别{n % 12}", sealer.seal(f"138{n:08d}", PHONE), int(n < 8),
             f"bench:{n}", now, now)).fetchone()[0] for n in range(300)]
        span = (END - START).total_seconds()
        rows, timeline, replies, extensions = [], [], [], []
        for n in range(1, matters + 1):
            registered = START + timedelta(seconds=rng.random() * span)
            due = (registered + timedelta(days=91)).date()
            kind = KINDS[n % 6]
            dept = rng.choice(departments) if rng.random() < 0.9 else None
            age = (END - registered).days
            roll = rng.random()
            concluded = closed = transferred = outcome = None
            if dept is None and roll < 0.5:
                state, closed, transferred = "transferred", registered + timedelta(days=rng.randint(1, 10)), "公安局"
            elif age < 20 or roll < 0.08:
                state = rng.choice(("registered", "assigned", "in_progress")) if dept else "registered"
            else:
                concluded = registered + timedelta(days=rng.randint(5, 120))
                outcome = rng.choice("ABCD")
                state = rng.choice(("concluded", "replied", "rated", "closed", "closed", "closed", "reopened"))
                if state == "closed":
                    closed = concluded + timedelta(days=20)
            matter_id = n
            rows.append((matter_id, f"LS-{registered.year}-{n:06d}", kind, rng.choice(reps), "事由", "内容",
                         sealer.seal("张三", COMPLAINANT_NAME) if kind in ("report", "accusation", "appeal") else None,
                         state, dept,
                         office[n % 4] if dept else None, ts(registered), due.isoformat(), now, outcome,
                         concluded.astimezone(UTC).isoformat() if concluded else None,
                         closed.astimezone(UTC).isoformat() if closed else None, transferred))
            timeline.append((matter_id, ts(registered), None, "registered", 1))
            if dept:
                timeline.append((matter_id, ts(registered + timedelta(hours=3)), office[n % 4], "assigned", 1))
                for week in range(1, rng.randint(1, 6)):
                    timeline.append((matter_id, ts(registered + timedelta(days=7 * week)), office[n % 4], "urged", 0))
                if rng.random() < 0.1:
                    timeline.append((matter_id, ts(registered + timedelta(days=30)), None, "stale", 0))
            if concluded and state in ("replied", "rated", "closed", "reopened"):
                sent = concluded + timedelta(days=2)
                rating = None if state == "replied" else "dissatisfied" if state == "reopened" else \
                    rng.choice(("satisfied", "satisfied", "basically", "unrated"))
                replies.append((matter_id, 1, "reply", "答复", "依据", "chat", "sent", staff[6], ts(concluded),
                                ts(sent), rating))
                if rating == "dissatisfied":
                    timeline.append((matter_id, ts(sent + timedelta(days=3)), None, "rated_dissatisfied", 1))
            if dept and rng.random() < 0.05:
                extensions.append((matter_id, "案情复杂", staff[6], ts(registered + timedelta(days=60)),
                                   rng.choice(("pending", "approved", "refused")), due.isoformat()))
        conn.executemany(
            "INSERT INTO matters (id, number, kind, representative_id, subject, body, complainant_name, state,"
            " department_id, urger_id, registered_at, due_date, updated_at, outcome, concluded_at, closed_at,"
            " transferred_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.executemany("INSERT INTO timeline (matter_id, at, actor_id, event, public) VALUES (?, ?, ?, ?, ?)", timeline)
        conn.executemany(
            "INSERT INTO replies (matter_id, round, kind, body, grounds, via, state, drafted_by, drafted_at, sent_at,"
            " rating) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", replies)
        conn.executemany("INSERT INTO extensions (matter_id, reason, requested_by, requested_at, state, old_due)"
                         " VALUES (?, ?, ?, ?, ?, ?)", extensions)
        contacts = {(rng.choice(reps), rng.choice(METHODS),
                     (START + timedelta(days=rng.randint(0, (END - START).days))).date().isoformat())
                    for _ in range(20_000)}
        conn.executemany("INSERT INTO contacts (representative_id, method, contacted_on, staff_id, source, source_ref,"
                         " created_at) VALUES (?, ?, ?, ?, 'import', ?, ?)",
                         [(r, m, d, rng.choice(office), f"bench-{i}", now) for i, (r, m, d) in enumerate(contacts)])
        conn.executemany("INSERT INTO npc_register (kind, case_name, case_number, happened_on, filed_on, recorded_by,"
                         " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         [(kind, f"案件{i}", f"卢检〔{d.year}〕{i}号", d.isoformat(),
                           (d + timedelta(days=5)).isoformat() if kind == "protest" and i % 3 else None, office[0], now)
                          for i in range(200) for kind in [("protest", "major_case_report")[i % 2]]
                          for d in [(START + timedelta(days=9 * i)).date()]])
        counts = {"matters": len(rows), "timeline": len(timeline), "replies": len(replies),
                  "extensions": len(extensions), "contacts": len(contacts), "representatives": len(reps)}
    conn.close()
    return counts


def run(argv: list[str]) -> tuple[float, int, str]:
    """Run `python -m bot ...` in a child; (seconds, its peak resident memory in MiB, its output).

    The child's own resource usage comes from os.wait4 (a resource.struct_rusage, as getrusage returns;
    ru_maxrss in KiB on Linux): RUSAGE_CHILDREN would be the largest of all children so far."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "bot", *argv], cwd=REPO, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise SystemExit(f"failed ({child.returncode}): {err.read()}")
        return seconds, usage.ru_maxrss // 1024, out.read().strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--matters", type=int, default=100_000)
    parser.add_argument("--period", default="2026H1")
    parser.add_argument("--keep", type=Path, help="build the database in this folder and keep it")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="report-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.toml"
    config.write_text(f"[storage]\ndatabase = {json.dumps(str(folder / 'bench.db'))}\n"
                      f"files_dir = {json.dumps(str(folder / 'files'))}\n", encoding="utf-8")

    async def migrate() -> None:
        app = await App.open(load(config))
        await app.close()

    started = time.perf_counter()
    asyncio.run(migrate())
    counts = fill(folder / "bench.db", args.matters, random.Random(20260630))
    print(f"database built in {time.perf_counter() - started:.1f} s: "
          + ", ".join(f"{v} {k}" for k, v in counts.items()) + f" ({(folder / 'bench.db').stat().st_size >> 20} MiB)")
    out = folder / "report.docx"
    seconds, peak, said = run(["--config", str(config), "report", "half-year", args.period, "--out", str(out)])
    print(f"half-year report {args.period}: {seconds:.2f} s, peak memory {peak} MiB "
          f"(.docx {out.stat().st_size >> 10} KiB, .xlsx {out.with_suffix('.xlsx').stat().st_size >> 10} KiB)")
    print(f"  {said}")
    year = args.period[:4]
    seconds, peak, said = run(["--config", str(config), "report", "assessment", year, "--out",
                               str(folder / "assessment.xlsx")])
    print(f"assessment {year}: {seconds:.2f} s, peak memory {peak} MiB")
    print(f"files in {folder}")
    print(f"rerun: {Path(sys.executable).name} benchmarks/report_100k.py --matters {args.matters} "
          f"--period {args.period}  (from {REPO})")


if __name__ == "__main__":
    main()
