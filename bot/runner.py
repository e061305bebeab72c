"""`python -m bot run`: choose the channels, open the app, run until a signal or end of input.

Telegram runs when its token is set, WeCom when `[wecom]` is configured, both together when both
are; with neither, the console (which needs no token)."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys

from bot import early_stop
from bot.app import App, Receiver
from bot.config import Config
from bot.errors import ConfigError

log = logging.getLogger(__name__)


def _log_tasks() -> None:
    """Write every asyncio task and where it waits to the log (an operator's view into a stuck bot)."""
    tasks = asyncio.all_tasks()
    log.warning("SIGUSR1: %d tasks", len(tasks))
    for task in tasks:
        frames = task.get_stack(limit=6)
        where = " <- ".join(f"{f.f_code.co_filename.rsplit('/', 2)[-1]}:{f.f_lineno} {f.f_code.co_name}"
                            for f in reversed(frames))
        log.warning("task %s: %s", task.get_name(), where or "(not started)")


async def run(config: Config, choice: str = "auto") -> int:
    use_telegram = choice == "telegram" or (choice == "auto" and bool(config.telegram.token))
    use_wecom = choice == "wecom" or (choice == "auto" and config.wecom.enabled)
    if use_telegram and not config.telegram.token:
        print("configuration error: telegram.token: not set (or set LIAISON_TELEGRAM_TOKEN)", file=sys.stderr)
        return 2
    if use_wecom and not config.wecom.enabled:
        print("configuration error: wecom.corp_id: not set (see [wecom] in config.example.toml)", file=sys.stderr)
        return 2
    stop = asyncio.Event()
    lost = asyncio.Event()
    loop = asyncio.get_running_loop()
    # before the database is opened: a stop asked for while it opens (migrations, a damaged file's check) is an
    # orderly stop once it is open, never a death by the signal
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if early_stop.asked():  # while the modules were imported: it stops in order now (bot/early_stop.py)
        stop.set()
    if hasattr(signal, "SIGUSR1"):
        loop.add_signal_handler(signal.SIGUSR1, _log_tasks)  # `kill -USR1 <pid>`: what is it waiting for?
    app = await App.open(config)

    def leadership_lost() -> None:
        lost.set()
        stop.set()

    try:
        # one bot per SQLite database (bot/instance.py); on PostgreSQL one leads and the others stand by until it
        # stops (storage/leadership.py)
        if not await app.db.lead(stop, config.database.takeover_seconds, leadership_lost):
            await app.close()
            return 0  # stopped while standing by
    except BaseException:
        await app.close()
        raise
    receivers: list[Receiver] = []
    try:
        if use_telegram:
            from bot.channels.telegram import TelegramChannel

            telegram = TelegramChannel(config.telegram, app.files, config.intake.max_file_mb)
            app.add_channel(telegram)
            if not await telegram.try_start(stop):
                return 0 if stop.is_set() else 2
            receivers.append(telegram)
            log.info("running on Telegram as @%s", telegram.username)
        if use_wecom:
            from bot.channels.wecom import WeComChannel

            wecom = WeComChannel(app)
            app.add_channel(wecom)
            try:
                await wecom.start()
            except ConfigError as exc:
                print(f"configuration error: {exc}", file=sys.stderr)
                return 2
            except OSError as exc:
                print(f"wecom.callback_port: cannot listen on {config.wecom.callback_host}:"
                      f"{config.wecom.callback_port} ({exc.strerror})", file=sys.stderr)
                return 2
            receivers.append(wecom)
            log.info("running on WeCom (corp %s, agent %d), callbacks on %s", config.wecom.corp_id,
                     config.wecom.agent_id, wecom.callback_url)
        if not receivers:
            from bot import demo
            from bot.channels.console import ConsoleChannel, bind_everyone

            logging.getLogger().setLevel(logging.WARNING)  # the console is for reading the dialogue
            console = ConsoleChannel(app, sys.stdin, sys.stdout)
            app.add_channel(console)
            if config.demo:
                async with app.db.transaction() as tx:
                    seeded = await demo.seed_if_empty(tx, app.clock.now())
                if seeded:
                    await bind_everyone(app)
            receivers.append(console)
        # Everything the bot holds for its whole life is in memory now (modules, configuration, CLDR data,
        # the channels' sessions): out of the collector's sight, so that its full collections, each of which
        # walked all of it, scan only what serving creates (a tenth of the bot's CPU at intake, §7 of
        # docs/performance.md). Nothing made from here on is frozen.
        gc.freeze()
        await app.run(receivers, stop)
        if lost.is_set():
            print("stopped: this bot no longer leads on its database (its session to the server ended); start it "
                  "again to stand by", file=sys.stderr)
            return 3
    finally:
        for channel in app.channels.values():
            close = getattr(channel, "stop", None)
            if close is not None:
                await close()
        await app.close()
    return 0
