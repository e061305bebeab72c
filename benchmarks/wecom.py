"""Benchmarks (not tests) of the WeCom channel against the fake WeCom (tests/fakewecom.py) on 127.0.0.1.

intake     N bound representatives each go through the whole intake dialogue at once, through
           encrypted callbacks — /submit, 1 (建议), the subject, the text, 1 (完成), 1 (无附件),
           1 (确认提交) — seven callbacks each, each answered by a message (numbered text, as in
           personal WeChat); a simulated member posts its next callback once the answer to the
           previous one has reached its phone. The bot is `python -m bot run --channel wecom` in a child
           process (its outbox's global pace raised above the 30/s the config file accepts: this
           measures capacity; the per-member windows of WeCom stay, as in production), one office clerk
           bound and told of every new matter. The floor, in the same invocation, the same fake and the
           same members: a bare aiohttp callback echo (a child process too) that checks the signature,
           decrypts, sends the text back with message/send and answers the callback. Reported: answers
           a second, p50/p99 from the callback's post to the answer's arrival, at 0 and 100 ms of
           simulated API round trip. Target (issue 14): bot ≥ 0.5 × echo. `--side pipeline` (not run
           by default) is the capacity bot with its handlers replaced by one short answer an update: what
           storing, answering, sending and marking cost without the regulation's work.

broadcast  (a) a briefing to M members (default 2 000) through the real /brief dialogue, the bot at the
           configured pace (wecom.global_rate 30/s, as the test environment sets it): how long, the rate, none
           silently dropped; (b) a burst of K notices (default 60) to ONE member — K representatives
           submit at once and the one office clerk is told of each — against WeCom's 30 a minute to one
           member: every notice arrives, none dropped, never more than 30 in any 60 s; beside it, in
           the same run, a naive sender posting K messages straight to message/send: what WeCom drops.

    .venv/bin/python benchmarks/wecom.py intake [--users 200] [--runs 3] [--latency 0 --latency 100] [--quick]
    .venv/bin/python benchmarks/wecom.py broadcast [--members 2000] [--burst 60] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.bench_common import ENV, Child, median, percentile, reproduce_line  # noqa: E402
from tests.fakewecom import FakeMember, FakeWeCom, Received  # noqa: E402
from tests.wecom_env import free_port, wecom_config, write_config_file  # noqa: E402

RELAXED_GLOBAL_RATE = 100_000.0
STEPS = 7
SIDES = ("echo", "bot", "capacity", "pipeline")
LABELS = {"echo": "bare aiohttp callback echo",
          "bot": "liaison bot as shipped (0.5 s between two messages to a member)",
          "capacity": "liaison bot, no fixed gap per member (capacity)",
          "pipeline": "the capacity bot with every update answered '已收到' and nothing else (its pipeline alone)"}
PIPELINE_ANSWER = "已收到"
DIALOGUE = ["/submit", "1", "关于村道路灯维修的建议", "村东头的道路没有路灯，晚上出行不便，建议尽快安装。", "1", "1", "1"]


JSON = {"Content-Type": "application/json; charset=utf-8"}


def utf8_json(body: dict[str, Any]) -> bytes:
    """A request body as WeCom takes it: UTF-8, no \\uXXXX escapes (90313 40033; aiohttp's json= escapes)."""
    return json.dumps(body, ensure_ascii=False).encode()


# -- the children ------------------------------------------------------------------------------


def bot_child(config_path: Path, log_path: Path, secret: str, global_rate: float | None,
              member_gap: float | None = None, pipeline: bool = False) -> Child:
    argv = [sys.executable, str(Path(__file__).resolve()), "child-bot", str(config_path)]
    if global_rate is not None:
        argv += ["--global-rate", str(global_rate)]
    env = {**ENV, "LIAISON_WECOM_SECRET": secret}
    if os.environ.get("BENCH_PROFILE"):
        env["BENCH_PROFILE"] = os.environ["BENCH_PROFILE"]
    if member_gap is not None:
        env["BENCH_MEMBER_GAP"] = str(member_gap)
    if pipeline:
        env["BENCH_PIPELINE"] = "1"
    return Child(argv, log_path, env)


def echo_child(fake: FakeWeCom, port: int, log_path: Path) -> Child:
    argv = [sys.executable, str(Path(__file__).resolve()), "child-echo", "--api-base", fake.api_base,
            "--port", str(port), "--corp-id", fake.corp_id, "--agent-id", str(fake.agent_id),
            "--token", fake.token, "--aes-key", fake.encoding_aes_key]
    return Child(argv, log_path, {**ENV, "ECHO_WECOM_SECRET": fake.corp_secret})


def _run_bot(config_path: Path, global_rate: float | None) -> int:
    from bot.__main__ import setup_logging
    from bot.config import load
    from bot.runner import run

    config = load(config_path)
    if global_rate is not None:
        config = replace(config, wecom=replace(config.wecom, global_rate=global_rate))
    if os.environ.get("BENCH_MEMBER_GAP") is not None:  # capacity: no fixed gap per member (WeCom's windows stay)
        from bot.channels import wecom

        gap = float(os.environ["BENCH_MEMBER_GAP"])
        original = wecom.WeComChannel.__init__

        def patched(self: Any, app: Any) -> None:
            original(self, app)
            self.pacing = replace(self.pacing, per_chat_interval=gap)

        wecom.WeComChannel.__init__ = patched  # type: ignore[method-assign]
    if os.environ.get("BENCH_PIPELINE"):  # the pipeline alone: each update stored, answered once, sent, marked
        from bot import router
        from bot.context import Context
        from bot.messages import Reply

        async def answer_only(ctx: Context, routes: Any, **_kwargs: Any) -> None:
            await ctx.reply(Reply(PIPELINE_ANSWER))

        router.dispatch = answer_only  # type: ignore[assignment]
    setup_logging()  # as `python -m bot run` does
    profile = os.environ.get("BENCH_PROFILE")  # a path: write the bot's cProfile statistics there
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        try:
            return int(profiler.runcall(asyncio.run, run(config, "wecom")))
        finally:
            profiler.dump_stats(profile)
    return asyncio.run(run(config, "wecom"))


def _run_echo(args: argparse.Namespace) -> int:
    """A bare WeCom callback echo: verify, decrypt, send the text back, answer 200 (no storage, no queue)."""
    import aiohttp
    from aiohttp import web

    from tests.fakewecom import WeComCipher

    cipher = WeComCipher(args.token, args.aes_key, args.corp_id)
    secret = os.environ["ECHO_WECOM_SECRET"]

    async def main() -> None:
        session = aiohttp.ClientSession()
        async with session.get(f"{args.api_base}/cgi-bin/gettoken",
                               params={"corpid": args.corp_id, "corpsecret": secret}) as resp:
            token = (await resp.json())["access_token"]

        async def callback(request: web.Request) -> web.Response:
            q = request.query
            encrypted = ET.fromstring(await request.text()).findtext("Encrypt") or ""
            if cipher.signature(q["timestamp"], q["nonce"], encrypted) != q["msg_signature"]:
                return web.Response(status=403)
            message, receiver = cipher.decrypt(encrypted)
            if receiver != args.corp_id:
                return web.Response(status=403)
            if request.method == "GET":
                return web.Response(text=message.decode())
            root = ET.fromstring(message)
            if root.findtext("MsgType") == "text":
                body = {"touser": root.findtext("FromUserName"), "msgtype": "text", "agentid": args.agent_id,
                        "text": {"content": root.findtext("Content") or ""}}
                async with session.post(f"{args.api_base}/cgi-bin/message/send", params={"access_token": token},
                                        data=utf8_json(body), headers=JSON) as resp:
                    answer = await resp.json()
                if answer.get("errcode"):  # the run counts no answer for it; say why in the log
                    print(f"message/send refused: {answer}", file=sys.stderr, flush=True)
            return web.Response(text="")

        async def verify(request: web.Request) -> web.Response:
            q = request.query
            if cipher.signature(q["timestamp"], q["nonce"], q["echostr"]) != q["msg_signature"]:
                return web.Response(status=403)
            return web.Response(text=cipher.decrypt(q["echostr"])[0].decode())

        app = web.Application()
        app.router.add_post("/wecom", callback)
        app.router.add_get("/wecom", verify)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", args.port).start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await runner.cleanup()
        await session.close()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    return 0


# -- shared ------------------------------------------------------------------------------------


async def seed(config: Any, representatives: list[str], office: list[str]) -> None:
    """A fresh database through the real migrations; people bound to these WeCom userids directly."""
    from bot.app import App
    from storage import people

    app = await App.open(config)
    try:
        now = app.clock.now()
        async with app.db.transaction() as tx:
            for n, userid in enumerate(representatives):
                person = await tx.insert(
                    "INSERT INTO persons (name, body, phone, roster_key, created_at, updated_at)"
                    " VALUES (?, 'npc', '', ?, '2026-01-01', '2026-01-01') RETURNING id", (f"代表{n}", f"k{n}"))
                await people.bind_identity(tx, "wecom", userid, userid, person, now)
            for n, userid in enumerate(office):
                clerk = await people.add_staff(tx, f"办公室{n}", None, ["office"], "", now)
                await people.bind_identity(tx, "wecom", userid, userid, clerk, now)
    finally:
        await app.close()


async def until_up(fake: FakeWeCom, child: Child, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not await fake.verify_callback_url():
        if not child.alive():
            raise RuntimeError(f"the child exited; see {child.log_path}")
        if time.monotonic() > deadline:
            raise TimeoutError("the child's callback server did not come up")
        await asyncio.sleep(0.05)


class Arrivals:
    """Wakes the simulated member whose phone got a message (fake.on_message), instead of polling."""

    def __init__(self, fake: FakeWeCom) -> None:
        self.counts: dict[str, int] = {}
        self.waiting: dict[str, tuple[int, asyncio.Future[None]]] = {}
        fake.on_message = self._arrived

    def _arrived(self, member: FakeMember, item: Received) -> None:
        count = self.counts[member.userid] = self.counts.get(member.userid, 0) + 1
        entry = self.waiting.get(member.userid)
        if entry is not None and count >= entry[0] and not entry[1].done():
            entry[1].set_result(None)

    async def nth(self, member: FakeMember, n: int) -> Received:
        if self.counts.get(member.userid, 0) < n:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.waiting[member.userid] = (n, future)
            try:
                await future
            finally:
                del self.waiting[member.userid]
        return member.received[n - 1]


# -- intake --------------------------------------------------------------------------------------


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
    child_cpu: float = 0.0  # CPU seconds the child (bot or echo) used while the members talked to it
    parent_cpu: float = 0.0  # and this process (the fake WeCom and its members)

    @property
    def cpu_ms(self) -> float:
        """The child's CPU milliseconds per answer."""
        return self.child_cpu * 1000 / self.answered if self.answered else float("nan")

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0


async def _member(arrivals: Arrivals, member: FakeMember, run: Run, first: list[float], last: list[float]) -> None:
    for n, text in enumerate(DIALOGUE if run.side != "echo" else [f"第{k}条消息" for k in range(STEPS)], start=1):
        posted = time.monotonic()
        if not first:
            first.append(posted)
        delivery = await member.send_text(text)
        if not delivery.answered:
            raise RuntimeError(f"callback not answered: {delivery.statuses}")
        answer = await arrivals.nth(member, n)
        run.latencies.append(answer.sent_at - posted)
        run.answered += 1
        last[0] = max(last[0], answer.sent_at)


async def intake_run(side: str, latency_ms: int, users: int, max_seconds: float, workdir: Path) -> Run:
    run = Run(side, latency_ms, users)
    async with FakeWeCom(latency=latency_ms / 1000) as fake:
        members = [fake.member(f"rep{n:04d}", f"代表{n}", via_wechat=True) for n in range(users)]
        port = free_port()
        fake.callback_url = f"http://127.0.0.1:{port}/wecom"
        if side != "echo":
            fake.member("office0", "办公室")
            config = wecom_config(workdir, fake, port=port)
            await seed(config, [m.userid for m in members], ["office0"])
            gap = 0.0 if side in ("capacity", "pipeline") else None
            child = bot_child(write_config_file(config, workdir / "config.toml"), workdir / "bot.log",
                              fake.corp_secret, RELAXED_GLOBAL_RATE, gap, pipeline=side == "pipeline")
        else:
            child = echo_child(fake, port, workdir / "echo.log")
        child.start()
        try:
            await until_up(fake, child)
            arrivals = Arrivals(fake)
            first: list[float] = []
            last = [0.0]
            cpu_before, parent_before = child.cpu_seconds(), time.process_time()
            tasks = [asyncio.create_task(_member(arrivals, m, run, first, last)) for m in members]
            done, pending = await asyncio.wait(tasks, timeout=max_seconds)
            run.child_cpu, run.parent_cpu = child.cpu_seconds() - cpu_before, time.process_time() - parent_before
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for task in done:
                task.result()
            run.capped = bool(pending)
            run.seconds = last[0] - first[0] if run.answered else 0.0
        finally:
            code = await child.stop()
        if side != "echo":
            run.check = _check_intake(workdir / "bot.db", members, fake, run.capped, pipeline=side == "pipeline")
        else:
            run.check = "ok" if not run.capped and not fake.errors else f"FAILED: API errors {fake.errors[:3]}"
        if code != 0:
            run.check = f"FAILED: the child {'did not stop' if code == -1 else f'exited with {code}'}; {run.check}"
    return run


def _check_intake(database: Path, members: list[FakeMember], fake: FakeWeCom, capped: bool,
                  pipeline: bool = False) -> str:
    with sqlite3.connect(database) as conn:
        matters = conn.execute("SELECT COUNT(*), COUNT(DISTINCT representative_id) FROM matters").fetchone()
        undone = conn.execute("SELECT COUNT(*) FROM inbox WHERE state != 'done'").fetchone()[0]
    if capped:
        return f"cut at the time limit: {matters[0]} matters"
    receipts = sum((PIPELINE_ANSWER if pipeline else "已登记") in m.received[-1].text for m in members if m.received)
    problems = []
    if tuple(matters) != ((0, 0) if pipeline else (len(members), len(members))):
        problems.append(f"matters {tuple(matters)}")
    if undone:
        problems.append(f"{undone} callbacks not done")
    if receipts != len(members):
        problems.append(f"{receipts} receipts")
    if fake.dropped_count or fake.internal_errors:
        problems.append(f"dropped {fake.dropped_count}, fake errors {fake.internal_errors[:3]}")
    return "ok" if not problems else "FAILED: " + ", ".join(problems)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


async def intake(args: argparse.Namespace) -> int:
    results: dict[tuple[int, str], list[Run]] = {}
    for number in range(args.runs):
        for latency in args.latency:
            for side in args.sides:
                with tempfile.TemporaryDirectory(prefix="wecom-bench-") as tmp:
                    run = await intake_run(side, latency, args.users, args.max_seconds, Path(tmp))
                results.setdefault((latency, side), []).append(run)
                note = " (cut at the time limit)" if run.capped else ""
                print(f"  run {number + 1}: {latency:>3} ms {side:<4} {run.answered:>5} answers in {run.seconds:6.2f} s "
                      f"= {run.rate:7.1f}/s, p50 {_ms(percentile(run.latencies, 50))} ms, p99 "
                      f"{_ms(percentile(run.latencies, 99))} ms, CPU {run.cpu_ms:.2f} ms an answer (members and fake "
                      f"{run.parent_cpu * 1000 / max(run.answered, 1):.2f}){note} {run.check}", flush=True)
    print()
    print(f"WeCom intake: {args.users} members × {STEPS} callbacks, medians of {args.runs} run(s).")
    print()
    print("| API round trip | side | answers/s | p50 | p99 | CPU an answer | answers | check |")
    print("|---|---|---|---|---|---|---|---|")
    failed = False
    rates: dict[tuple[int, str], float] = {}
    for latency in args.latency:
        for side in args.sides:
            runs = results[(latency, side)]
            rate = rates[(latency, side)] = median([r.rate for r in runs])
            label = LABELS[side]
            checks = "; ".join(sorted({r.check for r in runs}))
            failed |= any(r.check.startswith("FAILED") for r in runs)
            print(f"| {latency} ms | {label} | {rate:.1f} | {_ms(median([percentile(r.latencies, 50) for r in runs]))} ms |"
                  f" {_ms(median([percentile(r.latencies, 99) for r in runs]))} ms |"
                  f" {median([r.cpu_ms for r in runs]):.2f} ms |"
                  f" {median([float(r.answered) for r in runs]):.0f} | {checks} |")
    print()
    for latency in args.latency if "echo" in args.sides else []:
        echo = rates[(latency, "echo")]
        for side in [s for s in ("bot", "capacity", "pipeline") if s in args.sides]:
            paired = median([b.rate / e.rate for e, b in zip(results[(latency, "echo")], results[(latency, side)],
                                                            strict=True) if e.rate])
            ratio = rates[(latency, side)] / echo if echo else float("nan")
            verdict = (f" (target ≥ 0.5: {'met' if min(ratio, paired) >= 0.5 else 'NOT met'})"
                       if side == "capacity" else "")
            print(f"{side} / echo at {latency} ms: {ratio:.2f}× (ratio of the medians), {paired:.2f}× (median of the "
                  f"per-run ratios){verdict}")
    print()
    print("reproduce:", reproduce_line("wecom.py", args.argv))
    return 1 if failed else 0


# -- broadcast -----------------------------------------------------------------------------------


async def _briefing(members_n: int, workdir: Path) -> list[str]:
    async with FakeWeCom() as fake:
        port = free_port()
        fake.callback_url = f"http://127.0.0.1:{port}/wecom"
        members = [fake.member(f"rep{n:04d}", f"代表{n}", via_wechat=True) for n in range(members_n)]
        office = fake.member("office0", "办公室")
        config = wecom_config(workdir, fake, port=port)  # wecom.global_rate 30 (tests/wecom_env.py)
        await seed(config, [m.userid for m in members], ["office0"])
        child = bot_child(write_config_file(config, workdir / "config.toml"), workdir / "bot.log",
                          fake.corp_secret, None)
        child.start()
        try:
            await until_up(fake, child)
            Arrivals(fake)
            for text in ("/brief", "本院2026年工作情况通报",
                         "今年以来，本院依法履行法律监督职责，现将主要工作情况通报如下，敬请各位代表委员监督指导。"):
                seen = len(office.received)
                await office.send_text(text)
                await fake.wait_until(lambda: len(office.received) > seen, timeout=60)
            for label in ("完成", "全体人大代表和政协委员"):
                await _choose(fake, office, label)
            await fake.wait_until(lambda: _offered(office, "发送") is not None, timeout=60)
            started = time.monotonic()
            await _choose(fake, office, "发送")
            await fake.wait_until(lambda: all(m.received for m in members), timeout=600)
            seconds = time.monotonic() - started
        finally:
            code = await child.stop()
        times = sorted(m.received[0].sent_at for m in members)
        busiest = max(sum(1 for t in times if s <= t < s + 1.0) for s in times)
        once = sum(1 for m in members if len(m.received) == 1)
        return [f"(a) briefing to {members_n} members at wecom.global_rate 30/s: all arrived in {seconds:.1f} s = "
                f"{members_n / seconds:.1f} messages/s (busiest second {busiest}); each once: {once}; silently "
                f"dropped by WeCom: {fake.dropped_count}; API errors {len(fake.errors)}; bot stopped with {code}"]


def _offered(member: FakeMember, label: str) -> tuple[Received, str] | None:
    """The latest card (or numbered list, as the latest with choices) offering `label`, with its key or number."""
    for item in reversed(member.received):
        if item.kind == "template_card" and not item.disabled:
            for key, text in item.buttons:
                if text == label:
                    return item, key
        if item.kind == "text" and "\n1. " in item.text:
            for line in item.text.splitlines():
                number, _, text = line.partition(". ")
                if number.isdigit() and text.strip() == label:
                    return item, number
            return None
    return None


async def _choose(fake: FakeWeCom, member: FakeMember, label: str) -> None:
    await fake.wait_until(lambda: _offered(member, label) is not None, timeout=60)
    found = _offered(member, label)
    assert found is not None
    item, key = found
    if item.kind == "template_card":
        await member.press(str(item.task_id), key)
    else:
        await member.send_text(key)


async def _burst(k: int, workdir: Path) -> list[str]:
    async with FakeWeCom() as fake:
        port = free_port()
        fake.callback_url = f"http://127.0.0.1:{port}/wecom"
        reps = [fake.member(f"rep{n:04d}", f"代表{n}", via_wechat=True) for n in range(k)]
        office = fake.member("office0", "办公室")
        naive_target = fake.member("naive0", "另一位成员")
        fake.token_policy = "reuse"  # the naive sender asks for the app's token too: it must not end the bot's
        config = wecom_config(workdir, fake, port=port)
        await seed(config, [m.userid for m in reps], ["office0"])
        child = bot_child(write_config_file(config, workdir / "config.toml"), workdir / "bot.log",
                          fake.corp_secret, None)
        child.start()
        try:
            await until_up(fake, child)
            arrivals = Arrivals(fake)

            async def submit(member: FakeMember) -> None:
                for n, text in enumerate(DIALOGUE, start=1):
                    await member.send_text(text)
                    await arrivals.nth(member, n)

            started = time.monotonic()
            await asyncio.gather(*(submit(m) for m in reps))
            # beside it, a naive sender: k messages straight to message/send, no pacing
            import aiohttp

            async with aiohttp.ClientSession() as session:
                async with session.get(f"{fake.api_base}/cgi-bin/gettoken",
                                       params={"corpid": fake.corp_id, "corpsecret": fake.corp_secret}) as resp:
                    token = (await resp.json())["access_token"]
                for n in range(k):
                    async with session.post(f"{fake.api_base}/cgi-bin/message/send", params={"access_token": token},
                                            data=utf8_json({"touser": "naive0", "msgtype": "text",
                                                            "agentid": fake.agent_id, "text": {"content": f"通知{n}"}}),
                                            headers=JSON) as resp:
                        await resp.read()
            notices = lambda: [m for m in office.received if m.text.startswith("新事项")]  # noqa: E731
            await fake.wait_until(lambda: len(notices()) >= k, timeout=900)
            seconds = time.monotonic() - started
        finally:
            code = await child.stop()
        times = sorted(m.sent_at for m in office.received)
        busiest = max(sum(1 for t in times if s <= t < s + 60.0) for s in times)
        return [f"(b) {k} new-matter notices to one office member: all {len(notices())} arrived in {seconds:.0f} s; "
                f"most in any 60 s: {busiest} (WeCom's limit 30; the bot's window 25); silently dropped: "
                f"{len(fake.dropped.get('office0', []))}; bot stopped with {code}",
                f"    the naive sender, {k} messages at once to one member: {len(naive_target.received)} delivered, "
                f"{len(fake.dropped.get('naive0', []))} dropped by WeCom without a word (errcode 0 each time); API errors "
                f"{len(fake.errors)}"]


async def broadcast(args: argparse.Namespace) -> int:
    lines = []
    with tempfile.TemporaryDirectory(prefix="wecom-bench-") as tmp:
        lines += await _briefing(args.members, Path(tmp))
    with tempfile.TemporaryDirectory(prefix="wecom-bench-") as tmp:
        lines += await _burst(args.burst, Path(tmp))
    print("\n".join(lines))
    print()
    print("reproduce:", reproduce_line("wecom.py", args.argv))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="which", required=True)
    p_intake = sub.add_parser("intake")
    p_intake.add_argument("--users", type=int, default=200)
    p_intake.add_argument("--runs", type=int, default=3)
    p_intake.add_argument("--latency", type=int, action="append")
    p_intake.add_argument("--max-seconds", type=float, default=60.0)
    p_intake.add_argument("--quick", action="store_true", help="50 members, 1 run, 0 ms only")
    p_intake.add_argument("--side", dest="sides", action="append", choices=SIDES,
                          help="only these sides (default: echo, bot and capacity; the ratios need echo)")
    p_broadcast = sub.add_parser("broadcast")
    p_broadcast.add_argument("--members", type=int, default=2000)
    p_broadcast.add_argument("--burst", type=int, default=60)
    p_broadcast.add_argument("--quick", action="store_true", help="300 members, a burst of 35")
    p_bot = sub.add_parser("child-bot")
    p_bot.add_argument("config", type=Path)
    p_bot.add_argument("--global-rate", type=float)
    p_echo = sub.add_parser("child-echo")
    for name in ("--api-base", "--corp-id", "--token", "--aes-key"):
        p_echo.add_argument(name, required=True)
    p_echo.add_argument("--port", type=int, required=True)
    p_echo.add_argument("--agent-id", type=int, required=True)
    argv = sys.argv[1:]
    args = parser.parse_args(argv)
    args.argv = argv
    if args.which == "child-bot":
        return _run_bot(args.config, args.global_rate)
    if args.which == "child-echo":
        return _run_echo(args)
    if args.which == "intake":
        if args.quick:
            args.users, args.runs = min(args.users, 50), 1
            args.latency = args.latency or [0]
        args.latency = args.latency or [0, 100]
        args.sides = [side for side in SIDES if side in (args.sides or SIDES[:3])]
        return asyncio.run(intake(args))
    if args.quick:
        args.members, args.burst = min(args.members, 300), min(args.burst, 35)
    return asyncio.run(broadcast(args))


if __name__ == "__main__":
    sys.exit(main())
