"""Running the real bot's WeCom channel against the fake WeCom (tests/fakewecom.py): in this
process, or as a child process to kill; and a member's side of a conversation."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import App
from bot.config import Config, OutboxConfig, StorageConfig, WeComConfig
from tests.fakewecom import Delivery, FakeMember, FakeWeCom, Received
from tests.telegram_env import ROOT, bot_command, stop_child

START = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # a Friday morning in Beijing


class TickingClock:
    """The test's clock: starts at a fixed moment and moves on with real (monotonic) time, so that
    retries fall due; `advance` jumps ahead (a token's two hours in an instant). It never reads the
    machine's date."""

    def __init__(self, start: datetime = START) -> None:
        self.start = start
        self.origin = time.monotonic()
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return self.start + self.offset + timedelta(seconds=time.monotonic() - self.origin)

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


class FastMonotonic:
    """Monotonic seconds running `speed` times faster than real ones: given to both the dispatcher's
    pacing and the fake's rate windows, a minute of WeCom's per-member limit passes in 60/speed real
    seconds on both sides alike, so tests of long dialogues need not wait whole minutes. Sixty times:
    a minute in a second (a dialogue's pacing is not what those tests measure; the broadcast's test,
    which measures it at the outbox's ceiling, chooses its own speed)."""

    def __init__(self, speed: float = 60.0) -> None:
        self.speed = speed
        self.origin = time.monotonic()

    def __call__(self) -> float:
        return (time.monotonic() - self.origin) * self.speed


def wecom_config(tmp: Path, fake: FakeWeCom, *, port: int = 0, **overrides: Any) -> Config:
    wecom = WeComConfig(corp_id=fake.corp_id, agent_id=fake.agent_id, secret=fake.corp_secret, token=fake.token,
                        encoding_aes_key=fake.encoding_aes_key, api_base=fake.api_base,
                        callback_host="127.0.0.1", callback_port=port, callback_path="/wecom",
                        request_timeout=5.0, global_rate=30)
    # the data key beside the configuration, as `load` resolves it: a Config built here without it would put
    # the key in the current directory, and a child process reading the file would not find it
    config = Config(storage=StorageConfig(database=tmp / "bot.db", files_dir=tmp / "files", key_file=tmp / "liaison.key"),
                    outbox=OutboxConfig(global_rate=30, per_chat_interval=0.0, max_attempts=8),
                    wecom=wecom, demo=False)
    return replace(config, **overrides)


def write_config_file(config: Config, path: Path) -> Path:
    """The TOML the child process reads (the secret goes in its environment, never in the file)."""
    w = config.wecom
    path.write_text(f"""
[storage]
database = "{config.storage.database}"
files_dir = "{config.storage.files_dir}"
key_file = "{config.storage.key_file}"
[outbox]
per_chat_interval = {config.outbox.per_chat_interval}
global_rate = {config.outbox.global_rate}
[wecom]
corp_id = "{w.corp_id}"
agent_id = {w.agent_id}
token = "{w.token}"
encoding_aes_key = "{w.encoding_aes_key}"
api_base = "{w.api_base}"
callback_host = "{w.callback_host}"
callback_port = {w.callback_port}
callback_path = "{w.callback_path}"
request_timeout = {w.request_timeout}
representatives = "{w.representatives}"
staff = "{w.staff}"
global_rate = {w.global_rate}
""", "utf-8")
    return path


@dataclass
class RunningBot:
    app: App
    channel: Any  # bot.channels.wecom.WeComChannel


@asynccontextmanager
async def bot_in_process(config: Config, fake: FakeWeCom, clock: Any,
                         monotonic: Callable[[], float] | None = None) -> AsyncIterator[RunningBot]:
    """The whole bot with its WeCom channel on this event loop, the fake's callbacks pointed at it.
    `monotonic`: one time base for the outbox's pacing and the fake's rate windows (FastMonotonic)."""
    from bot.channels.wecom import WeComChannel

    app = await App.open(config, clock)
    if monotonic is not None:
        app.dispatcher.monotonic = monotonic
        fake.rate_clock = monotonic
    channel = WeComChannel(app)
    app.add_channel(channel)
    await channel.start()
    fake.callback_url = channel.callback_url
    stop = asyncio.Event()
    task = asyncio.create_task(app.run([channel], stop, scheduler=False))
    try:
        yield RunningBot(app, channel)
    finally:
        stop.set()
        await task
        await channel.stop()
        await app.close()


async def outbox_sent(running: RunningBot, fake: FakeWeCom, timeout: float = 60.0) -> None:
    """Wait until every stored callback is handled and the outbox holds nothing unsent (the last notices
    of a flow go out after its last step)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with running.app.db.snapshot() as q:
            left = (await q.scalar("SELECT COUNT(*) FROM outbox WHERE state != 'sent'")
                    + await q.scalar("SELECT COUNT(*) FROM inbox WHERE state != 'done'"))
        if not left:
            return
        if loop.time() > deadline:
            raise TimeoutError(f"{left} inbox or outbox item(s) still open after {timeout}s\n{fake.dump()}")
        await fake.next_change(0.2)


_NUMBERED = re.compile(r"^(\d{1,2})\. (.+)$", re.M)


class Chat:
    """One member's phone: act, then wait for the message that shows it worked. Choices are taken the
    way this member sees them: a card's button, or the number of a numbered list typed back."""

    def __init__(self, fake: FakeWeCom, member: FakeMember, timeout: float = 45.0) -> None:
        self.fake, self.member, self.timeout = fake, member, timeout
        self.mark = 0  # choices are looked for in what arrived since the member's last action

    @property
    def messages(self) -> list[Received]:
        return self.member.received

    async def expect(self, action: Callable[[], Awaitable[Delivery]], until: str) -> Received:
        start = self.mark = len(self.messages)
        delivery = await action()
        assert delivery.answered, f"the bot did not answer a callback: {delivery.statuses}"
        return await self.wait_for(until, since=start)

    async def say(self, text: str, until: str = "") -> Received:
        return await self.expect(lambda: self.member.send_text(text), until)

    async def press(self, label: str, until: str = "") -> Received:
        """Choose `label` on the latest message offering it (waiting for it: a card follows its text):
        press the card's button, or type the number of the numbered list."""
        await self.fake.wait_until(lambda: self._offer(label) is not None, timeout=self.timeout,
                                   what=lambda: f"a choice {label!r} offered to {self.member.userid}")
        offer = self._offer(label)
        assert offer is not None
        item, key = offer
        if item.kind == "template_card":
            return await self.expect(lambda: self.member.press(str(item.task_id), key), until)
        return await self.say(key, until)

    def _offer(self, label: str) -> tuple[Received, str] | None:
        return offer(self.messages[self.mark:], label)

    async def wait_for(self, fragment: str, since: int = 0) -> Received:
        def found() -> bool:
            return any(fragment in m.text and m.visible for m in self.messages[since:])

        await self.fake.wait_until(found, timeout=self.timeout,
                                   what=lambda: f"{self.member.userid} to receive {fragment!r}; it has: "
                                                + "".join(f"\n  {m.kind}{' [off]' if m.disabled else ''}: "
                                                          f"{m.text[:70]!r} {m.buttons or ''}"
                                                          for m in self.messages[-25:]))
        return [m for m in self.messages[since:] if fragment in m.text and m.visible][-1]

    def choices(self) -> list[str]:
        """The choices of the latest message that offers any, as this member sees them."""
        for index in range(len(self.messages) - 1, -1, -1):
            item = self.messages[index]
            if item.kind == "template_card" and item.visible and item.buttons:
                return [text for text, _key in _card_choices(self.messages, index)]
            if item.kind == "text" and _NUMBERED.search(item.text):
                return [text.strip() for _, text in _NUMBERED.findall(item.text)]
        return []


def offer(messages: list[Received], label: str, on: str = "") -> tuple[Received, str] | None:
    """The card offering `label` among `messages` (what arrived since the member's last action), with the key of its
    button; or the numbered list doing so — only the latest list counts, as a typed number answers the last message
    that had choices — with the number to type. `on`: only a card or list that names it (a matter's number)."""
    numbered_seen = False
    for index in range(len(messages) - 1, -1, -1):
        item = messages[index]
        if on and on not in item.text and not (item.kind == "template_card" and on in _words_before(messages, index)):
            continue
        if item.kind == "template_card" and item.visible and not item.disabled:
            for text, key in _card_choices(messages, index):
                if text == label:
                    return item, key
        if item.kind == "text" and not numbered_seen and _NUMBERED.search(item.text):
            numbered_seen = True
            numbers = {text.strip(): n for n, text in _NUMBERED.findall(item.text)}
            if label in numbers:
                return item, numbers[label]
    return None


def _card_choices(messages: list[Received], index: int) -> list[tuple[str, str]]:
    """The choices of the card `messages[index]` as a member reads them, each with its button's key: the buttons'
    texts, or, on a card whose buttons show numbers (labels too long for a button), the numbered list in the
    card's words or in the text just before it."""
    card = messages[index]
    if not card.buttons or not all(text.isdigit() for _key, text in card.buttons):
        return [(text, key) for key, text in card.buttons]
    words = card.text if _NUMBERED.search(card.text) else _words_before(messages, index)
    keys = {text: key for key, text in card.buttons}
    return [(label.strip(), keys[n]) for n, label in _NUMBERED.findall(words) if n in keys]


def _words_before(messages: list[Received], index: int) -> str:
    """The text just before the card `messages[index]`: its words, when they were too long for the card."""
    return next((m.text for m in reversed(messages[:index]) if m.kind == "text"), "")


def free_port() -> int:
    """A port free on 127.0.0.1 now (the child bot's callback server must keep one across restarts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class WeComBotProcess:
    """`python -m bot run --channel wecom` as a child process, to be killed with SIGKILL; the app's
    secret in its environment only; `speed` > 1: its outbox on a time base that many times faster
    (tests/fastchild.py; give the fake's rate_clock the same)."""

    def __init__(self, config_path: Path, log_path: Path, secret: str, speed: float = 1.0) -> None:
        self.config_path = config_path
        self.log_path = log_path
        self.secret = secret
        self.speed = speed
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONFAULTHANDLER": "1", "LIAISON_WECOM_SECRET": self.secret}
        env.pop("LIAISON_TELEGRAM_TOKEN", None)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [*bot_command(self.speed), "--config", str(self.config_path), "run", "--channel", "wecom"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        log.close()

    def log_tail(self, lines: int = 5) -> str:
        """The end of the child's log (ids and states only, never message bodies), for a failed start."""
        try:
            text = self.log_path.read_text("utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:])

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    async def terminate(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        return await stop_child(self.proc, timeout)
