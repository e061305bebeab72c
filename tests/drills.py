"""The kill drill and the Bot API faults drill (issue 6, drills 4 and 5): one load, one kill
loop, one count, used at two sizes — short in `tests/test_kill.py` (CI), full in
`benchmarks/drills.py` (by hand, results in docs/performance.md).

The load, all through `python -m bot run` (a child process) and the strict fake Bot API
on 127.0.0.1, every person on their own chat:

* representatives submit a suggestion through the whole intake dialogue (kind, subject,
  content, Done, No files, Submit) and receive a receipt; every office member is told;
* an office clerk opens each new matter (`/case N`) and assigns it from the card's buttons
  (Assign, a department, an urger); the representative and the department are told;
* the department's handler opens it from that notice's button and posts a public progress
  note (Progress note, the note, Yes), which is sent to the representative;
* at the end every representative sends /my and must see their matter (updates queued late).

Meanwhile the bot is killed with SIGKILL after a random number (seeded) of API calls and
restarted, `kills` times; and/or a fraction of the calls is answered with a fault.

Then it counts: updates lost (queued but never processed, or processed without an answer),
matters registered twice (or not at all), notifications lost (an outbox message not sent,
or an expected receipt or notice that never arrived), messages sent twice (and whether each
is allowed by the policy of bot/dispatch.py: a message only after a send whose outcome
could not be known, counted in `outbox.ambiguous`; a button answer never), callback
queries answered other than once (none allowed but a `held` answer), the audit chain
(`python -m bot audit verify`), `PRAGMA integrity_check`, and how getUpdates went on.

Nothing here prints or logs a message body or the token.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from bot.app import App
from bot.config import DatabaseConfig, OutboxConfig
from storage import people
from tests.fakebotapi import FAULT_KINDS, FakeBotAPI, FakeUser, SentMessage
from tests.fastchild import fast_monotonic
from tests.telegram_env import ROOT, BotProcess, telegram_config, write_config_file

NUMBER = re.compile(r"LS-\d{4}-\d{4,}")
#: API calls, roughly, that one representative's share of the load causes (sends, answers, polls)
CALLS_PER_USER = 45
T = TypeVar("T")
INJECTED = {0, 429, 500, 502}  # the statuses the fake's FaultPlan answers with (0: held or dropped)
DRILL_FAULT_KINDS = ("429", "500", "502", "timeout", "timeout_after_delivery", "drop")


@dataclass(frozen=True)
class DrillOptions:
    users: int = 20
    kills: int = 3
    seed: int = 1
    departments: int = 2
    clerks: int = 1
    fault_rate: float = 0.0
    """Fraction of the bot's Bot API calls answered with a fault, split evenly over `fault_kinds`."""
    fault_kinds: tuple[str, ...] = DRILL_FAULT_KINDS
    faults_on_get_updates: bool = True
    latency: float = 0.005
    """Simulated round trip of every call: a kill then often lands while a call is in flight."""
    late_waves: int = 3
    """Rounds of /my from every representative after the load, one after another (per phase)."""
    step_timeout: float = 120.0
    """How long a person waits for the bot's answer to one step (generous: a 2-core machine, restarts, back-off)."""
    speed: float = 1.0
    """> 1: the bot's outbox (pacing, back-off) and the fake's flood limits on one time base that many times
    faster than the real one (tests/fastchild.py): the short drills in CI count, they need not wait."""
    database_url: str = ""
    """A PostgreSQL database (empty) to run on instead of an SQLite file."""
    processes: int = 1
    """Bot processes on the one database (PostgreSQL: one leads, the others stand by): each kill hits the next
    in turn, so with two every kill is of the one leading, and the other takes over."""


@dataclass
class DrillResult:
    options: DrillOptions
    duration: float = 0.0
    kills: int = 0
    kills_during_load: int = 0
    kill_points: list[int] = field(default_factory=list)  # API calls into each run when it was killed
    kills_of_leader: int = 0  # with several processes: kills that hit the one leading (the others stand by)
    updates_queued: int = 0
    updates_lost: int = 0  # queued, never stored or never processed
    updates_failed: int = 0  # processed, but the handler failed (inbox state 'failed')
    updates_pending_in_fake: int = 0
    steps_unanswered: list[str] = field(default_factory=list)  # a person who waited in vain, and where
    matters: int = 0
    matters_twice: int = 0
    matters_missing: int = 0
    notifications_expected: int = 0
    notifications_lost: int = 0
    messages_outbox: int = 0
    messages_undelivered: dict[str, int] = field(default_factory=dict)  # outbox message rows not 'sent', by state
    messages_twice: int = 0
    messages_twice_allowed: int = 0
    ambiguous: int = 0  # sends the outbox could not know the outcome of (message and answer rows)
    ambiguous_rows: dict[int, int] = field(default_factory=dict)  # message rows by their count of ambiguous sends
    callbacks: int = 0
    callbacks_answered_once: int = 0
    callbacks_unanswered_held: int = 0  # allowed: the answer was in flight at a crash or timed out (policy "hold")
    callbacks_unanswered_other: int = 0
    callbacks_answered_again: int = 0  # a second answer attempted (refused by Telegram): never allowed
    audit_ok: bool = False
    audit_entries: int = 0
    integrity: str = ""
    final_exit_code: int | None = None
    fault_counts: dict[str, int] = field(default_factory=dict)
    flood_429: int = 0  # 429s from the fake's flood limits (a restarted bot does not know its last send times)
    polls: dict[str, int] = field(default_factory=dict)  # getUpdates calls per phase
    poll_max_gap: float = 0.0
    poll_faults: int = 0  # getUpdates calls answered with a fault
    polls_after_last_fault: int = 0
    late_answered: dict[str, int] = field(default_factory=dict)  # late /my answered, per phase
    bot_exits: list[int] = field(default_factory=list)  # exit codes of bot runs that ended on their own
    log_errors: list[str] = field(default_factory=list)  # ERROR and CRITICAL lines of the bot's log (ids, no bodies)

    @property
    def messages_twice_not_allowed(self) -> int:
        return self.messages_twice - self.messages_twice_allowed

    def failures(self) -> list[str]:
        """What misses the targets (empty when every target is met)."""
        bad = []
        if self.updates_lost or self.updates_failed or self.updates_pending_in_fake:
            bad.append(f"updates lost {self.updates_lost}, failed {self.updates_failed}, "
                       f"left in the fake {self.updates_pending_in_fake}")
        if self.steps_unanswered:
            bad.append(f"{len(self.steps_unanswered)} person(s) waited in vain: {self.steps_unanswered[:5]}")
        if self.matters_twice or self.matters_missing:
            bad.append(f"matters registered twice {self.matters_twice}, missing {self.matters_missing}")
        if self.notifications_lost or self.messages_undelivered:
            bad.append(f"notifications lost {self.notifications_lost}, outbox not sent {self.messages_undelivered}")
        if self.messages_twice_not_allowed:
            bad.append(f"{self.messages_twice_not_allowed} message(s) sent twice without an ambiguous send")
        if self.callbacks_unanswered_other or self.callbacks_answered_again:
            bad.append(f"callback queries unanswered {self.callbacks_unanswered_other}, "
                       f"answered again {self.callbacks_answered_again}")
        if not self.audit_ok:
            bad.append("audit chain not verified")
        if self.integrity != "ok":
            bad.append(f"integrity_check: {self.integrity}")
        if self.final_exit_code != 0:
            bad.append(f"the last bot run exited with {self.final_exit_code} on SIGTERM")
        if self.bot_exits:
            bad.append(f"bot runs ended on their own with exit codes {self.bot_exits}")
        if bad and self.log_errors:
            bad.append(f"the bot's log has {len(self.log_errors)} error line(s), the first: {self.log_errors[:3]}")
        if not self.late_answered or any(n != self.options.users for n in self.late_answered.values()):
            bad.append(f"late updates answered: {self.late_answered}")
        return bad

    def lines(self) -> list[str]:
        o = self.options
        return [
            f"load: {o.users} representatives, {o.clerks} office clerk(s), {o.departments} department(s); "
            f"seed {o.seed}; {self.updates_queued} updates queued, {self.callbacks} button presses",
            f"kills: {self.kills} (SIGKILL; {self.kills_during_load} while the load was running), "
            f"at API call {self.kill_points} of each run"
            + (f"; {self.kills_of_leader} of them of the one leading" if o.processes > 1 else ""),
            f"faults injected: {dict(sorted(self.fault_counts.items()))} "
            f"(rate {o.fault_rate:.0%}{', getUpdates included' if o.fault_rate and o.faults_on_get_updates else ''});"
            f" flood-limit 429s: {self.flood_429}",
            f"updates lost: {self.updates_lost} (failed {self.updates_failed}, left in the fake "
            f"{self.updates_pending_in_fake}, people left waiting {len(self.steps_unanswered)})",
            f"matters registered twice: {self.matters_twice} (registered {self.matters}, "
            f"missing {self.matters_missing})",
            f"notifications lost: {self.notifications_lost} of {self.notifications_expected} expected receipts and "
            f"notices; outbox messages {self.messages_outbox}, not sent {self.messages_undelivered or 0}",
            f"messages sent twice: {self.messages_twice} ({self.messages_twice_allowed} allowed by the policy: "
            f"after a send of unknown outcome; {self.ambiguous} such sends counted in outbox.ambiguous; "
            f"message rows by ambiguous sends {dict(sorted(self.ambiguous_rows.items()))})",
            f"callback queries: {self.callbacks}, answered once {self.callbacks_answered_once}, unanswered "
            f"{self.callbacks_unanswered_held} held by policy + {self.callbacks_unanswered_other} other, "
            f"answered twice {self.callbacks_answered_again}",
            f"audit chain: {'ok' if self.audit_ok else 'BROKEN'} ({self.audit_entries} entries); "
            f"integrity_check: {self.integrity}",
            f"getUpdates calls: {self.polls}; {self.poll_faults} answered with a fault, "
            f"{self.polls_after_last_fault} calls after the last of them; longest gap between two calls "
            f"{self.poll_max_gap:.1f}s; late /my answered (of {o.users}): {self.late_answered}",
            f"duration: {self.duration:.1f}s{_time_base(o.speed)}; verdict: "
            f"{'all targets met' if not self.failures() else 'FAILED'}",
        ]


