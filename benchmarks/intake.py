"""Benchmark (not a test): intake throughput and latency, against a bare echo bot, in one invocation.

N bound representatives (default 200) each go through the whole intake dialogue at once, through
the real Telegram channel over HTTP against the fake Bot API (tests/fakebotapi.py) on 127.0.0.1:

    /submit → press 建议 → the subject → the text → press 完成 → press 无附件 → press 提交 → the receipt

seven updates each, every one answered by a message. Each simulated user sends its next update only
after the bot's answer to the previous one has arrived (a real user's rhythm). The bot runs as a child
process (`bot.runner.run`, as `python -m bot run`: inbox first, synchronous=FULL, the outbox), with one
office clerk bound, who is told of every new matter as in production.

The floor, in the same invocation and driven the same way through the same fake server: a bare
python-telegram-bot echo bot (stock Application, sequential update processing, run_polling, one
reply_text per message), whose users send seven text messages each.

Both sides at 0 ms and at 100 ms simulated Bot API round trip (every call, getUpdates included).
This measures processing capacity, so the fake's flood limits are off for both sides (per chat and
global) and the bot's outbox pacing is set to match (no per-chat interval, a global rate far above
what is reached); benchmarks/broadcast.py measures the limits. At 100 ms the stock echo bot answers
about 9 updates a second, so each run is cut at --max-seconds: updates/s counts the answers within.

Reported per side: updates/s (answers from the first update queued to the last answer) and p50/p99
of the time from the moment an update was queued in the fake to the moment the fake accepted the bot's
answer to it; medians of --runs runs. Targets (issue 6): at 0 ms, bot ≥ 0.5 × echo; at 100 ms,
bot ≥ 7 × echo.

    .venv/bin/python benchmarks/intake.py [--users 200] [--runs 3] [--latency 0 --latency 100] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_common import (  # noqa: E402
    Child,
    bot_child,
    echo_child,
    median,
    percentile,
    reproduce_line,
    seed,
    wait_for,
)
from bot.config import DatabaseConfig  # noqa: E402
from tests.fakebotapi import FakeBotAPI, FakeUser, SentMessage  # noqa: E402
from tests.pg_cluster import Cluster  # noqa: E402
from tests.telegram_env import telegram_config, write_config_file  # noqa: E402

RELAXED_GLOBAL_RATE = 100_000.0  # the bot's outbox pace in this benchmark: never the limit
FIRST_CHAT = 100_000
OFFICE_CHAT = 9_001
STEPS = 7

Action = Callable[[FakeUser, SentMessage | None], object]


def _press(suffix: str) -> Action:
    """Press the button whose data ends in `suffix` on the bot's last message (the dialogue's own button)."""
    def act(user: FakeUser, last: SentMessage | None) -> object:
        assert last is not None
        for _label, data in last.buttons():
            if data.endswith(suffix):
                return user.press(last, data)
        raise RuntimeError(f"no button ending in {suffix!r} on the bot's message (step out of order?)")
    return act


def _say(text: str) -> Action:
    return lambda user, last: user.send_text(text)


DIALOGUE: list[Action] = [
    _say("/submit"),
    _press(":suggestion"),
    _say("关于村道路灯维修的建议"),
    _say("村东头的道路没有路灯，晚上出行不便，建议尽快安装。"),
    _press(":next"),  # 完成
    _press(":next"),  # 无附件
    _press(":submit"),
]
ECHO: list[Action] = [_say(f"第{k}条消息") for k in range(STEPS)]
LABELS = {"echo": "echo bot (stock PTB)", "bot": "liaison bot, full dialogue (SQLite)",
          "bot-pg": "liaison bot, full dialogue (PostgreSQL)"}


@dataclass
class Run:
    side: str
    latency_ms: int
    users: int
    answered: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    capped: bool = False
    check: str = ""

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0


class Waiters:
    """Wakes the simulated user whose chat got a message (fake.on_sent), instead of polling."""

    def __init__(self, fake: FakeBotAPI) -> None:
        self.fake = fake
        self.counts: dict[int, int] = {}
        self.waiting: dict[int, tuple[int, asyncio.Future[SentMessage]]] = {}
        fake.on_sent = self._sent

    def _sent(self, message: SentMessage) -> None:
        count = self.counts[message.chat_id] = self.counts.get(message.chat_id, 0) + 1
        entry = self.waiting.get(message.chat_id)
        if entry is not None and count >= entry[0] and not entry[1].done():
            entry[1].set_result(message)

    async def nth(self, chat_id: int, n: int) -> SentMessage:
        """The chat's n-th message (1-based) once it has arrived."""
        if self.counts.get(chat_id, 0) >= n:
            return self.fake.messages_to(chat_id)[n - 1]
        future: asyncio.Future[SentMessage] = asyncio.get_running_loop().create_future()
        self.waiting[chat_id] = (n, future)
        try:
            await future
        finally:
            del self.waiting[chat_id]
        return self.fake.messages_to(chat_id)[n - 1]


