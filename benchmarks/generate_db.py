"""Generate a large deployment's database for the scale benchmark (benchmarks/scale.py).

The schema comes from the real migrations (`App.open`); the rows are written in bulk with plain
sqlite3 (`executemany` in large transactions, `synchronous=OFF` while generating only). The shape is
that of a county procuratorate after ten years with a very busy liaison office:

- representatives (NPC deputies and CPPCC members) across sectors, a few of them law-enforcement
  supervisors; one very active deputy with thousands of matters (for /my);
- departments with handlers and heads, the liaison office, discipline inspection, leaders; everyone
  bound to a chat (channel `test`, chat id `u<person id>`);
- matters registered evenly over ten years, ids in order of registration: nearly all handled,
  replied to, rated and closed (some transferred, some reopened and answered again), with their
  timeline (registered, assigned, progress notices, urgings, conclusion, reply, rating), replies and
  extensions, and the reminders they had (deadline warnings, weekly urgings);
- an open backlog of a few thousand matters in every open state: just registered, assigned, being
  handled, concluded awaiting a reply, replied awaiting a rating, reopened, rated owing a final reply;
  some due soon, some overdue, some major without a progress notice, some idle for weeks; one
  department much busier than the others (for /inbox);
- the contact log, the NPC register (some protests not yet filed), half-year reports marked sent,
  events held with their attendance and some planned with invitations and preparation tasks, opinion
  cards (one sent a week before `--now`, so its reminder is due).

Then one sweep of the supervision rules runs at `--now` through the real code (no channel attached,
so nothing is queued to send): what is due has fired, as in a deployment that has been running. The
database is checkpointed, so it is one self-contained file.

    python benchmarks/generate_db.py [--db /tmp/liaison-scale/scale.db] [--matters 1000000]
        [--contacts 100000] [--representatives 5000] [--departments 24] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bot.app import App  # noqa: E402
from bot.clock import Clock  # noqa: E402
from bot.config import load  # noqa: E402
from bot.domain import add_months  # noqa: E402
from bot.sealing import COMPLAINANT_CONTACT, COMPLAINANT_NAME, PHONE, Sealer  # noqa: E402

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=SH)  # a Tuesday, in working time
KINDS = ("suggestion", "criticism", "opinion", "report", "accusation", "appeal")
METHODS = ("forum", "work_report", "home_visit", "inspection", "documents", "letter", "opinion_card", "other")
SECTORS = ("中共", "民革", "民盟", "民建", "民进", "农工党", "致公党", "九三学社", "无党派", "工商联", "工会", "共青团",
           "妇联", "科技界", "教育界", "文化艺术界", "医药卫生界", "农业界", "经济界", "少数民族", "宗教界", "社会福利",
           "新闻出版", "体育界", "")
DEFAULT_DB = Path("/tmp/liaison-scale/scale.db")
BATCH = 50_000


class FixedClock(Clock):
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


def ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Params:
    matters: int
    contacts: int
    representatives: int
    departments: int
    years: int
    seed: int
    units: int = 1  # unit 1 and, below it, units - 1 counties (issue 17): everything spread over them

    def describe(self) -> str:
        return (f"{self.matters} matters over {self.years} years, {self.contacts} contacts, "
                f"{self.representatives} representatives, {self.departments} departments, {self.units} unit(s),"
                f" seed {self.seed}")


def write_config(folder: Path, db: Path) -> Path:
    config = folder / f"{db.stem}.toml"
    config.write_text(f"[storage]\ndatabase = {json.dumps(str(db))}\n"
                      f"files_dir = {json.dumps(str(folder / 'files'))}\n", encoding="utf-8")
    return config


async def migrate(config: Path) -> None:
    app = await App.open(load(config), FixedClock(NOW))
    await app.close()


async def warm_up(config: Path) -> dict[str, int]:
    """One sweep at NOW through the real code: what is due has fired (no channel: nothing is queued)."""
    app = await App.open(load(config), FixedClock(NOW))
    try:
        result = await app.supervise()
        return result.fired
    finally:
        await app.close()


def batched(rows: Iterator[tuple[object, ...]], size: int = BATCH) -> Iterator[list[tuple[object, ...]]]:
    batch: list[tuple[object, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Filler:
    def __init__(self, conn: sqlite3.Connection, p: Params, sealer: Sealer) -> None:
        self.conn = conn
        self.p = p
        self.sealer = sealer  # personal data is sealed at rest (bot/sealing.py)
        self.rng = random.Random(p.seed)
        self.now_text = ts(NOW)
        self.counts: dict[str, int] = {}

    def insert(self, table: str, columns: str, rows: list[tuple[object, ...]] | Iterator[tuple[object, ...]]) -> None:
        marks = ", ".join("?" for _ in columns.split(","))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
        n = 0
        for batch in batched(iter(rows)):
            self.conn.executemany(sql, batch)
            n += len(batch)
        self.counts[table] = self.counts.get(table, 0) + n

    # -- people ----------------------------------------------------------------------------

    def people(self) -> None:
        rng, now = self.rng, self.now_text
        c = self.conn
        units = self.p.units
        # unit 1 is the one [unit] describes (LS); the others are counties below it, C02, C03...
        c.executemany("INSERT INTO units (id, name, prefix, parent_id, timezone, created_at) VALUES (?, ?, ?, 1,"
                      " 'Asia/Shanghai', ?)", [(u, f"第{u}县人民检察院", f"C{u:02d}", now) for u in range(2, units + 1)])
        self.prefix = {1: "LS", **{u: f"C{u:02d}" for u in range(2, units + 1)}}
        self.dept_unit: dict[int, int] = {}
        self.departments = []
        for n in range(1, max(self.p.departments, units) + 1):  # each unit one at least; the first ones more
            unit = (n - 1) % units + 1
            dept = c.execute("INSERT INTO departments (name, created_at, unit_id) VALUES (?, ?, ?) RETURNING id",
                             (f"第{n}检察部", now, unit)).fetchone()[0]
            self.departments.append(dept)
            self.dept_unit[dept] = unit

        def staff(name: str, roles: tuple[str, ...], dept: int | None, unit: int = 1) -> int:
            pid = int(c.execute("INSERT INTO persons (name, department_id, created_at, updated_at, unit_id)"
                                " VALUES (?, ?, ?, ?, ?) RETURNING id", (name, dept, now, now, unit)).fetchone()[0])
            c.executemany("INSERT INTO person_roles (person_id, role) VALUES (?, ?)", [(pid, r) for r in roles])
            return pid

        self.office = [staff(f"联络办{n}", ("office",), None) for n in range(6)]
        staff("管理员", ("admin", "office"), None)
        self.discipline = [staff(f"纪检{n}", ("discipline",), None) for n in range(3)]
        self.leaders = [staff(f"院领导{n}", ("leader",), None) for n in range(5)]
        self.offices = {1: self.office, **{u: [staff(f"联络办{u}-{n}", ("office",), None, u) for n in range(2)]
                                           for u in range(2, units + 1)}}
        for u in range(2, units + 1):
            staff(f"纪检{u}", ("discipline",), None, u)
            staff(f"院领导{u}", ("leader",), None, u)
        self.handlers: dict[int, list[int]] = {}
        self.heads: dict[int, int] = {}
        for i, dept in enumerate(self.departments):
            unit = self.dept_unit[dept]
            self.heads[dept] = staff(f"部长{i}", ("head",), dept, unit)
            self.handlers[dept] = [staff(f"干警{i}-{n}", ("handler",), dept, unit) for n in range(6 if i == 0 else 4)]
        reps = []
        for n in range(self.p.representatives):
            body = "npc" if n % 5 < 3 else "cppcc"
            sector = rng.choice(SECTORS) if body == "cppcc" else rng.choice(("", "", "农业界", "经济界", "教育界"))
            reps.append((f"代表{n:05d}", body, sector, f"单位{n % 400}", self.sealer.seal(f"139{n:08d}", PHONE),
                         int(n % 600 == 7),
                         f"bench:{n}", now, now, n % units + 1))
        c.executemany("INSERT INTO persons (name, body, sector, organization, phone, supervisor, roster_key,"
                      " created_at, updated_at, unit_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", reps)
        self.reps = [r[0] for r in c.execute("SELECT id FROM persons WHERE body IS NOT NULL ORDER BY id")]
        self.rep_unit = {int(r[0]): int(r[1]) for r in c.execute("SELECT id, unit_id FROM persons WHERE body IS NOT NULL")}
        if units > 1:  # one in twenty of the counties' deputies also sits in unit 1's congress (memberships)
            self.insert("memberships", "person_id, unit_id, body, sector, supervisor, roster_key, created_at, updated_at",
                        [(r, 1, "npc", "", 0, f"bench:1:{r}", now, now) for r in self.reps[1::20] if self.rep_unit[r] != 1])
        self.heavy = self.reps[0]  # the very active deputy
        everyone = [r[0] for r in c.execute("SELECT id FROM persons ORDER BY id")]
        self.insert("identities", "channel, external_id, person_id, chat_id, bound_at",
                    ((("test", f"u{pid}", pid, f"u{pid}", now)) for pid in everyone))
        self.counts["persons"] = len(everyone)

    # -- matters -------------------------------------------------------------------------------

    def matters(self) -> None:
        """Matters in order of registration, each with its whole history up to NOW."""
        rng, p = self.rng, self.p
        start = NOW - timedelta(days=365 * p.years)
        span = (NOW - start).total_seconds()
        by_unit: dict[int, list[int]] = {}
        for dept in self.departments:
            by_unit.setdefault(self.dept_unit[dept], []).append(dept)
        weights = {u: [6.0] + [1.0] * (len(ds) - 1) for u, ds in by_unit.items()}  # a unit's first is its busiest
        due_of: dict[date, date] = {}
        matters: list[tuple[object, ...]] = []
        timeline: list[tuple[object, ...]] = []
        replies: list[tuple[object, ...]] = []
        extensions: list[tuple[object, ...]] = []
        reminders: list[tuple[object, ...]] = []
        counts = {"matters": 0, "timeline": 0, "replies": 0, "extensions": 0, "reminders": 0}
        m_cols = ("id, number, kind, representative_id, subject, body, received_via, complainant_name,"
                  " complainant_contact, state, major, department_id, urger_id, registered_at, due_date, updated_at,"
                  " outcome, owes_final_reply, reopened, transferred_to, concluded_at, closed_at, last_action_at,"
                  " unit_id")
        sequence: dict[tuple[str, int], int] = {}
        open_count = 0

        def flush(final: bool = False) -> None:
            if len(timeline) < 4 * BATCH and not final:
                return
            for table, cols, rows in (
                ("matters", m_cols, matters),
                ("timeline", "matter_id, at, actor_id, event, public", timeline),
                ("replies", "matter_id, round, kind, body, grounds, via, state, drafted_by, drafted_at, approved_by,"
                            " sent_at, rating, rated_at, asked_again_at", replies),
                ("extensions", "matter_id, reason, requested_by, requested_at, state, old_due, new_due, decided_by,"
                               " decided_at", extensions),
                ("reminders", "key, rule, matter_id, fired_at", reminders),
            ):
                if rows:
                    marks = ", ".join("?" for _ in cols.split(","))
                    self.conn.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
                    counts[table] += len(rows)
                    rows.clear()

        for n in range(1, p.matters + 1):
            registered = start + timedelta(seconds=span * (n - 1 + rng.random()) / p.matters)
            local = registered.astimezone(SH)
            day = local.date()
            due = due_of.get(day)
            if due is None:
                due = due_of[day] = add_months(day, 3)
            age = (NOW - registered).total_seconds() / 86400
            # how likely it is still open, by age: most are handled within weeks
            chance = 0.85 if age < 12 else 0.25 if age < 40 else 0.04 if age < 100 else 0.0004
            still_open = rng.random() < chance
            kind = KINDS[rng.randrange(6) if rng.random() < 0.5 else rng.randrange(3)]
            rep = self.heavy if rng.random() < 0.004 else rng.choice(self.reps)
            unit = self.rep_unit[rep]
            year = local.year
            prefix = self.prefix[unit]
            sequence[prefix, year] = sequence.get((prefix, year), 0) + 1
            number = f"{prefix}-{year}-{sequence[prefix, year]:06d}"
            referred = kind in ("report", "accusation", "appeal")
            major = rng.random() < (0.2 if still_open and age > 60 else 0.03)
            transferred = not still_open and rng.random() < 0.03
            dept = None if transferred else rng.choices(by_unit[unit], weights[unit])[0]
            state, outcome, owes, reopened = "closed", None, 0, 0
            concluded = replied = rated = closed = None
            rating = None
            assigned = registered + timedelta(hours=rng.uniform(1, 30))
            if still_open:
                r = rng.random()
                if age < 2 and r < 0.5:
                    state, dept = "registered", None
                else:
                    state = rng.choices(("assigned", "in_progress", "concluded", "replied", "reopened", "rated"),
                                        (25, 40, 10, 12, 8, 5))[0]
                    open_count += 1
            handled_days = rng.uniform(2, 25) if not still_open else min(age, rng.uniform(2, 25))
            if transferred:
                state, closed = "transferred", registered + timedelta(days=rng.uniform(0.5, 5))
            elif state in ("concluded", "replied", "rated", "closed", "reopened"):
                concluded = assigned + timedelta(days=handled_days)
                if concluded > NOW:
                    concluded = NOW - timedelta(hours=1)
                outcome = rng.choices("ABCD", (70, 15, 8, 7))[0]
                if state != "concluded":
                    replied = min(concluded + timedelta(days=rng.uniform(0.2, 4)), NOW - timedelta(minutes=30))
                if state in ("rated", "closed", "reopened"):
                    rated = min(replied + timedelta(days=rng.uniform(0.1, 9)), NOW - timedelta(minutes=10)) \
                        if replied else None
                if state == "rated":
                    rating, owes = rng.choice(("satisfied", "basically")), 1
                elif state == "reopened":
                    rating, reopened = "dissatisfied", 1
                    due = add_months(rated.astimezone(SH).date(), 1) if rated else due
                elif state == "closed":
                    rating = rng.choices(("satisfied", "basically", "unrated", "dissatisfied"), (70, 20, 7, 3))[0]
                    closed = rated
            last_action = max(x for x in (registered, assigned if dept else None, concluded, replied, rated, closed)
                              if x is not None)
            if still_open and state in ("assigned", "in_progress") and rng.random() < 0.3:
                last_action = assigned  # nobody has touched it since it was assigned
            elif still_open and state in ("assigned", "in_progress"):
                last_action = min(NOW - timedelta(hours=2), assigned + timedelta(days=rng.uniform(0, max(age - 1, 0))))
            urger = rng.choice(self.offices[unit]) if dept else None
            matters.append((
                n, number, kind, rep, f"关于{n % 97}号事项的{('建议', '意见', '反映')[n % 3]}",
                "代表反映的情况和诉求，内容从略。" * 3, "chat" if n % 4 else "letter",
                self.sealer.seal("张三", COMPLAINANT_NAME) if referred else None,
                self.sealer.seal("13800000000", COMPLAINANT_CONTACT) if referred else None, state, int(major), dept, urger,
                ts(registered), due.isoformat(), ts(last_action), outcome, owes, reopened,
                "县公安局" if transferred else None, ts(concluded) if concluded else None,
                ts(closed) if closed else None, ts(last_action), unit))
            timeline.append((n, ts(registered), None, "registered", 1))
            if dept is not None:
                timeline.append((n, ts(assigned), urger, "assigned", 1))
                progressed = rng.random() < (0.4 if major else 0.5)
                if progressed and (concluded or age > 3):
                    at = assigned + timedelta(days=min(handled_days, age) * rng.uniform(0.2, 0.8))
                    timeline.append((n, ts(min(at, NOW - timedelta(hours=3))), self.handlers[dept][0],
                                     "progress_public", 1))
                if rng.random() < 0.25:
                    at = assigned + timedelta(days=min(handled_days, age) * rng.uniform(0.1, 0.9))
                    timeline.append((n, ts(min(at, NOW - timedelta(hours=3))), self.handlers[dept][0],
                                     "progress_internal", 0))
                # weekly urgings while it was being handled (the open ones: the sweep at NOW catches up)
                if not still_open:
                    until = replied or concluded or closed or assigned
                    assigned_day = assigned.astimezone(SH).date()
                    for count in range(1, int((until - assigned).days // 7) + 1):
                        at = datetime.combine(assigned_day + timedelta(days=7 * count), datetime.min.time(), SH) \
                            + timedelta(hours=9)
                        timeline.append((n, ts(at), urger, "urged", 0))
                        reminders.append((f"urge:{n}:{ts(assigned)}:{count}", "urge", n, ts(at)))
                    if until - registered > timedelta(days=60):
                        warn = datetime.combine(due - timedelta(days=30), datetime.min.time(), SH) + timedelta(hours=9)
                        reminders.append((f"due:30:{n}:{due}", "due_soon", n, ts(warn)))
                if rng.random() < 0.02:
                    asked = assigned + timedelta(days=min(handled_days, age) / 2)
                    if asked < NOW:
                        approved = rng.random() < 0.7 or still_open
                        new_due = add_months(due, 1) if approved and not still_open else None
                        extensions.append((n, "案情复杂，需要补充调查", self.handlers[dept][0], ts(asked),
                                           "pending" if still_open else "approved" if approved else "refused",
                                           due.isoformat(), new_due.isoformat() if new_due else None,
                                           None if still_open else self.office[0],
                                           None if still_open else ts(asked + timedelta(days=1))))
                        if new_due:
                            timeline.append((n, ts(asked + timedelta(days=1)), self.office[0], "extended", 1))
            if concluded:
                timeline.append((n, ts(concluded), self.handlers[dept or self.departments[0]][0], "concluded", 1))
            if replied:
                drafter = self.handlers[dept or self.departments[0]][1]
                replies.append((n, 1, "reply", "答复内容：已依法办理并说明情况。", "依据：相关法律规定。", "chat", "sent",
                                drafter, ts(concluded or replied), self.office[0], ts(replied), rating,
                                ts(rated) if rated and rating else None,
                                ts(replied + timedelta(days=10)) if rating == "unrated" else None))
                timeline.append((n, ts(replied), self.office[0], "replied", 1))
                if rated and rating:
                    timeline.append((n, ts(rated), rep if rating != "unrated" else None,
                                     "unrated" if rating == "unrated" else f"rated_{rating}", 1))
            if rating == "dissatisfied" and state == "closed" and rated:
                # handled again after the dissatisfied rating, answered and accepted
                again = rated + timedelta(days=rng.uniform(3, 20))
                replies.append((n, 2, "reply", "再次答复：已重新办理。", "依据：相关法律规定。", "chat", "sent",
                                self.handlers[dept or self.departments[0]][1], ts(again), self.office[0], ts(again),
                                "satisfied", ts(again + timedelta(days=2)), None))
                timeline.append((n, ts(again), self.office[0], "replied", 1))
                timeline.append((n, ts(again + timedelta(days=2)), rep, "rated_satisfied", 1))
            flush()
        flush(final=True)
        self.conn.executemany("INSERT INTO counters (name, year, value) VALUES (?, ?, ?)",
                              sorted((prefix, year, n) for (prefix, year), n in sequence.items()))
        self.counts.update(counts)
        self.counts["open (not counting the just registered)"] = open_count

    # -- the rest ----------------------------------------------------------------------------

    def contacts(self) -> None:
        rng, p = self.rng, self.p
        first = (NOW - timedelta(days=365 * p.years)).date()
        days = (NOW.date() - first).days
        seen: set[tuple[int, str, str]] = set()
        while len(seen) < p.contacts:
            seen.add((rng.choice(self.reps), rng.choice(METHODS), (first + timedelta(days=rng.randrange(days)))
                      .isoformat()))
        self.insert("contacts", "representative_id, method, contacted_on, staff_id, source, source_ref, created_at,"
                    " unit_id", ((r, m, d, rng.choice(self.offices[self.rep_unit[r]]), "import", f"bench-{i}",
                                  self.now_text, self.rep_unit[r])
                     for i, (r, m, d) in enumerate(sorted(seen, key=lambda x: x[2]))))

    def registers(self) -> None:
        rng = self.rng
        first = NOW.date() - timedelta(days=365 * self.p.years)
        rows = []
        for i in range(300):
            day = first + timedelta(days=12 * i)
            kind = "protest" if i % 2 else "major_case_report"
            filed = None if kind == "major_case_report" or (i > 290 and i % 3 == 0) else day + timedelta(days=rng.randint(2, 20))
            rows.append((kind, f"案件{i}", f"卢检〔{day.year}〕{i}号", day.isoformat(),
                         filed.isoformat() if filed and filed <= NOW.date() else None, self.office[0], self.now_text))
        self.insert("npc_register", "kind, case_name, case_number, happened_on, filed_on, recorded_by, created_at", rows)
        periods = [(f"{y}H{h}", date(y, 6 if h == 1 else 12, 28)) for y in range(NOW.year - self.p.years, NOW.year + 1)
                   for h in (1, 2) if date(y, 6 if h == 1 else 12, 28) < NOW.date()]
        self.insert("halfyear_reports", "period, sent_on, marked_by, marked_at",
                    [(code, day.isoformat(), self.office[0], ts(datetime.combine(day, datetime.min.time(), SH)))
                     for code, day in periods])

    def events(self) -> None:
        rng, c = self.rng, self.conn
        first = NOW - timedelta(days=365 * self.p.years)
        kinds = ("forum", "work_report", "inspection", "open_day", "visit", "other")
        attendance: list[tuple[object, ...]] = []
        for i in range(40 * self.p.years):  # held ones
            at = first + timedelta(days=9 * i + 3, hours=2)
            eid = c.execute("INSERT INTO events (kind, title, starts_at, place, audience, created_by, created_at, state,"
                            " held_at) VALUES (?, ?, ?, ?, 'all', ?, ?, 'held', ?) RETURNING id",
                            (kinds[i % 6], f"活动{i}", ts(at), "本院", self.office[0], ts(at - timedelta(days=10)),
                             ts(at))).fetchone()[0]
            attendance += [(eid, pid, ts(at), self.office[0]) for pid in rng.sample(self.reps, 30)]
        self.insert("attendance", "event_id, person_id, recorded_at, recorded_by", attendance)
        # planned: each working day of the next two weeks has one, with invitations and preparation tasks
        invitations: list[tuple[object, ...]] = []
        for i in range(1, 15):
            at = datetime.combine(NOW.date() + timedelta(days=i), datetime.min.time(), SH) + timedelta(hours=14, minutes=30)
            if at.weekday() >= 5:
                continue
            created = NOW - timedelta(days=10)
            eid = c.execute("INSERT INTO events (kind, title, starts_at, place, audience, created_by, created_at)"
                            " VALUES (?, ?, ?, ?, 'all', ?, ?) RETURNING id",
                            (kinds[i % 6], f"计划活动{i}", ts(at), "本院", self.office[0], ts(created))).fetchone()[0]
            for pid in rng.sample(self.reps, min(len(self.reps), 400)):
                state = rng.choices(("invited", "accepted", "declined"), (40, 45, 15))[0]
                invitations.append((eid, pid, state, ts(created), None if state == "invited" else ts(created + timedelta(days=1))))
            for dept in self.departments[:2]:
                c.execute("INSERT INTO event_departments (event_id, department_id, deadline) VALUES (?, ?, ?)",
                          (eid, dept, (at.date() - timedelta(days=3)).isoformat()))
        self.insert("invitations", "event_id, person_id, state, invited_at, answered_at", invitations)

    def cards(self) -> None:
        rng, c = self.rng, self.conn
        recipients: list[tuple[object, ...]] = []
        for i in range(20):
            sent = NOW - timedelta(days=180 * (20 - i)) if i < 19 else NOW - timedelta(days=6, hours=2)
            state = "closed" if i < 19 else "sent"
            cid = c.execute("INSERT INTO cards (title, created_by, sent_at, state, closed_at) VALUES (?, ?, ?, ?, ?)"
                            " RETURNING id", (f"征求意见卡{i}", self.office[0], ts(sent), state,
                                              ts(sent + timedelta(days=30)) if state == "closed" else None)).fetchone()[0]
            c.execute("INSERT INTO card_questions (card_id, position, text, kind) VALUES (?, 1, '意见和建议', 'free_text')",
                      (cid,))
            for pid in rng.sample(self.reps, min(len(self.reps), 500)):
                answered = rng.random() < 0.4
                recipients.append((cid, pid, ts(sent), ts(sent + timedelta(days=2)) if answered else None,
                                   ts(sent + timedelta(days=7)) if state == "closed" and not answered else None))
        self.insert("card_recipients", "card_id, person_id, sent_at, answered_at, reminded_at", recipients)


def generate(db: Path, p: Params) -> dict[str, int]:
    folder = db.parent
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    config = write_config(folder, db)
    asyncio.run(migrate(config))
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")  # generation only: no rollback journal, no WAL to checkpoint
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-200000")
    filler = Filler(conn, p, Sealer.from_text((folder / "liaison.key").read_text("ascii")))  # made by the first start
    for step in (filler.people, filler.matters, filler.contacts, filler.registers, filler.events, filler.cards):
        conn.execute("BEGIN")
        step()
        conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    fired = asyncio.run(warm_up(config))
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    counts = dict(filler.counts)
    counts.update({f"fired at start ({rule})": n for rule, n in sorted(fired.items())})
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"where to write it (default {DEFAULT_DB})")
    parser.add_argument("--matters", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--representatives", type=int, default=5_000)
    parser.add_argument("--departments", type=int, default=24)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--units", type=int, default=1, help="unit 1 and units - 1 counties below it (issue 17)")
    parser.add_argument("--quick", action="store_true", help="a small database (50 000 matters) in seconds")
    args = parser.parse_args()
    if args.quick:
        args.matters, args.contacts, args.representatives = 50_000, 5_000, 1_000
        if args.db == DEFAULT_DB:
            args.db = DEFAULT_DB.with_name("scale-quick.db")
    p = Params(args.matters, args.contacts, args.representatives, args.departments, args.years, args.seed,
               args.units)
    started = time.perf_counter()
    counts = generate(args.db, p)
    seconds = time.perf_counter() - started
    print(f"generated {args.db} in {seconds:.0f} s ({os.path.getsize(args.db) / 2**20:.0f} MiB): {p.describe()}")
    for name, n in counts.items():
        print(f"  {name}: {n}")
    print(f"as of {NOW.isoformat()}")
    print("rerun: .venv/bin/python benchmarks/generate_db.py " + " ".join(
        [f"--db {args.db}"] + ([f"--quick --units {p.units}"] if args.quick else
                               [f"--matters {p.matters} --contacts {p.contacts} --representatives {p.representatives}"
                                f" --departments {p.departments} --years {p.years} --seed {p.seed}"
                                f" --units {p.units}"])))


if __name__ == "__main__":
    main()