def _time_base(speed: float) -> str:
    return "" if speed == 1.0 else f" (the outbox and the fake's limits on a time base {speed:g} times faster)"


class Chat:
    """One person's side of a chat: act, then wait for the first later message that shows it worked.

    The bot sends each chat's messages in order, so a late duplicate of an earlier answer always
    arrives before the answer to the next step: predicates need only tell the steps apart.
    """

    def __init__(self, fake: FakeBotAPI, user: FakeUser, timeout: float, label: str) -> None:
        self.fake, self.user, self.timeout, self.label = fake, user, timeout, label
        self.presses: list[str] = []
        self.updates: list[int] = []

    def messages(self) -> list[SentMessage]:
        return self.fake.messages_to(self.user.chat_id)

    async def wait(self, step: str, found: Callable[[SentMessage], bool], since: int = 0) -> SentMessage:
        def match() -> SentMessage | None:
            return next((m for m in self.messages()[since:] if found(m)), None)
        try:
            await self.fake.wait_until(lambda: match() is not None, timeout=self.timeout)
        except TimeoutError:
            raise Unanswered(f"{self.label}: {step}{_instead([m.text for m in self.messages()[since:]])}") from None
        message = match()
        assert message is not None
        return message

    async def say(self, text: str, step: str, found: Callable[[SentMessage], bool]) -> SentMessage:
        since = len(self.messages())
        self.updates.append(self.user.send_text(text))
        return await self.wait(step, found, since)

    async def press(self, message: SentMessage, label: str, step: str,
                    found: Callable[[SentMessage], bool]) -> SentMessage:
        since = len(self.messages())
        self.presses.append(self.user.press_button(message, label))
        return await self.wait(step, found, since)


class Unanswered(Exception):
    """A person waited `step_timeout` for the bot's answer to one step."""


def has_button(label: str) -> Callable[[SentMessage], bool]:
    return lambda m: any(text == label for text, _ in m.buttons())


def says(fragment: str) -> Callable[[SentMessage], bool]:
    return lambda m: fragment in m.text


def titled(title: str, fragment: str) -> Callable[[SentMessage], bool]:
    return lambda m: m.text.startswith(title) and fragment in m.text


def number_in(message: SentMessage) -> str:
    found = NUMBER.search(message.text)
    assert found is not None, "no matter number in the message"
    return found.group(0)


@dataclass
class World:
    config_path: Path
    database: Path | str  # an SQLite file, or a PostgreSQL URL
    reps: list[Chat]
    clerks: list[Chat]
    handlers: list[Chat]  # one per department, in department order
    departments: list[str]
    clerk_names: list[str]


async def _build_world(fake: FakeBotAPI, workdir: Path, opts: DrillOptions) -> World:
    config = telegram_config(workdir, fake, per_chat_interval=0.05,
                             request_timeout=1.0 if opts.fault_rate else 5.0,
                             outbox=OutboxConfig(global_rate=30, per_chat_interval=0.05, max_attempts=8))
    if opts.database_url:
        config = replace(config, database=DatabaseConfig(opts.database_url, takeover_seconds=0.5))
    app = await App.open(config)
    departments = [f"Dept {n + 1}" for n in range(opts.departments)]
    clerk_names = [f"Clerk {n + 1}" for n in range(opts.clerks)]
    try:
        async with app.db.transaction() as tx:
            now = app.clock.now()
            people_ids: dict[int, int] = {}
            dept_ids = [await people.add_department(tx, name, now) for name in departments]
            for n, name in enumerate(clerk_names):
                people_ids[9000 + n] = await people.add_staff(tx, name, None, ["office"], "", now)
            for n, dept in enumerate(dept_ids):
                people_ids[9500 + n] = await people.add_staff(tx, f"Handler {n + 1}", dept, ["handler"], "", now)
            for n in range(opts.users):
                people_ids[8000 + n] = await tx.insert(
                    "INSERT INTO persons (name, body, phone, roster_key, created_at, updated_at)"
                    " VALUES (?, 'npc', '', ?, '2026-01-01', '2026-01-01') RETURNING id",
                    (f"Deputy {n}", f"drill:{n}"))
            for chat_id, person in people_ids.items():
                await people.bind_identity(tx, "telegram", str(chat_id), str(chat_id), person, now)
                await people.set_locale(tx, person, "en", now)
    finally:
        await app.close()
    step = opts.step_timeout

    def chat(chat_id: int, label: str) -> Chat:
        return Chat(fake, fake.user(chat_id, first_name=label, language_code="en"), step, label)

    return World(
        config_path=write_config_file(config, workdir / "config.toml"),
        database=opts.database_url or config.storage.database,
        reps=[chat(8000 + n, f"deputy {n}") for n in range(opts.users)],
        clerks=[chat(9000 + n, f"clerk {n + 1}") for n in range(opts.clerks)],
        handlers=[chat(9500 + n, f"handler {n + 1}") for n in range(opts.departments)],
        departments=departments,
        clerk_names=clerk_names,
    )


