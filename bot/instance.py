"""One running bot per database: an exclusive lock on a file beside it, held while the bot runs.

Two bots on one SQLite database both worked, but each answered every update it took, and together
they drew the Bot API's flood limit (a review counted 100 answers of 429 in a few minutes). `python -m
bot run` takes the lock before it opens the database and keeps it until the process ends; a second
one is refused at once, naming the first one's process id. The operator's other commands (import,
invite, report, backup) run beside a running bot and do not take it; `restore` refuses while it is
held. The lock is the operating system's (flock on POSIX, msvcrt on Windows): it goes with the
process, so a bot killed with SIGKILL leaves nothing to clean up.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import TracebackType
from typing import IO

from bot.errors import LiaisonError

if sys.platform == "win32":  # the project runs on Linux; this keeps a trial on Windows working
    import msvcrt

    def _try_lock(handle: IO[str]) -> bool:
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
else:
    import fcntl

    def _try_lock(handle: IO[str]) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


class AlreadyRunningError(LiaisonError):
    """Another bot holds the database's lock."""


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


class InstanceLock:
    """`with InstanceLock(database):` — held until the block ends (or the process does)."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = lock_path(database)
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="ascii")  # never truncated before it is ours
        if not _try_lock(handle):
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise AlreadyRunningError(
                f"another bot is already running on {self.database} (process {holder}): stop it first; two "
                "bots on one database would both answer and trip Telegram's flood limits")
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing releases the lock; the file stays, empty of meaning
            self._handle = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.release()


def held(database: Path) -> bool:
    """Whether a running bot holds the lock of this database (for restore)."""
    path = lock_path(database)
    if not path.exists():
        return False
    with open(path, "a+", encoding="ascii") as handle:
        if _try_lock(handle):
            return False  # released again when the handle closes
    return True
