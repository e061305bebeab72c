"""A stop asked for before the bot's event loop can hear it.

`python -m bot run` takes a second or so to import its modules, read its configuration and open its database; a
SIGTERM (or Ctrl-C) in that time used to kill it by the signal's default action (status -15), whatever it had
begun — the two-bot kill drill's last SIGTERM met a bot just restarted, once in some CI runs. So `run` notes such a
signal from its very first line (`listen`) and the runner, once its own handlers are in place, stops in order as
if the signal had come then (`asked`). The operator's other commands keep the default: a SIGTERM ends them.
"""

from __future__ import annotations

import signal
from types import FrameType

_asked: list[int] = []


def _note(signum: int, _frame: FrameType | None) -> None:
    _asked.append(signum)


def listen() -> None:
    """Note SIGTERM and SIGINT from now until the runner's event loop takes them over."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _note)


def asked() -> bool:
    """Whether a stop was asked for before the runner listened itself."""
    return bool(_asked)