# -- the load ------------------------------------------------------------------------------


async def _representative(rep: Chat, n: int) -> str:
    """Submit a suggestion through the whole dialogue; then wait for the two notices that follow."""
    kinds = await rep.say("/submit", "/submit -> kinds", has_button("Suggestion"))
    await rep.press(kinds, "Suggestion", "kind -> subject prompt", says("short subject"))
    await rep.say(f"Drill matter {n}", "subject -> content prompt", says("Please write the content"))
    # the content's own acknowledgement, not any message offering Done: the content prompt offers it too, and a
    # copy of the prompt sent again after a send of unknown outcome may arrive after the content was sent
    received = await rep.say(f"Content of drill matter {n}.", "content -> received",
                             lambda m: "characters so far" in m.text and has_button("Done")(m))
    files = await rep.press(received, "Done", "Done -> files prompt", has_button("No files"))
    summary = await rep.press(files, "No files", "No files -> summary", has_button("Submit"))
    receipt = await rep.press(summary, "Submit", "Submit -> receipt", says("has been registered"))
    number = number_in(receipt)
    await rep.wait("assignment notice", says(f"{number} has been assigned"))
    await rep.wait("progress notice", says(f"Progress of {number}:"))
    return number


async def _clerk(clerk: Chat, index: int, world: World, expected: int) -> None:
    """Assign every new matter whose sequence number falls to this clerk, in the order they arrive."""
    done: set[str] = set()
    def mine(number: str) -> bool:
        return int(number.rsplit("-", 1)[1]) % len(world.clerks) == index

    share = sum(1 for k in range(1, expected + 1) if k % len(world.clerks) == index)
    while len(done) < share:
        notice = await clerk.wait("a new matter", lambda m: m.text.startswith("New matter")
                                  and (n := NUMBER.search(m.text)) is not None
                                  and n.group(0) not in done and mine(n.group(0)))
        number = number_in(notice)
        department = world.departments[int(number.rsplit("-", 1)[1]) % len(world.departments)]
        card = await clerk.say(f"/case {number}", f"/case {number}",
                               lambda m: m.text.startswith(number) and any(t == "Assign" for t, _ in m.buttons()))
        which = await clerk.press(card, "Assign", f"{number} Assign -> departments", says(f"Assign {number} to"))
        urger = await clerk.press(which, department, f"{number} department -> urgers",
                                  has_button(world.clerk_names[index]))
        await clerk.press(urger, world.clerk_names[index], f"{number} urger -> card",
                          lambda m: m.text.startswith(number) and "Handled by" in m.text)
        done.add(number)


async def _handler(handler: Chat, department: str, expected: int) -> None:
    """Post a public progress note on every matter assigned to this department, in the order they arrive."""
    done: set[str] = set()
    while len(done) < expected:
        notice = await handler.wait("an assignment", lambda m: f"is assigned to {department}" in m.text
                                    and number_in(m) not in done)
        number = number_in(notice)
        card = await handler.press(notice, "Open the matter", f"{number} Open -> card",
                                   lambda m: m.text.startswith(number) and has_button("Progress note")(m))
        prompt = await handler.press(card, "Progress note", f"{number} Progress note -> prompt",
                                     says("Please write the progress note"))
        del prompt
        public = await handler.say(f"Drill note on {number}.", f"{number} note -> public?", has_button("Yes, send it"))
        await handler.press(public, "Yes, send it", f"{number} Yes -> done", says("Done."))
        done.add(number)


async def _late(world: World, numbers: dict[int, str]) -> int:
    """Every representative sends /my; count those whose listing shows their matter."""
    async def one(n: int, rep: Chat) -> bool:
        try:
            await rep.say("/my", "late /my", says(numbers.get(n, "LS-")))
            return True
        except Unanswered:
            return False
    return sum(await asyncio.gather(*(one(n, rep) for n, rep in enumerate(world.reps))))


async def _guard(result: DrillResult, coro: Coroutine[Any, Any, T]) -> T | None:
    try:
        return await coro
    except Unanswered as exc:
        result.steps_unanswered.append(str(exc))
    except Exception as exc:  # a wrong answer where a step expected another: reported, not raised
        result.steps_unanswered.append(f"{type(exc).__name__}: {exc}")
    return None


class _PollMonitor:
    """Counts getUpdates calls as they arrive (per phase), the longest gap between two, the faults
    getUpdates was answered with, and the calls made after the last of them."""

    def __init__(self, fake: FakeBotAPI) -> None:
        self.fake = fake
        self.phase = "load"
        self.counts: Counter[str] = Counter()
        self.max_gap = 0.0
        self.faults = 0
        self.after_last_fault = 0
        self._seen = 0
        self._errors_seen = 0
        self._last: float | None = None

    async def run(self) -> None:
        while True:
            await self.fake.wait_until(lambda: len(self.fake.requests) > self._seen
                                       or len(self.fake.errors) > self._errors_seen, timeout=3600)
            errors = self.fake.errors[self._errors_seen:]
            self._errors_seen += len(errors)
            injected = sum(1 for method, status, _ in errors if method == "getUpdates" and status in INJECTED)
            if injected:
                self.faults += injected
                self.after_last_fault = 0
            new = self.fake.requests[self._seen:]
            self._seen += len(new)
            polls = sum(1 for name in new if name == "getUpdates")
            if polls:
                now = time.monotonic()
                if self._last is not None:
                    self.max_gap = max(self.max_gap, now - self._last)
                self._last = now
                self.counts[self.phase] += polls
                self.after_last_fault += polls


# -- the drill -----------------------------------------------------------------------------