async def _user(waiters: Waiters, user: FakeUser, steps: list[Action], run: Run, first: list[float],
                last: list[float]) -> None:
    previous: SentMessage | None = None
    for n, action in enumerate(steps, start=1):
        queued = time.monotonic()
        if not first:
            first.append(queued)
        action(user, previous)
        previous = await waiters.nth(user.chat_id, n)
        run.latencies.append(previous.sent_at - queued)
        run.answered += 1
        last[0] = max(last[0], previous.sent_at)


async def one_run(side: str, latency_ms: int, users: int, max_seconds: float, workdir: Path,
                  database_url: str | None = None) -> Run:
    """`database_url`: side bot-pg's PostgreSQL database (empty; the bot migrates it as at a first start)."""
    run = Run(side, latency_ms, users)
    async with FakeBotAPI(per_chat_interval=0.0, global_rate=0.0, latency=latency_ms / 1000) as fake:
        people = [fake.user(FIRST_CHAT + n, first_name=f"代表{n}") for n in range(users)]
        child: Child
        database: Path | str = database_url or workdir / "bot.db"
        if side != "echo":
            fake.user(OFFICE_CHAT, first_name="办公室")
            config = telegram_config(workdir, fake, per_chat_interval=0.0)
            if database_url:
                config = replace(config, database=DatabaseConfig(database_url))
            await seed(config, [u.chat_id for u in people], [OFFICE_CHAT])
            child = bot_child(write_config_file(config, workdir / "config.toml"), workdir / "bot.log",
                              RELAXED_GLOBAL_RATE, database_url)
            steps = DIALOGUE
        else:
            child = echo_child(fake.base_url, fake.base_file_url, fake.token, workdir / "echo.log")
            steps = ECHO
        child.start()
        try:
            await wait_for(lambda: fake.long_poll_pending, 60, f"the {side} to poll", child)
            waiters = Waiters(fake)
            first: list[float] = []
            last = [0.0]
            tasks = [asyncio.create_task(_user(waiters, u, steps, run, first, last)) for u in people]
            done, pending = await asyncio.wait(tasks, timeout=max_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for task in done:
                task.result()  # a step out of order raises here
            run.capped = bool(pending)
            run.seconds = last[0] - first[0] if first else 0.0
        finally:
            code = await child.stop()
        if side != "echo":
            run.check = _check_bot(database, people, fake, run.capped)
        if code != 0:  # the figures stand; the failure to stop is reported with its log
            stop = "did not stop within 30 s of SIGTERM" if code == -1 else f"exited with {code}"
            run.check = f"FAILED: {stop}, log kept at {child.keep_log()}; {run.check}"
    return run


def _check_bot(database: Path | str, people: list[FakeUser], fake: FakeBotAPI, capped: bool) -> str:
    """Every representative has exactly one matter and its receipt; every update stored was processed."""
    queries = ("SELECT COUNT(*), COUNT(DISTINCT representative_id) FROM matters",
               "SELECT COUNT(*) FROM inbox WHERE state != 'done'")
    if isinstance(database, str):
        import psycopg

        with psycopg.connect(database) as pg:
            rows = [pg.execute(sql).fetchone() for sql in queries]
    else:
        with sqlite3.connect(database) as conn:
            rows = [conn.execute(sql).fetchone() for sql in queries]
    assert rows[0] is not None and rows[1] is not None
    matters, undone = tuple(rows[0]), rows[1][0]
    if capped:
        return f"cut at the time limit: {matters[0]} matters"
    receipts = sum("已登记" in fake.messages_to(u.chat_id)[-1].text for u in people)
    problems = []
    if tuple(matters) != (len(people), len(people)):
        problems.append(f"matters {tuple(matters)}")
    if undone:
        problems.append(f"{undone} updates not done")
    if receipts != len(people):
        problems.append(f"{receipts} receipts")
    if fake.internal_errors:
        problems.append(f"fake errors {fake.internal_errors[:3]}")
    return "ok" if not problems else "FAILED: " + ", ".join(problems)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


async def main_async(args: argparse.Namespace) -> int:
    results: dict[tuple[int, str], list[Run]] = {}
    cluster = Cluster.start(durable=True) if "bot-pg" in args.side else None
    try:
        await _runs(args, results, cluster)
    finally:
        if cluster is not None:
            cluster.stop()
    return _report(args, results)


async def _runs(args: argparse.Namespace, results: dict[tuple[int, str], list[Run]], cluster: Cluster | None) -> None:
    made = 0
    for run_number in range(args.runs):
        for latency in args.latency:
            for side in args.side:
                url = None
                if side == "bot-pg":
                    assert cluster is not None
                    made += 1
                    cluster.psql(f"CREATE DATABASE bench_{made}")
                    url = cluster.url(f"bench_{made}")
                if args.keep:
                    workdir = args.keep / f"{side}-{latency}ms-run{run_number + 1}"
                    workdir.mkdir(parents=True, exist_ok=True)
                    run = await one_run(side, latency, args.users, args.max_seconds, workdir, url)
                else:
                    with tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp:
                        run = await one_run(side, latency, args.users, args.max_seconds, Path(tmp), url)
                results.setdefault((latency, side), []).append(run)
                note = " (cut at the time limit)" if run.capped else ""
                print(f"  run {run_number + 1}: {latency:>3} ms {side:<4} {run.answered:>5} answers in "
                      f"{run.seconds:6.2f} s = {run.rate:7.1f} updates/s, p50 {_ms(percentile(run.latencies, 50))} ms,"
                      f" p99 {_ms(percentile(run.latencies, 99))} ms{note} {run.check}", flush=True)


def _report(args: argparse.Namespace, results: dict[tuple[int, str], list[Run]]) -> int:
    print()
    print(f"Intake: {args.users} users × {STEPS} updates each, medians of {args.runs} run(s); fake Bot API flood "
          "limits off for both sides, bot outbox pacing relaxed to match (per-chat interval 0, global "
          f"{RELAXED_GLOBAL_RATE:.0f}/s); bot and echo bot each a child process.")
    print()
    print("| Bot API latency | side | updates/s | p50 latency | p99 latency | answers | check |")
    print("|---|---|---|---|---|---|---|")
    rates: dict[tuple[int, str], float] = {}
    failed = False  # a bot run that lost something or did not stop
    for latency in args.latency:
        for side in args.side:
            runs = results[(latency, side)]
            rate = rates[(latency, side)] = median([r.rate for r in runs])
            p50 = median([percentile(r.latencies, 50) for r in runs])
            p99 = median([percentile(r.latencies, 99) for r in runs])
            answered = median([float(r.answered) for r in runs])
            label = LABELS[side]
            checks = "; ".join(sorted({r.check for r in runs})) if side != "echo" else "-"
            failed |= side != "echo" and any(r.check.startswith("FAILED") for r in runs)
            capped = " (time-limited)" if any(r.capped for r in runs) else ""
            print(f"| {latency} ms | {label} | {rate:.1f}{capped} | {_ms(p50)} ms | {_ms(p99)} ms | {answered:.0f} |"
                  f" {checks} |")
    print()
    targets = {0: 0.5, 100: 7.0}
    for latency in args.latency if "bot" in args.side and "bot-pg" in args.side else []:
        # issue 17: PostgreSQL (on disk, every commit flushed) against SQLite (synchronous=FULL), run by run
        pg, lite = results[(latency, "bot-pg")], results[(latency, "bot")]
        ratio = median([r.rate for r in pg]) / median([r.rate for r in lite])
        paired = median([p.rate / q.rate for q, p in zip(lite, pg) if q.rate])
        print(f"PostgreSQL / SQLite at {latency} ms: {ratio:.2f}× (ratio of the medians), {paired:.2f}× (median of the "
              f"per-run ratios) (target ≥ 0.8: {'met' if min(ratio, paired) >= 0.8 else 'NOT met'})")
    for latency in args.latency if "bot" in args.side and "echo" in args.side else []:
        ratio = rates[(latency, "bot")] / rates[(latency, "echo")] if rates[(latency, "echo")] else float("nan")
        # each run's bot against the echo bot run just before it (the machine's load drifts between runs)
        paired = median([b.rate / e.rate for e, b in zip(results[(latency, "echo")], results[(latency, "bot")])
                         if e.rate])
        target = targets.get(latency)
        verdict = "" if target is None else f" (target ≥ {target}: {'met' if min(ratio, paired) >= target else 'NOT met'})"
        print(f"bot / echo at {latency} ms: {ratio:.2f}× (ratio of the medians), {paired:.2f}× (median of the "
              f"per-run ratios){verdict}")
    print()
    print("reproduce:", reproduce_line("intake.py", args.argv))
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency", type=int, action="append", help="simulated Bot API latency in ms "
                        "(repeatable; default 0 and 100)")
    parser.add_argument("--max-seconds", type=float, default=30.0,
                        help="cut each run after this long (the stock echo bot at 100 ms needs minutes)")
    parser.add_argument("--keep", type=Path, help="keep each run's database and logs in this folder")
    parser.add_argument("--side", choices=list(LABELS), action="append",
                        help="run only this side (repeatable; default echo and bot); bot-pg: the bot on a PostgreSQL "
                             "database (a throw-away cluster on disk, fsync on, from the installed server binaries)")
    parser.add_argument("--quick", action="store_true", help="50 users, 1 run, runs cut at 6 s")
    argv = sys.argv[1:]
    args = parser.parse_args(argv)
    if args.quick:
        args.users, args.runs, args.max_seconds = min(args.users, 50), 1, min(args.max_seconds, 6.0)
    args.latency = args.latency or [0, 100]
    args.side = args.side or ["echo", "bot"]
    args.argv = argv
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
