"""Shared by benchmarks/intake.py and benchmarks/broadcast.py: the children and the seeding.

The fake Bot API (tests/fakebotapi.py) and the simulated users run in the benchmark's own
process; the bot under test runs as a child process, so that on a 2-core machine each side
has a core. Two children:

* the liaison bot: `python benchmarks/bench_common.py bot CONFIG [--global-rate R]` — exactly
  what `python -m bot run --channel telegram` does (same config loader, same logging, same
  `bot.runner.run`), except that `--global-rate` may set the outbox's global pace above the
  30/s the config file accepts (Telegram's own limit), for the capacity benchmark whose fake
  server enforces no limit;
* a bare python-telegram-bot echo bot: `python benchmarks/bench_common.py echo BASE_URL
  BASE_FILE_URL` (token from the environment) — a stock `Application`, default sequential
  update processing, `run_polling`, one `reply_text` per text message.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.telegram_env import stop_child  # noqa: E402

ENV = {**os.environ, "PTB_TIMEDELTA": "true", "PYTHONPATH": str(REPO), "PYTHONFAULTHANDLER": "1"}
ENV.pop("LIAISON_TELEGRAM_TOKEN", None)


class Child:
    """A child process (the bot or the echo bot), its output to a log file; stopped with SIGTERM."""

    def __init__(self, argv: list[str], log_path: Path, env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.log_path = log_path
        self.env = env or ENV
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(self.argv, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)

    async def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait without blocking the event loop (the fake server on it must keep answering);
        a child that does not stop logs its tasks and threads (tests/telegram_env.stop_child)."""
        assert self.proc is not None
        return await stop_child(self.proc, timeout)

    def keep_log(self) -> Path:
        """Copy the log out of the temporary folder (for a run that went wrong)."""
        kept = Path(tempfile.gettempdir()) / f"liaison-bench-{int(time.time())}-{self.log_path.name}"
        shutil.copyfile(self.log_path, kept)
        return kept

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def cpu_seconds(self) -> float:
        """CPU time the child has used so far, all its threads, user and system (Linux /proc); NaN elsewhere.
        Less at the mercy of a shared machine than a rate: what a side costs, not how fast it was served."""
        assert self.proc is not None
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def bot_child(config_path: Path, log_path: Path, global_rate: float | None = None,
              database_url: str | None = None) -> Child:
    """`database_url`: the bot's database (PostgreSQL), given as the operator would, in LIAISON_DATABASE_URL."""
    argv = [sys.executable, str(Path(__file__).resolve()), "bot", str(config_path)]
    if global_rate is not None:
        argv += ["--global-rate", str(global_rate)]
    return Child(argv, log_path, {**ENV, "LIAISON_DATABASE_URL": database_url} if database_url else None)


def echo_child(base_url: str, base_file_url: str, token: str, log_path: Path) -> Child:
    argv = [sys.executable, str(Path(__file__).resolve()), "echo", base_url, base_file_url]
    return Child(argv, log_path, {**ENV, "ECHO_BOT_TOKEN": token})


async def wait_for(predicate: object, timeout: float, what: str, child: Child | None = None) -> None:
    """Poll a condition every 10 ms (the benchmark's own loop, not a test); fail if the child died."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if child is not None and not child.alive():
            raise RuntimeError(f"{what}: the child process exited; see {child.log_path}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(0.01)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values; nan if none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def reproduce_line(script: str, argv: list[str]) -> str:
    return " ".join([".venv/bin/python", f"benchmarks/{script}", *argv])


async def seed(config: object, representatives: list[int], office: list[int]) -> None:
    """A fresh database through the real migrations: representatives and office clerks, bound to these chats
    (directly in the database, as tests/test_kill.py does; binding has its own tests)."""
    from bot.app import App
    from bot.config import Config
    from storage import people

    assert isinstance(config, Config)
    app = await App.open(config)
    try:
        now = app.clock.now()
        async with app.db.transaction() as tx:
            for n, chat in enumerate(representatives):
                person = await tx.insert(
                    "INSERT INTO persons (name, body, phone, roster_key, created_at, updated_at)"
                    " VALUES (?, 'npc', '', ?, '2026-01-01', '2026-01-01') RETURNING id", (f"代表{n}", f"k{n}"))
                await people.bind_identity(tx, "telegram", str(chat), str(chat), person, now)
            for n, chat in enumerate(office):
                clerk = await people.add_staff(tx, f"办公室{n}", None, ["office"], "", now)
                await people.bind_identity(tx, "telegram", str(chat), str(chat), clerk, now)
    finally:
        await app.close()


# -- the children's entry points -------------------------------------------------------------


def _run_bot(config_path: Path, global_rate: float | None) -> int:
    import logging

    from bot.config import load
    from bot.runner import run

    config = load(config_path)
    if global_rate is not None:
        config = replace(config, outbox=replace(config.outbox, global_rate=global_rate))
    # As bot/__main__.py: INFO to the log, httpx quiet (its URLs hold the token).
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    profile = os.environ.get("BENCH_PROFILE")  # a path: write the bot's cProfile statistics there
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        try:
            return profiler.runcall(asyncio.run, run(config, "telegram"))
        finally:
            profiler.dump_stats(profile)
    return asyncio.run(run(config, "telegram"))


def _run_echo(base_url: str, base_file_url: str) -> int:
    import logging

    from telegram import Update
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    logging.basicConfig(level=logging.WARNING)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    token = os.environ["ECHO_BOT_TOKEN"]
    app = Application.builder().token(token).base_url(base_url).base_file_url(base_file_url).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="which", required=True)
    bot = sub.add_parser("bot")
    bot.add_argument("config", type=Path)
    bot.add_argument("--global-rate", type=float)
    echo = sub.add_parser("echo")
    echo.add_argument("base_url")
    echo.add_argument("base_file_url")
    args = parser.parse_args()
    if args.which == "bot":
        return _run_bot(args.config, args.global_rate)
    return _run_echo(args.base_url, args.base_file_url)


if __name__ == "__main__":
    sys.exit(main())