async def run_drill(opts: DrillOptions, workdir: Path) -> DrillResult:
    """Run the load with `opts.kills` kills and `opts.fault_rate` faults; count what happened."""
    result = DrillResult(opts)
    started = time.monotonic()
    rng = random.Random(opts.seed)
    async with FakeBotAPI(per_chat_interval=0.03, global_rate=200, latency=opts.latency, seed=opts.seed) as fake:
        if opts.speed != 1.0:
            fake.clock = fast_monotonic(opts.speed)
        world = await _build_world(fake, workdir, opts)
        log = workdir / "bot.log"
        monitor = _PollMonitor(fake)
        monitor_task = asyncio.create_task(monitor.run())
        if opts.fault_rate:
            kinds = [k for k in opts.fault_kinds if k in FAULT_KINDS]
            for kind in kinds:
                setattr(fake.faults, f"p_{kind}", opts.fault_rate / len(kinds))
            fake.faults.include_get_updates = opts.faults_on_get_updates
            fake.faults.timeout_delay = 1.5  # longer than the bot's request timeout (1 s)
        per_department = Counter(k % opts.departments for k in range(1, opts.users + 1))
        load = [asyncio.create_task(_guard(result, _representative(rep, n))) for n, rep in enumerate(world.reps)]
        staff = [asyncio.create_task(_guard(result, _clerk(c, i, world, opts.users)))
                 for i, c in enumerate(world.clerks)]
        staff += [asyncio.create_task(_guard(result, _handler(h, world.departments[i], per_department[i])))
                  for i, h in enumerate(world.handlers)]
        everything = asyncio.gather(*load, *staff)

        logs = [log] + [workdir / f"bot{n + 1}.log" for n in range(1, opts.processes)]
        bots = [BotProcess(world.config_path, path, opts.speed) for path in logs]
        for one in bots:
            one.start()
        spacing = max(2, 2 * CALLS_PER_USER * opts.users // (opts.kills + 1))
        starts = [0] * len(bots)  # where each process's current life begins in its log
        for _ in range(opts.kills):
            point = rng.randint(1, spacing)
            base = len(fake.requests)
            try:
                await fake.wait_until(lambda: len(fake.requests) - base >= point or everything.done()
                                      or any(b.proc is not None and b.proc.poll() is not None for b in bots),
                                      timeout=opts.step_timeout)
            except TimeoutError:
                pass  # the bot is stuck: killed all the same
            if opts.processes > 1:  # kill the one leading: wait until one does (after a kill, one takes over)
                try:
                    await fake.wait_until(lambda: _leading(logs, starts) is not None, timeout=opts.step_timeout)
                except TimeoutError:
                    pass  # nobody leads: counted below (kills_of_leader)
            leader = _leading(logs, starts)
            result.kills_of_leader += int(leader is not None)
            index = 0 if leader is None else leader
            bot = bots[index]
            if bot.proc is not None and bot.proc.poll() is not None:
                result.bot_exits.append(bot.proc.returncode)
            else:
                bot.kill()
            result.kills += 1
            result.kills_during_load += int(not everything.done())
            result.kill_points.append(len(fake.requests) - base)
            starts[index] = logs[index].stat().st_size if logs[index].exists() else 0
            bots[index] = BotProcess(world.config_path, logs[index], opts.speed)
            bots[index].start()
        outcomes = await everything
        numbers = {n: number for n, number in enumerate(outcomes[:opts.users]) if isinstance(number, str)}

        phases = ["late, faults on", "late, faults off"] if opts.fault_rate else ["late"]
        for phase in phases:
            if phase == "late, faults off":
                fake.faults.clear()
            monitor.phase = phase
            for wave in range(opts.late_waves):  # one after another: each wave needs getUpdates called again
                result.late_answered[f"{phase} {wave + 1}"] = await _late(world, numbers)
        try:
            await fake.wait_until(lambda: _outbox_settled(world.database), timeout=opts.step_timeout)
        except TimeoutError:
            pass  # counted below as not sent
        result.final_exit_code = 0
        for bot in bots:
            if bot.proc is not None and bot.proc.poll() is not None:
                result.bot_exits.append(bot.proc.returncode)
                result.final_exit_code = bot.proc.returncode
            else:
                result.final_exit_code = await bot.terminate() or result.final_exit_code
        monitor_task.cancel()
        await asyncio.gather(monitor_task, return_exceptions=True)
        result.polls = dict(monitor.counts)
        result.poll_max_gap = monitor.max_gap
        result.poll_faults, result.polls_after_last_fault = monitor.faults, monitor.after_last_fault
        result.fault_counts = dict(fake.fault_counts)
        result.flood_429 = sum(1 for _, status, _ in fake.errors if status == 429) - fake.fault_counts.get("429", 0)
        result.updates_pending_in_fake = fake.pending_updates
        _count(result, fake, world, numbers)
    _audit(result, world.config_path)
    log_lines = [line for path in sorted(workdir.glob("bot*.log"))
                 for line in path.read_text("utf-8", "replace").splitlines()]
    result.log_errors = [line for line in log_lines if " ERROR " in line or " CRITICAL " in line or "Traceback" in line]
    result.duration = time.monotonic() - started
    return result


def _leading(logs: list[Path], starts: list[int]) -> int | None:
    """Which process leads: the one whose current life's log says it runs (the others stand by); None if none
    does yet."""
    for index, path in enumerate(logs):
        if path.exists():
            with path.open("rb") as log:
                log.seek(starts[index])
                if b"running on Telegram as" in log.read():
                    return index
    return None


def _rows(database: Path | str, sql: str) -> list[tuple[Any, ...]]:
    """A query's rows, from the SQLite file or the PostgreSQL database (the drill reads what the bot left)."""
    if isinstance(database, str):
        import psycopg

        with psycopg.connect(database) as pg:
            return [tuple(r) for r in pg.execute(sql).fetchall()]  # type: ignore[arg-type]
    with sqlite3.connect(database) as conn:
        return [tuple(r) for r in conn.execute(sql).fetchall()]


def _outbox_settled(database: Path | str) -> bool:
    return bool(_rows(database, "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')")[0][0] == 0)


def _count(result: DrillResult, fake: FakeBotAPI, world: World, numbers: dict[int, str]) -> None:
    everyone = [*world.reps, *world.clerks, *world.handlers]
    queued = {str(u) for chat in everyone for u in chat.updates}
    presses = {q for chat in everyone for q in chat.presses}
    result.updates_queued = len(queued) + len(presses)
    result.callbacks = len(presses)
    inbox = _rows(world.database, "SELECT external_id, state, payload FROM inbox")
    outbox = _rows(world.database, "SELECT chat_id, op, state, ambiguous, payload FROM outbox")
    per_rep = dict(_rows(world.database, "SELECT representative_id, COUNT(*) FROM matters GROUP BY 1"))
    reps = [r[0] for r in _rows(world.database, "SELECT id FROM persons WHERE body = 'npc'")]
    # PostgreSQL checks its own pages (with checksums where the cluster has them): nothing to ask it here
    result.integrity = "ok" if isinstance(world.database, str) else str(_rows(world.database,
                                                                              "PRAGMA integrity_check")[0][0])

    states: dict[str, str] = {}
    for external_id, state, payload in inbox:
        query = json.loads(payload).get("callback_query")
        states[str(query["id"]) if query else str(external_id)] = state
    wanted = queued | presses
    result.updates_lost = sum(1 for key in wanted if key not in states or states[key] == "new")
    result.updates_failed = sum(1 for key in wanted if states.get(key) == "failed")

    result.matters = sum(per_rep.values())
    result.matters_twice = sum(count - 1 for count in per_rep.values() if count > 1)
    result.matters_missing = sum(1 for rep in reps if rep not in per_rep)

    # messages: each outbox 'message' row that sends anew is one message in the fake; more is a resend
    rows_sent: Counter[str] = Counter()
    ambiguous: Counter[str] = Counter()
    undelivered: Counter[str] = Counter()
    answers: dict[str, tuple[str, int]] = {}
    for chat_id, op, state, amb, payload in outbox:
        result.ambiguous += amb
        data = json.loads(payload)
        if op == "answer":
            answers[str(data["callback_id"])] = (state, amb)
            continue
        result.messages_outbox += 1
        if amb:
            result.ambiguous_rows[amb] = result.ambiguous_rows.get(amb, 0) + 1
        if state != "sent":
            undelivered[state] += 1
        elif data.get("edit_message_id") is None:
            rows_sent[chat_id] += 1
            ambiguous[chat_id] += amb
    result.messages_undelivered = dict(undelivered)
    for chat in everyone:
        key = str(chat.user.chat_id)
        extra = sum(1 for m in chat.messages() if m.method.startswith("send")) - rows_sent[key]
        if extra < 0:
            result.notifications_lost -= extra  # recorded as sent, never arrived
        elif extra > 0:
            result.messages_twice += extra
            result.messages_twice_allowed += min(extra, ambiguous[key])

    # the notifications the load owes, by content: receipts and notices naming each matter
    owed: list[tuple[Chat, Callable[[SentMessage], bool]]] = []
    never: Callable[[SentMessage], bool] = lambda m: False  # noqa: E731
    for n, rep in enumerate(world.reps):
        number = numbers.get(n)
        if number is None:  # its matter never got as far: all it was owed counts as lost
            owed += [(rep, never)] * (3 + len(world.clerks) + 1)
            continue
        owed += [(rep, says(f"Number: {number}")), (rep, says(f"{number} has been assigned")),
                 (rep, says(f"Progress of {number}:"))]
        owed += [(clerk, titled("New matter", number)) for clerk in world.clerks]
        owed.append((world.handlers[int(number.rsplit("-", 1)[1]) % len(world.handlers)], titled("Assigned", number)))
    result.notifications_expected = len(owed)
    result.notifications_lost += sum(1 for chat, found in owed if not any(found(m) for m in chat.messages()))

    # button answers: one per press; none allowed missing but those held by policy, never two
    for query in presses:
        if len(fake.callback_answers.get(query, [])) == 1:
            result.callbacks_answered_once += 1
        elif answers.get(query, ("", 0))[0] == "held":
            result.callbacks_unanswered_held += 1
        else:
            result.callbacks_unanswered_other += 1
    result.callbacks_answered_again = sum(1 for method, status, _ in fake.errors
                                          if method == "answerCallbackQuery" and status == 400)


def _audit(result: DrillResult, config_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "bot", "--config", str(config_path), "audit", "verify"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    result.audit_ok = done.returncode == 0
    found = re.search(r"(\d+) entries", done.stdout + done.stderr)
    result.audit_entries = int(found.group(1)) if found else 0


# == The same drills over WeCom (issue 14) ==================================================
#
# The load is the same story told through WeCom: representatives (numbered text, as in personal
# WeChat) submit a suggestion; office clerks (button cards) assign each from its card; each
# department's handler posts a public progress note — all through `python -m bot run --channel
# wecom` and the strict fake WeCom, every person a member posting encrypted callbacks.
#
# What differs from Telegram is who keeps an update while the bot is down. Telegram keeps it until
# the bot asks; WeCom posts a callback at most three times and then gives up (90930) — so what WeCom
# gave up on is not the bot's to lose, and a person who got no answer does what a person does: sends
# it again once the bot is back (after a short wait, in case the bot had stored it before it died).
# The targets are therefore: every callback the bot ANSWERED 200 is handled, and handled once;
# no matter registered twice or missing; every receipt and notice arrives; a message arrives twice
# only after a send of unknown outcome; nothing is silently dropped by WeCom's per-member limits.

WECOM_DRILL_FAULT_KINDS = ("500", "502", "busy", "drop", "drop_after", "40014", "42001", "45033")


@dataclass(frozen=True)
class WeComDrillOptions:
    users: int = 8
    kills: int = 2
    seed: int = 1
    departments: int = 2
    clerks: int = 2
    fault_rate: float = 0.0
    """Fraction of the bot's WeCom API calls answered with a fault, split evenly over `fault_kinds`."""
    fault_kinds: tuple[str, ...] = WECOM_DRILL_FAULT_KINDS
    resend_rate: float = 0.1
    """Fraction of member actions WeCom posts twice more although the bot answered (a resend storm)."""
    latency: float = 0.005
    step_timeout: float = 150.0
    grace: float = 6.0
    """After a callback WeCom gave up on: how long a person waits for an answer before sending again."""
    speed: float = 1.0
    """> 1: the bot's outbox (pacing, per-member windows, back-off, a 45033's minute) and the fake's rate
    windows on one time base that many times faster than the real one (tests/fastchild.py)."""


@dataclass
class WeComDrillResult:
    options: WeComDrillOptions
    duration: float = 0.0
    kills: int = 0
    kills_during_load: int = 0
    actions: int = 0  # member actions (messages, presses), resends by a person included
    acknowledged: int = 0  # callbacks the bot answered 200
    acknowledged_lost: int = 0  # answered 200, yet not handled (never stored, or stored and left undone)
    acknowledged_failed: int = 0  # handled, but the handler failed
    handled_twice: int = 0  # one callback (MsgId / event) stored or handled more than once
    given_up: int = 0  # callbacks WeCom gave up on (no 200 in three posts): sent again by the person
    storm_posts: int = 0  # extra identical posts of answered callbacks (resend storms)
    steps_unanswered: list[str] = field(default_factory=list)
    matters: int = 0
    matters_twice: int = 0
    matters_missing: int = 0
    notifications_expected: int = 0
    notifications_lost: int = 0
    notifications_missing: list[str] = field(default_factory=list)  # the first few, by person and kind
    wecom_messages_expected: int = 0  # WeCom messages the outbox recorded as sent
    messages_undelivered: dict[str, int] = field(default_factory=dict)
    messages_twice: int = 0
    messages_twice_allowed: int = 0
    messages_missing: int = 0  # recorded as sent, never arrived
    ambiguous: int = 0
    dropped_by_wecom: int = 0  # over a member's 30/min or 1 000/h: WeCom drops without a word
    truncated_by_wecom: int = 0
    tokens_issued: int = 0
    fault_counts: dict[str, int] = field(default_factory=dict)
    api_errors: dict[int, int] = field(default_factory=dict)
    audit_ok: bool = False
    audit_entries: int = 0
    integrity: str = ""
    final_exit_code: int | None = None
    bot_exits: list[int] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)

    def failures(self) -> list[str]:
        bad = []
        if self.acknowledged_lost or self.acknowledged_failed or self.handled_twice:
            bad.append(f"acknowledged callbacks lost {self.acknowledged_lost}, failed {self.acknowledged_failed}, "
                       f"handled twice {self.handled_twice}")
        if self.steps_unanswered:
            bad.append(f"{len(self.steps_unanswered)} person(s) waited in vain: {self.steps_unanswered[:5]}")
        if self.matters_twice or self.matters_missing:
            bad.append(f"matters registered twice {self.matters_twice}, missing {self.matters_missing}")
        if self.notifications_lost or self.messages_undelivered or self.messages_missing:
            bad.append(f"notifications lost {self.notifications_lost} {self.notifications_missing}, outbox not sent "
                       f"{self.messages_undelivered}, recorded sent but never arrived {self.messages_missing}")
        if self.messages_twice > self.messages_twice_allowed:
            bad.append(f"{self.messages_twice - self.messages_twice_allowed} message(s) sent twice without an "
                       f"ambiguous send")
        if self.dropped_by_wecom or self.truncated_by_wecom:
            bad.append(f"WeCom dropped {self.dropped_by_wecom} message(s) silently, cut {self.truncated_by_wecom}")
        if not self.audit_ok:
            bad.append("audit chain not verified")
        if self.integrity != "ok":
            bad.append(f"integrity_check: {self.integrity}")
        if self.final_exit_code != 0:
            bad.append(f"the last bot run exited with {self.final_exit_code} on SIGTERM")
        if self.bot_exits:
            bad.append(f"bot runs ended on their own with exit codes {self.bot_exits}")
        if bad and self.log_errors:
            bad.append(f"the bot's log has {len(self.log_errors)} error line(s), the first: {self.log_errors[:3]}")
        return bad

    def lines(self) -> list[str]:
        o = self.options
        return [
            f"load (WeCom): {o.users} representatives on numbered text, {o.clerks} clerk(s) and {o.departments} "
            f"handler(s) on cards; seed {o.seed}; {self.actions} member actions",
            f"kills: {self.kills} (SIGKILL; {self.kills_during_load} while the load was running)",
            f"faults injected: {dict(sorted(self.fault_counts.items()))} (rate {o.fault_rate:.0%}); API errcodes "
            f"seen {dict(sorted(self.api_errors.items()))}; access tokens issued {self.tokens_issued}",
            f"callbacks answered 200: {self.acknowledged}, of them lost {self.acknowledged_lost} (failed "
            f"{self.acknowledged_failed}), handled twice {self.handled_twice}; resend-storm posts {self.storm_posts}; "
            f"given up by WeCom while the bot was down and sent again by the person: {self.given_up}",
            f"matters registered twice: {self.matters_twice} (registered {self.matters}, missing {self.matters_missing})",
            f"notifications lost: {self.notifications_lost} of {self.notifications_expected} expected receipts and "
            f"notices; WeCom messages the outbox sent {self.wecom_messages_expected}, not sent "
            f"{self.messages_undelivered or 0}, recorded sent but missing {self.messages_missing}",
            f"messages twice: {self.messages_twice} ({self.messages_twice_allowed} allowed: after a send of unknown "
            f"outcome; {self.ambiguous} such sends); silently dropped by WeCom: {self.dropped_by_wecom}; cut: "
            f"{self.truncated_by_wecom}",
            f"audit chain: {'ok' if self.audit_ok else 'BROKEN'} ({self.audit_entries} entries); "
            f"integrity_check: {self.integrity}",
            f"duration: {self.duration:.1f}s{_time_base(o.speed)}; verdict: "
            f"{'all targets met' if not self.failures() else 'FAILED'}",
        ]


def _instead(texts: list[str]) -> str:
    """What a person waiting in vain got instead (the start of each message since they acted), for the report."""
    return f" (got instead: {[' '.join(t.split())[:50] for t in texts[-3:]]})" if texts else " (got nothing)"


_WX_NUMBERED = re.compile(r"^(\d{1,2})\. (.+)$", re.M)


class _WxPerson:
    """A member in the drill: acts, and when WeCom gave up on the callback (the bot was down) waits for
    the bot to be back and for a late answer, then acts again — as a person would."""

    def __init__(self, drill: _WxDrill, member: Any, label: str) -> None:
        self.drill, self.member, self.label = drill, member, label
        self.mark = 0

    @property
    def messages(self) -> list[Any]:
        return list(self.member.received)

    async def wait(self, step: str, found: Callable[[Any], bool], since: int = 0,
                   timeout: float | None = None) -> Any:
        def match() -> Any:
            return next((m for m in self.member.received[since:] if m.visible and found(m)), None)
        try:
            await self.drill.fake.wait_until(lambda: match() is not None,
                                             timeout=self.drill.opts.step_timeout if timeout is None else timeout)
        except TimeoutError:
            got = [m.text for m in self.member.received[since:] if m.visible]
            raise Unanswered(f"{self.label}: {step}{_instead(got)}") from None
        return match()

    async def act(self, step: str, make: Callable[[], Awaitable[Any]], found: Callable[[Any], bool]) -> Any:
        since = self.mark = len(self.member.received)
        for _ in range(20):
            storm = self.drill.rng.random() < self.drill.opts.resend_rate
            delivery = await make()
            self.drill.record(delivery)
            if delivery.answered:
                if storm:
                    self.drill.storm_posts += 2
                    self.drill.record(await self.drill.repost(self.member, delivery, 2))
                return await self.wait(step, found, since)
            self.drill.given_up += 1
            await self.drill.bot_back()
            try:
                return await self.wait(step, found, since, timeout=self.drill.opts.grace)
            except Unanswered:
                continue  # not stored before the bot died: send it again
        raise Unanswered(f"{self.label}: {step} (never acknowledged)")

    async def say(self, text: str, step: str, found: Callable[[Any], bool]) -> Any:
        return await self.act(step, lambda: self.member.send_text(text), found)

    async def choose(self, label: str, step: str, found: Callable[[Any], bool], on: str = "") -> Any:
        """Press the card's button, or type the number of the latest numbered list (as this member sees it);
        `on`: only a card or list that names it (a matter's number: the card of the matter just acted on is
        sent again after "Done.", and may arrive after the one asked for next)."""
        await self.wait(f"{step} (offered)", lambda m: True, since=self.mark)
        await self.drill.fake.wait_until(lambda: self._offer(label, on) is not None,
                                         timeout=self.drill.opts.step_timeout)
        offer = self._offer(label, on)
        assert offer is not None
        item, key = offer
        if item.kind == "template_card":
            return await self.act(step, lambda: self.member.press(str(item.task_id), key), found)
        return await self.act(step, lambda: self.member.send_text(key), found)

    def _offer(self, label: str, on: str = "") -> tuple[Any, str] | None:
        from tests.wecom_env import offer

        return offer(self.member.received[self.mark:], label, on)


def offers(label: str) -> Callable[[Any], bool]:
    """A message offering `label`: a card's button, or a numbered list (a text, or a card whose buttons show the
    numbers of the choices its words list)."""
    return lambda m: ((m.kind == "template_card" and any(t == label for _, t in m.buttons))
                      or any(t.strip() == label for _, t in _WX_NUMBERED.findall(m.text)))


def wx_says(fragment: str) -> Callable[[Any], bool]:
    return lambda m: fragment in m.text


class _WxDrill:
    def __init__(self, opts: WeComDrillOptions, fake: Any, result: WeComDrillResult) -> None:
        self.opts, self.fake, self.result = opts, fake, result
        self.rng = random.Random(opts.seed * 31 + 7)
        self.deliveries: list[Any] = []
        self.given_up = 0
        self.storm_posts = 0
        self.bot: Any = None  # the WeComBotProcess, to tell a bot that exited from one still starting

    def record(self, delivery: Any) -> None:
        self.deliveries.append(delivery)

    async def repost(self, member: Any, delivery: Any, times: int) -> Any:
        """WeCom posting an answered callback again (the same plaintext, freshly wrapped)."""
        return await self.fake._post_callback(member, delivery.kind, delivery.plaintext, delivery.msg_id,
                                              repeat=times)

    async def bot_back(self) -> None:
        """Wait until the bot's callback server answers WeCom's URL check again."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.opts.step_timeout
        while not await self.fake.verify_callback_url():
            proc = getattr(self.bot, "proc", None)
            if proc is not None and proc.poll() is not None:
                raise Unanswered(f"the bot exited with {proc.returncode} while starting: {self.bot.log_tail()}")
            if loop.time() > deadline:
                raise Unanswered(f"the bot did not come back: {self.bot.log_tail() if self.bot else ''}")
            await self.fake.next_change(0.2)


async def _wx_representative(rep: _WxPerson, n: int) -> str:
    await rep.say("/submit", "/submit -> kinds", offers("Suggestion"))
    await rep.choose("Suggestion", "kind -> subject prompt", wx_says("short subject"))
    await rep.say(f"Drill matter {n}", "subject -> content prompt", wx_says("Please write the content"))
    # the content's own acknowledgement, not any list offering Done: the content prompt offers it too, and a copy
    # of the prompt sent again after a send of unknown outcome may arrive after the content was sent (or was given
    # up by WeCom while the bot was down: then the person must send it again, not choose Done)
    await rep.say(f"Content of drill matter {n}.", "content -> received",
                  lambda m: "characters so far" in m.text and offers("Done")(m))
    await rep.choose("Done", "Done -> files prompt", offers("No files"))
    await rep.choose("No files", "No files -> summary", offers("Submit"))
    receipt = await rep.choose("Submit", "Submit -> receipt", wx_says("has been registered"))
    found = NUMBER.search(receipt.text)
    assert found is not None, "no matter number in the receipt"
    number = found.group(0)
    await rep.wait("assignment notice", wx_says(f"{number} has been assigned"))
    await rep.wait("progress notice", wx_says(f"Progress of {number}:"))
    return number


async def _wx_clerk(clerk: _WxPerson, index: int, clerks: int, departments: list[str], names: list[str],
                    expected: int) -> None:
    done: set[str] = set()

    def mine(number: str) -> bool:
        return int(number.rsplit("-", 1)[1]) % clerks == index

    share = sum(1 for k in range(1, expected + 1) if k % clerks == index)
    while len(done) < share:
        notice = await clerk.wait("a new matter", lambda m: m.text.startswith("New matter")
                                  and (n := NUMBER.search(m.text)) is not None
                                  and n.group(0) not in done and mine(n.group(0)))
        number = NUMBER.search(notice.text).group(0)  # type: ignore[union-attr]
        department = departments[int(number.rsplit("-", 1)[1]) % len(departments)]
        await clerk.say(f"/case {number}", f"/case {number}", offers("Assign"))
        await clerk.choose("Assign", f"{number} Assign -> departments", offers(department))
        await clerk.choose(department, f"{number} department -> urgers", offers(names[index]))
        await clerk.choose(names[index], f"{number} urger -> done", wx_says("Handled by"))
        done.add(number)


async def _wx_handler(handler: _WxPerson, department: str, expected: int) -> None:
    """Post a public progress note on every matter assigned to this department, each as its notice arrives:
    the next notices arrive between a prompt and the typed answer, and never take the number (their one button,
    "Open the matter", is shown as the matter's number to send, not as a numbered choice)."""
    done: set[str] = set()

    def waiting() -> list[str]:
        found = [NUMBER.search(m.text) for m in handler.messages if f"is assigned to {department}" in m.text]
        return sorted({f.group(0) for f in found if f is not None} - done)

    while len(done) < expected:
        await handler.wait("an assignment", lambda m: bool(waiting()))
        number = waiting()[0]
        await handler.say(f"/case {number}", f"{number} /case -> card",
                          lambda m, x=number: offers("Progress note")(m) and x in m.text)  # type: ignore[misc]
        await handler.choose("Progress note", f"{number} Progress note -> prompt", wx_says("progress note"), on=number)
        await handler.say(f"Drill note on {number}.", f"{number} note -> public?", offers("Yes, send it"))
        await handler.choose("Yes, send it", f"{number} Yes -> done", wx_says("Done."))
        done.add(number)


async def _wx_guard(result: WeComDrillResult, coro: Coroutine[Any, Any, T]) -> T | None:
    try:
        return await coro
    except Unanswered as exc:
        result.steps_unanswered.append(str(exc))
    except Exception as exc:
        result.steps_unanswered.append(f"{type(exc).__name__}: {exc}")
    return None


async def run_wecom_drill(opts: WeComDrillOptions, workdir: Path) -> WeComDrillResult:
    """The load over WeCom with `opts.kills` SIGKILLs and `opts.fault_rate` faults; count what happened."""
    from tests.fakewecom import FakeWeCom
    from tests.wecom_env import WeComBotProcess, free_port, wecom_config
    from tests.wecom_env import write_config_file as write_wecom_config

    result = WeComDrillResult(opts)
    started = time.monotonic()
    rng = random.Random(opts.seed)
    async with FakeWeCom(seed=opts.seed, latency=opts.latency) as fake:
        if opts.speed != 1.0:
            fake.rate_clock = fast_monotonic(opts.speed)
        config = wecom_config(workdir, fake, port=free_port(),
                              outbox=OutboxConfig(global_rate=30, per_chat_interval=0.0, max_attempts=8))
        if opts.fault_rate:
            config = replace(config, wecom=replace(config.wecom, request_timeout=1.0))
        fake.faults.hold_seconds = 1.5
        departments = [f"Dept {n + 1}" for n in range(opts.departments)]
        names = [f"Clerk {n + 1}" for n in range(opts.clerks)]
        app = await App.open(config)
        try:
            async with app.db.transaction() as tx:
                now = app.clock.now()
                ids: dict[str, int] = {}
                dept_ids = [await people.add_department(tx, name, now) for name in departments]
                for n, name in enumerate(names):
                    ids[f"clerk{n}"] = await people.add_staff(tx, name, None, ["office"], "", now)
                for n, dept in enumerate(dept_ids):
                    ids[f"handler{n}"] = await people.add_staff(tx, f"Handler {n + 1}", dept, ["handler"], "", now)
                for n in range(opts.users):
                    ids[f"deputy{n}"] = await tx.insert(
                        "INSERT INTO persons (name, body, phone, roster_key, created_at, updated_at)"
                        " VALUES (?, 'npc', '', ?, '2026-01-01', '2026-01-01') RETURNING id",
                        (f"Deputy {n}", f"drill:{n}"))
                for userid, person in ids.items():
                    await people.bind_identity(tx, "wecom", userid, userid, person, now)
                    await people.set_locale(tx, person, "en", now)
        finally:
            await app.close()
        config_path = write_wecom_config(config, workdir / "config.toml")
        fake.callback_url = (f"http://{config.wecom.callback_host}:{config.wecom.callback_port}"
                             f"{config.wecom.callback_path}")
        drill = _WxDrill(opts, fake, result)
        reps = [_WxPerson(drill, fake.member(f"deputy{n}", f"Deputy {n}", via_wechat=True), f"deputy {n}")
                for n in range(opts.users)]
        clerks = [_WxPerson(drill, fake.member(f"clerk{n}", names[n]), f"clerk {n + 1}") for n in range(opts.clerks)]
        handlers = [_WxPerson(drill, fake.member(f"handler{n}", f"Handler {n + 1}"), f"handler {n + 1}")
                    for n in range(opts.departments)]
        if opts.fault_rate:
            kinds = [k for k in opts.fault_kinds if k in FAULT_KINDS_WECOM]
            fake.faults.p = {kind: opts.fault_rate / len(kinds) for kind in kinds}
        log = workdir / "bot.log"
        bot = WeComBotProcess(config_path, log, fake.corp_secret, opts.speed)
        drill.bot = bot
        bot.start()
        await drill.bot_back()

        per_department = Counter(k % opts.departments for k in range(1, opts.users + 1))
        load = [asyncio.create_task(_wx_guard(result, _wx_representative(rep, n))) for n, rep in enumerate(reps)]
        staff = [asyncio.create_task(_wx_guard(result, _wx_clerk(c, i, opts.clerks, departments, names, opts.users)))
                 for i, c in enumerate(clerks)]
        staff += [asyncio.create_task(_wx_guard(result, _wx_handler(h, departments[i], per_department[i])))
                  for i, h in enumerate(handlers)]
        everything = asyncio.gather(*load, *staff)

        def activity() -> int:
            return len(fake.requests) + len(fake.callbacks)

        spacing = max(2, 2 * 30 * opts.users // (opts.kills + 1))
        for _ in range(opts.kills):
            point = rng.randint(1, spacing)
            base = activity()
            try:
                await fake.wait_until(lambda: activity() - base >= point or everything.done()
                                      or bot.proc is not None and bot.proc.poll() is not None,
                                      timeout=opts.step_timeout)
            except TimeoutError:
                pass
            if bot.proc is not None and bot.proc.poll() is not None:
                result.bot_exits.append(bot.proc.returncode)
            else:
                bot.kill()
            result.kills += 1
            result.kills_during_load += int(not everything.done())
            bot = WeComBotProcess(config_path, log, fake.corp_secret, opts.speed)
            drill.bot = bot
            bot.start()
        outcomes = await everything
        numbers = {n: number for n, number in enumerate(outcomes[:opts.users]) if isinstance(number, str)}
        fake.faults.clear()
        try:
            await fake.wait_until(lambda: _outbox_settled(config.storage.database), timeout=opts.step_timeout)
        except TimeoutError:
            pass
        if bot.proc is not None and bot.proc.poll() is not None:
            result.bot_exits.append(bot.proc.returncode)
            result.final_exit_code = bot.proc.returncode
        else:
            result.final_exit_code = await bot.terminate()
        result.fault_counts = dict(fake.fault_counts)
        result.api_errors = dict(Counter(code for _, code, _ in fake.errors))
        result.tokens_issued = fake.tokens_issued
        result.dropped_by_wecom = fake.dropped_count
        result.truncated_by_wecom = len(fake.truncated)
        result.given_up, result.storm_posts = drill.given_up, drill.storm_posts
        _wx_count(result, drill, config.storage.database, reps, clerks, handlers, numbers)
    _audit_wecom(result, config_path, fake.corp_secret)
    log_lines = log.read_text("utf-8", "replace").splitlines()
    result.log_errors = [line for line in log_lines if " ERROR " in line or " CRITICAL " in line or "Traceback" in line]
    result.duration = time.monotonic() - started
    return result


FAULT_KINDS_WECOM = WECOM_DRILL_FAULT_KINDS


def _wx_count(result: WeComDrillResult, drill: _WxDrill, database: Path, reps: list[_WxPerson],
              clerks: list[_WxPerson], handlers: list[_WxPerson], numbers: dict[int, str]) -> None:
    import xml.etree.ElementTree as ET

    with sqlite3.connect(database) as conn:
        inbox = conn.execute("SELECT external_id, state, payload FROM inbox").fetchall()
        outbox = conn.execute("SELECT chat_id, op, state, ambiguous, result FROM outbox").fetchall()
        per_rep = dict(conn.execute("SELECT representative_id, COUNT(*) FROM matters GROUP BY 1").fetchall())
        all_reps = [r[0] for r in conn.execute("SELECT id FROM persons WHERE body = 'npc'")]
        result.integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]

    def identity(fields: dict[str, Any]) -> str:
        if fields.get("MsgType") == "event":
            return "|".join(str(fields.get(k, "")) for k in ("FromUserName", "CreateTime", "Event", "EventKey",
                                                              "TaskId"))
        return f"msg:{fields.get('MsgId', '')}"

    stored: Counter[str] = Counter()
    states: dict[str, str] = {}
    for _external, state, payload in inbox:
        try:
            key = identity(json.loads(payload))
        except ValueError:
            continue
        stored[key] += 1
        states[key] = state
    result.handled_twice = sum(n - 1 for n in stored.values() if n > 1)
    acknowledged = set()
    for delivery in drill.deliveries:
        result.actions += 1
        if not delivery.answered:
            continue
        fields = {child.tag: (child.text or "") for child in ET.fromstring(delivery.plaintext)}
        acknowledged.add(identity(fields))
    result.acknowledged = len(acknowledged)
    result.acknowledged_lost = sum(1 for key in acknowledged if states.get(key) not in ("done", "failed"))
    result.acknowledged_failed = sum(1 for key in acknowledged if states.get(key) == "failed")

    result.matters = sum(per_rep.values())
    result.matters_twice = sum(count - 1 for count in per_rep.values() if count > 1)
    result.matters_missing = sum(1 for rep in all_reps if rep not in per_rep)

    expected: Counter[str] = Counter()
    ambiguous: Counter[str] = Counter()
    undelivered: Counter[str] = Counter()
    for chat_id, op, state, amb, outcome in outbox:
        result.ambiguous += amb
        if op != "message":
            continue
        if state != "sent":
            undelivered[state] += 1
            continue
        ids = (json.loads(outcome) or {}).get("message_ids", []) if outcome else []
        expected[chat_id] += len(ids)
        ambiguous[chat_id] += amb
    result.messages_undelivered = dict(undelivered)
    result.wecom_messages_expected = sum(expected.values())
    for person in [*reps, *clerks, *handlers]:
        key = person.member.userid
        got = sum(1 for m in person.member.received if not m.passive)
        extra = got - expected[key]
        if extra < 0:
            result.messages_missing -= extra
        elif extra > 0:
            result.messages_twice += extra
            result.messages_twice_allowed += min(extra, ambiguous[key])

    owed: list[tuple[_WxPerson, str, Callable[[Any], bool]]] = []
    never: Callable[[Any], bool] = lambda m: False  # noqa: E731
    for n, rep in enumerate(reps):
        number = numbers.get(n)
        if number is None:
            owed += [(rep, "its matter", never)] * (3 + len(clerks) + 1)
            continue
        owed += [(rep, "receipt", wx_says(f"Number: {number}")),
                 (rep, "assigned", wx_says(f"{number} has been assigned")),
                 (rep, "progress", wx_says(f"Progress of {number}:"))]
        owed += [(clerk, f"new {number}", lambda m, x=number: m.text.startswith("New matter") and x in m.text)
                 for clerk in clerks]
        owed.append((handlers[int(number.rsplit("-", 1)[1]) % len(handlers)], f"assigned {number}",
                     lambda m, x=number: x in m.text and "is assigned to " in m.text))
    result.notifications_expected = len(owed)
    missing = [f"{person.label}: {what}" for person, what, found in owed
               if not any(found(m) for m in person.member.received)]
    result.notifications_lost = len(missing)
    result.notifications_missing = missing[:10]


def _audit_wecom(result: WeComDrillResult, config_path: Path, secret: str) -> None:
    env = {**os.environ, "LIAISON_WECOM_SECRET": secret}
    done = subprocess.run([sys.executable, "-m", "bot", "--config", str(config_path), "audit", "verify"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    result.audit_ok = done.returncode == 0
    found = re.search(r"(\d+) entries", done.stdout + done.stderr)
    result.audit_entries = int(found.group(1)) if found else 0
