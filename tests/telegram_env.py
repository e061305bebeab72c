"""Running the real bot against the fake Bot API: in this process, or as a child process to kill."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.config import Config, OutboxConfig, StorageConfig, TelegramConfig
from tests.fakebotapi import FakeBotAPI, FakeUser, SentMessage

ROOT = Path(__file__).resolve().parent.parent


def telegram_config(tmp: Path, fake: FakeBotAPI, *, per_chat_interval: float = 0.25, request_timeout: float = 5.0,
                    **overrides: object) -> Config:
    config = Config(
        storage=StorageConfig(database=tmp / "bot.db", files_dir=tmp / "files", key_file=tmp / "liaison.key"),
        telegram=TelegramConfig(token=fake.token, bot_username="LiaisonTestBot", base_url=fake.base_url,
                                base_file_url=fake.base_file_url, poll_timeout=1, request_timeout=request_timeout),
        outbox=OutboxConfig(global_rate=25, per_chat_interval=per_chat_interval, max_attempts=8),
    )
    return replace(config, **overrides)  # type: ignore[arg-type]


def write_config_file(config: Config, path: Path) -> Path:
    t = config.telegram
    path.write_text(
        f"""
[storage]
database = "{config.storage.database}"
files_dir = "{config.storage.files_dir}"
key_file = "{config.storage.key_file}"
[telegram]
token = "{t.token}"
bot_username = "{t.bot_username}"
base_url = "{t.base_url}"
base_file_url = "{t.base_file_url}"
poll_timeout = {t.poll_timeout}
request_timeout = {t.request_timeout}
[outbox]
per_chat_interval = {config.outbox.per_chat_interval}
global_rate = {config.outbox.global_rate}
""" + (f"""[database]
url = "{config.database.url}"
takeover_seconds = {config.database.takeover_seconds}
""" if config.database.url else ""),
        "utf-8",
    )
    return path


@dataclass
class RunningBot:
    app: App
    channel: TelegramChannel


@asynccontextmanager
async def bot_in_process(config: Config) -> AsyncIterator[RunningBot]:
    """The whole bot, Telegram channel included, on this event loop; stopped in order on exit."""
    app = await App.open(config)
    channel = TelegramChannel(config.telegram, app.files, config.intake.max_file_mb)
    app.add_channel(channel)
    await channel.start()
    stop = asyncio.Event()
    task = asyncio.create_task(app.run([channel], stop))
    try:
        yield RunningBot(app, channel)
    finally:
        stop.set()
        await task
        await channel.stop()
        await app.close()


class BotProcess:
    """`python -m bot run` as a child process, to be killed with SIGKILL; `speed` > 1: its outbox on a time
    base that many times faster (tests/fastchild.py; give the fake the same)."""

    def __init__(self, config_path: Path, log_path: Path, speed: float = 1.0) -> None:
        self.config_path = config_path
        self.log_path = log_path
        self.speed = speed
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "PTB_TIMEDELTA": "true", "PYTHONPATH": str(ROOT), "PYTHONFAULTHANDLER": "1"}
        env.pop("LIAISON_TELEGRAM_TOKEN", None)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [*bot_command(self.speed), "--config", str(self.config_path), "run", "--channel", "telegram"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        log.close()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    async def terminate(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        return await stop_child(self.proc, timeout)


def bot_command(speed: float = 1.0) -> list[str]:
    """`python -m bot`, or at `speed` > 1 the same through tests/fastchild.py."""
    return [sys.executable, "-m", "bot"] if speed == 1.0 else [sys.executable, "-m", "tests.fastchild", str(speed)]


async def stop_child(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> int:
    """SIGTERM, then wait without blocking the event loop: the fake Bot API on it must go on answering
    the calls a bot makes while it stops. A child not stopped by then gets SIGUSR1 (the liaison bot
    logs its asyncio tasks and where they wait) and SIGABRT (faulthandler logs every thread); -1."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if time.monotonic() > deadline:
            proc.send_signal(signal.SIGUSR1)
            await asyncio.sleep(1.0)
            proc.send_signal(signal.SIGABRT)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            return -1
        await asyncio.sleep(0.05)
    return proc.returncode


async def last_message(fake: FakeBotAPI, user: FakeUser, count: int, timeout: float = 15.0) -> SentMessage:
    """Wait until the user has received `count` messages in all; return the latest."""
    messages = await fake.wait_for_messages(user.chat_id, count, timeout=timeout)
    return messages[-1]


class Chat:
    """One person's Telegram chat: act, then wait for the message that shows it worked."""

    def __init__(self, fake: FakeBotAPI, user: FakeUser) -> None:
        self.fake, self.user = fake, user

    def messages(self) -> list[SentMessage]:
        return self.fake.messages_to(self.user.chat_id)

    async def expect(self, action: Callable[[], object], until: str) -> SentMessage:
        start = len(self.messages())
        action()
        await self.fake.wait_until(lambda: any(until in m.text for m in self.messages()[start:]), timeout=45)
        return next(m for m in self.messages()[start:] if until in m.text)

    async def say(self, text: str, until: str) -> SentMessage:
        return await self.expect(lambda: self.user.send_text(text), until)

    async def press(self, label: str, until: str) -> SentMessage:
        message = await self._with(label)
        return await self.expect(lambda: self.user.press_button(message, label), until)

    async def press_first(self, until: str) -> SentMessage:
        message = self.messages()[-1]
        return await self.expect(lambda: self.user.press(message, message.buttons()[0][1]), until)

    async def wait_for(self, fragment: str, since: int = 0) -> SentMessage:
        await self.fake.wait_until(lambda: any(fragment in m.text for m in self.messages()[since:]), timeout=45)
        return [m for m in self.messages()[since:] if fragment in m.text][-1]

    async def _with(self, label: str) -> SentMessage:
        """The latest message with this button, once there is one (a person presses what they see: the
        message that shows it may still be on its way when the step before was shown done by another)."""
        def found() -> SentMessage | None:
            return next((m for m in reversed(self.messages()) if any(text == label for text, _ in m.buttons())), None)

        try:
            await self.fake.wait_until(lambda: found() is not None, timeout=45)
        except TimeoutError:
            raise AssertionError(f"no button {label!r} in {self.fake.dump(self.user.chat_id)}") from None
        message = found()
        assert message is not None
        return message
