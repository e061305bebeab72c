"""Benchmark (not a test): a broadcast of 2 000 notifications within Telegram's flood limits.

The office sends a briefing (/brief, handlers/liaison/briefings.py) to all representatives, through the real
Telegram channel over HTTP against the fake Bot API (tests/fakebotapi.py) on 127.0.0.1, which enforces
its default flood limits: 30 messages a second overall and one a second per chat, answering 429 with
retry_after beyond them. The office clerk goes through the dialogue like a person would:

    /brief → the title → the text → press 完成 (no files) → press 全体 (all) → press 发送 (send)

and the bot queues one message per representative in the same transaction as the briefing. The bot
runs as `python -m bot run` in a child process, its outbox paced at its normal global rate (25 a
second, the configuration's default; --global-rate to change it) and one message a second per chat.

Reported, medians of --runs runs: the time from the first briefing delivered to the last, the achieved
rate as a fraction of the configured global rate (target ≥ 0.9), the 429s the fake answered, and
messages lost (a representative without the briefing: must be 0) or duplicated (more than one copy;
each must be matched by a send the outbox counted as ambiguous, `outbox.ambiguous`).

    .venv/bin/python benchmarks/broadcast.py [--recipients 2000] [--runs 3] [--global-rate 25] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_common import Child, median, reproduce_line, seed, wait_for  # noqa: E402
from tests.fakebotapi import FakeBotAPI, FakeUser, SentMessage  # noqa: E402
from tests.telegram_env import telegram_config, write_config_file  # noqa: E402

FIRST_CHAT = 200_000
OFFICE_CHAT = 9_001
TITLE = "检察工作情况通报（第12期）"
TEXT = "本院上月办理各类案件情况及下一步工作安排，请各位代表委员审阅并提出意见建议。"


@dataclass
class Run:
    recipients: int
    seconds: float = 0.0
    rate: float = 0.0
    fraction: float = 0.0
    got_429: int = 0
    lost: int = 0
    duplicates: int = 0
    ambiguous: int = 0
    queued_in: float = 0.0  # from pressing Send to the first delivery (the handler's one transaction)
    confirmed_in: float = 0.0  # from pressing Send to the office's own confirmation ("Briefing sent")

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicates <= self.ambiguous


class Clerk:
    """The office clerk's side of the chat: act, then wait for the bot's next message."""

    def __init__(self, fake: FakeBotAPI, user: FakeUser, child: Child) -> None:
        self.fake, self.user, self.child = fake, user, child
        self.seen = 0

    async def act(self, action: object) -> SentMessage:
        assert callable(action)
        action()
        self.seen += 1
        count = self.seen
        await wait_for(lambda: len(self.fake.messages_to(self.user.chat_id)) >= count, 60, "the bot's answer",
                       self.child)
        return self.fake.messages_to(self.user.chat_id)[count - 1]

    async def press(self, message: SentMessage, suffix: str) -> SentMessage:
        data = next((d for _, d in message.buttons() if d.endswith(suffix)), None)
        if data is None:
            raise RuntimeError(f"no button ending in {suffix!r} on the bot's message (step out of order?)")
        return await self.act(lambda: self.user.press(message, data))


async def one_run(recipients: int, global_rate: float, workdir: Path) -> Run:
    run = Run(recipients)
    async with FakeBotAPI() as fake:  # its defaults: 30 messages/s overall, 1/s per chat
        reps = [fake.user(FIRST_CHAT + n, first_name=f"代表{n}") for n in range(recipients)]
        clerk_user = fake.user(OFFICE_CHAT, first_name="办公室")
        config = telegram_config(workdir, fake, per_chat_interval=1.0)
        config_path = write_config_file(config, workdir / "config.toml")
        text = config_path.read_text("utf-8").replace("global_rate = 25", f"global_rate = {global_rate}")
        config_path.write_text(text, "utf-8")
        await seed(config, [u.chat_id for u in reps], [OFFICE_CHAT])
        child = Child([sys.executable, "-m", "bot", "--config", str(config_path), "run", "--channel", "telegram"],
                      workdir / "bot.log")
        child.start()
        try:
            await wait_for(lambda: fake.long_poll_pending, 60, "the bot to poll", child)
            clerk = Clerk(fake, clerk_user, child)
            await clerk.act(lambda: clerk_user.send_text("/brief"))
            await clerk.act(lambda: clerk_user.send_text(TITLE))
            files = await clerk.act(lambda: clerk_user.send_text(TEXT))
            whom = await clerk.press(files, ":next")
            confirm = await clerk.press(whom, ":all")
            send = next(d for _, d in confirm.buttons() if d.endswith(":send"))
            pressed = time.monotonic()
            clerk_user.press(confirm, send)  # its answer comes in the queue, after the briefings written before it
            rep_ids = {u.chat_id for u in reps}
            await wait_for(lambda: all(fake.messages_to(c) for c in rep_ids), 60 + 3 * recipients / global_rate,
                           "every representative's briefing", child)
            await wait_for(lambda: len(fake.messages_to(OFFICE_CHAT)) > clerk.seen, 60, "the office's confirmation",
                           child)
            await wait_for(lambda: _settled(config.storage.database), 60, "the outbox to settle", child)
        finally:
            code = await child.stop()
        if code != 0:
            stop = "did not stop within 30 s of SIGTERM" if code == -1 else f"exited with {code}"
            raise RuntimeError(f"the bot {stop}; log kept at {child.keep_log()}")
        deliveries = [m for m in fake.sent if m.chat_id in rep_ids and TITLE in m.text]
        first, last = min(m.sent_at for m in deliveries), max(m.sent_at for m in deliveries)
        per_rep = {c: sum(TITLE in m.text for m in fake.messages_to(c)) for c in rep_ids}
        run.seconds = last - first
        run.rate = (len(deliveries) - 1) / run.seconds if run.seconds else float("inf")
        run.fraction = run.rate / global_rate
        run.got_429 = sum(1 for _, status, _ in fake.errors if status == 429)
        run.lost = sum(1 for n in per_rep.values() if n == 0)
        run.duplicates = sum(n - 1 for n in per_rep.values() if n > 1)
        run.queued_in = first - pressed
        run.confirmed_in = fake.messages_to(OFFICE_CHAT)[clerk.seen].sent_at - pressed
        with sqlite3.connect(config.storage.database) as conn:
            run.ambiguous = conn.execute(
                "SELECT COALESCE(SUM(ambiguous), 0) FROM outbox WHERE chat_id != ?", (str(OFFICE_CHAT),)).fetchone()[0]
        if fake.internal_errors:
            raise RuntimeError(f"the fake failed: {fake.internal_errors[:3]}")
    return run


async def heads_cost(backlog: int, workdir: Path, repeat: int = 20) -> tuple[float, float, list[str]]:
    """Milliseconds per dispatcher tick query (storage/outbox.heads) with `backlog` messages pending to distinct
    chats and as many already sent, before and after half of them have gone; and its query plan."""
    from datetime import UTC, datetime

    from bot.app import App
    from storage import outbox
    from storage.db import ts

    config = telegram_config(workdir, FakeBotAPI())
    app = await App.open(config)
    try:
        now = datetime.now(UTC)
        rows = [("telegram", str(FIRST_CHAT + n % backlog), "message", "{}", "retry", ts(now), ts(now),
                 "sent" if n >= backlog else "pending") for n in range(2 * backlog)]
        async with app.db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO outbox (channel, chat_id, op, payload, policy, not_before, created_at, state)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        timings = []
        for _ in range(2):
            started = time.perf_counter()
            for _ in range(repeat):
                async with app.db.snapshot() as q:
                    await outbox.heads(q, now, ["telegram"])
            timings.append((time.perf_counter() - started) / repeat * 1000)
            async with app.db.transaction() as tx:  # half of the backlog sent
                await tx.execute("UPDATE outbox SET state = 'sent' WHERE state = 'pending' AND id % 2 = 0")
        async with app.db.snapshot() as q:
            plan = [str(r[3]) for r in await q.all("EXPLAIN QUERY PLAN " + outbox.HEADS_SQL,
                                                     (outbox.NOTIFICATION, "telegram", ts(now), 500))]
    finally:
        await app.close()
    return timings[0], timings[1], plan


def _settled(path: Path) -> bool:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')").fetchone()[0] == 0


async def main_async(args: argparse.Namespace) -> int:
    runs: list[Run] = []
    for number in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="broadcast-bench-") as tmp:
            run = await one_run(args.recipients, args.global_rate, Path(tmp))
        runs.append(run)
        print(f"  run {number + 1}: {run.recipients} briefings in {run.seconds:.1f} s = {run.rate:.2f}/s "
              f"({run.fraction:.2f} of {args.global_rate:g}/s), 429s {run.got_429}, lost {run.lost}, "
              f"duplicates {run.duplicates} (ambiguous sends {run.ambiguous}), first delivery "
              f"{run.queued_in:.1f} s after Send, the office's confirmation {run.confirmed_in:.1f} s after", flush=True)
    print()
    print(f"Broadcast: a briefing (/brief) to {args.recipients} representatives; fake Bot API limits 30 msg/s "
          f"overall and 1/s per chat (429 beyond); bot outbox global rate {args.global_rate:g}/s, 1/s per chat; "
          f"medians of {args.runs} run(s).")
    print()
    print("| recipients | first → last delivery | achieved rate | fraction of configured rate | 429s | lost |"
          " duplicates (ambiguous sends) |")
    print("|---|---|---|---|---|---|---|")
    fraction = median([r.fraction for r in runs])
    print(f"| {args.recipients} | {median([r.seconds for r in runs]):.1f} s | {median([r.rate for r in runs]):.2f}/s |"
          f" {fraction:.3f} | {median([float(r.got_429) for r in runs]):.0f} | {max(r.lost for r in runs)} |"
          f" {max(r.duplicates for r in runs)} ({max(r.ambiguous for r in runs)}) |")
    print()
    print(f"The office's own confirmation of the Send press arrived {median([r.confirmed_in for r in runs]):.1f} s after "
          "it (median): an answer to the person acting, it goes before the briefings waiting (storage/outbox.py);"
          " what it waits for is the handler's one transaction that writes every briefing.")
    print()
    verdict = "met" if fraction >= 0.9 else "NOT met"
    print(f"achieved / configured rate: {fraction:.3f} (target ≥ 0.9: {verdict}); lost: "
          f"{'none' if all(r.lost == 0 for r in runs) else 'SOME'}; every duplicate after an ambiguous send: "
          f"{'yes' if all(r.ok for r in runs) else 'NO'}")
    print()
    print("The dispatcher's query for the next message of each chat (storage/outbox.heads), run on every tick:")
    print()
    print("| messages pending (distinct chats) | ms per query | ms with half of them sent |")
    print("|---|---|---|")
    plan: list[str] = []
    for backlog in args.backlog:
        with tempfile.TemporaryDirectory(prefix="broadcast-heads-") as tmp:
            full, half, plan = await heads_cost(backlog, Path(tmp))
        print(f"| {backlog} | {full:.1f} | {half:.1f} |")
    print()
    print("query plan:", "; ".join(plan))
    print()
    print("reproduce:", reproduce_line("broadcast.py", args.argv))
    return 0 if all(r.ok for r in runs) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--global-rate", type=float, default=25.0,
                        help="the bot's [outbox] global_rate (the configuration accepts up to 30)")
    parser.add_argument("--backlog", type=int, action="append",
                        help="time the dispatcher's query with this many messages pending (repeatable; "
                             "default 2000, 20000 and 100000)")
    parser.add_argument("--quick", action="store_true", help="300 recipients, 1 run")
    argv = sys.argv[1:]
    args = parser.parse_args(argv)
    if args.quick:
        args.recipients, args.runs = min(args.recipients, 300), 1
        args.backlog = args.backlog or [2000, 20000]
    args.backlog = args.backlog or [2000, 20000, 100000]
    args.argv = argv
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
