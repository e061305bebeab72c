"""The operator's commands that look after the data itself: the data key, backup and restore.

`python -m bot key new` prints a fresh key (for LIAISON_DATA_KEY); `key rotate` seals everything again
under a new key (bot/data_key.py). `backup DIR` and `restore ARCHIVE` are in bot/backup.py; the
command line (bot/__main__.py) wires them. Each command returns a dict whose "message" is printed (or
the dict itself with --json), or raises `Refused`: nothing was changed, the message says why.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from bot.app import App
from bot.config import DATA_KEY_ENV
from bot.data_key import RotationError, rotate
from bot.instance import AlreadyRunningError, InstanceLock
from bot.sealing import new_key


class Refused(Exception):
    """The command cannot do what was asked; nothing was changed. `data` goes into the --json output."""

    def __init__(self, message: str, **data: Any) -> None:
        super().__init__(message)
        self.data = data


def make_key() -> dict[str, Any]:
    """`key new`: a fresh key, printed once; nothing is stored."""
    key = new_key()
    return {"message": key, "key": key}


async def rotate_key(app: App, args: argparse.Namespace) -> dict[str, Any]:
    """`key rotate`: with the bot stopped (its lock is taken for the while), seal everything under a new key."""
    config = app.config
    try:
        with InstanceLock(config.storage.database):
            old, new = await rotate(app.db, config, app.clock.now())
    except AlreadyRunningError:
        raise Refused("the bot is running on this database: stop it, rotate the key, then start it again") from None
    except RotationError as exc:
        raise Refused(str(exc)) from None
    where = (f"{DATA_KEY_ENV}: now remove the old key from it" if os.environ.get(DATA_KEY_ENV, "").strip()
             else f"the key file {config.storage.key_file} holds the new key only")
    return {"message": f"data key rotated: {old} -> {new}; everything is sealed with the new key ({where})",
            "old": old, "new": new}
