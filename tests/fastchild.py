"""`python -m bot ...` as the drills run it, with the outbox on a faster time base.

    python -m tests.fastchild SPEED [bot arguments]

Exactly `python -m bot [bot arguments]` — the same process, database, HTTP, signals and SIGKILL —
but the outbox's monotonic clock (its per-chat pacing, a channel's per-member windows, retry
back-offs, a 429's or a 45033's wait) runs SPEED times faster than the real one, as
`tests.wecom_env.FastMonotonic` makes it for the bot run in the test's own process. The drill
gives its fake (the Bot API's flood limits, WeCom's rate windows) the same speed, so the two sides
still agree on what a minute is: the drills count losses and duplicates across kills and faults,
and what they spent waiting out pacing and back-off on the real clock was no part of that. The
pacing and the back-off themselves are proven on the movable clock (tests/test_dispatch.py,
tests/test_wecom_channel.py).

A restarted child's clock starts again at 0: the sends of the process before it are placed in its
windows by the wall clock (seconds), read as SPEED-times-faster seconds — so they seem more
recent than they were, and the restarted bot paces more cautiously, never less.
"""

from __future__ import annotations

import runpy
import sys
import time
from collections.abc import Callable
from typing import Any


def fast_monotonic(speed: float, base: Callable[[], float] = time.monotonic) -> Callable[[], float]:
    """Seconds since now on `base`, `speed` times as many (tests.wecom_env.FastMonotonic, as a function)."""
    origin = base()
    return lambda: (base() - origin) * speed


def install(speed: float, patch: Callable[[Any, str, Any], None] = setattr,
            base: Callable[[], float] = time.monotonic) -> None:
    """Give every Dispatcher made from now on the faster clock, and shorten its waits between ticks to
    match (the run loop waits until the next send may start, a gap in the clock's seconds). Fails at once,
    naming what moved, if bot/dispatch.py no longer has the seams this leans on. `patch`: setattr, or a
    test's monkeypatch.setattr."""
    import inspect

    from bot import dispatch

    if not speed >= 1.0:
        raise SystemExit(f"tests.fastchild: a speed of at least 1 is needed, not {speed}")
    if "monotonic" not in inspect.signature(dispatch.Dispatcher.__init__).parameters:
        raise SystemExit("tests.fastchild: Dispatcher(monotonic=...) is gone from bot/dispatch.py")
    if not inspect.iscoroutinefunction(getattr(dispatch, "wait_a_while", None)):
        raise SystemExit("tests.fastchild: bot/dispatch.py no longer waits with wait_a_while")
    monotonic = fast_monotonic(speed, base)
    plain_init = dispatch.Dispatcher.__init__
    plain_wait = dispatch.wait_a_while

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("monotonic", monotonic)
        plain_init(self, *args, **kwargs)

    async def wait_a_while(event: Any, seconds: float) -> bool:
        return await plain_wait(event, seconds / speed)

    patch(dispatch.Dispatcher, "__init__", init)
    patch(dispatch, "wait_a_while", wait_a_while)


def main() -> None:
    install(float(sys.argv[1]))
    sys.argv = [sys.argv[0], *sys.argv[2:]]
    runpy.run_module("bot", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
