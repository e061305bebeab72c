"""A SIGTERM that comes while `python -m bot run` is still importing its modules stops it in order (status 0), not
by the signal's default action (status -15): found as a rare failure of the two-bot kill drill, whose last SIGTERM
met a bot just restarted (bot/early_stop.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow(3)  # a child process

ROOT = Path(__file__).resolve().parent.parent

# The bot as `python -m bot run` starts it, with the SIGTERM delivered the moment it begins to listen: before the
# modules, the configuration and the database (a real one would come at any moment in that second or so).
CHILD = """
import os, runpy, signal, sys
from bot import early_stop
listen = early_stop.listen
def listen_then_terminated():
    listen()
    os.kill(os.getpid(), signal.SIGTERM)
early_stop.listen = listen_then_terminated
sys.argv = ["bot", "run"]
runpy.run_module("bot", run_name="__main__", alter_sys=True)
"""


def test_a_sigterm_while_the_bot_imports_stops_it_in_order(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LIAISON_TELEGRAM_TOKEN"}
    env["PYTHONPATH"] = str(ROOT)
    log = tmp_path / "bot.log"
    with log.open("w") as out:
        child = subprocess.Popen([sys.executable, "-c", CHILD], cwd=tmp_path, env=env, stdin=subprocess.PIPE,
                                 stdout=out, stderr=subprocess.STDOUT)
        try:
            status = child.wait(timeout=60)  # stdin stays open (the console's input): only the signal stops it
        finally:
            if child.poll() is None:
                child.kill()
            assert child.stdin is not None
            child.stdin.close()
    err = log.read_text()
    assert status == 0, err
    assert "Traceback" not in err
    assert (tmp_path / "data" / "liaison.db").exists()  # it got as far as opening its database, then stopped


def test_the_operators_other_commands_keep_the_default(tmp_path: Path) -> None:
    """Only `run` listens early: a SIGTERM ends a long import or report as it always did."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    probe = ("import signal, sys; sys.argv = ['bot', 'calendar', '2027']; import runpy\n"
             "runpy.run_module('bot', run_name='__main__', alter_sys=True)")
    done = subprocess.run([sys.executable, "-c", probe.replace(
        "import runpy\n", "import runpy\nimport bot.early_stop as e; e.listen = lambda: sys.exit(9)\n")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr  # listen() was never called


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_console_waiting_for_input_stops_on_sigterm_or_ctrl_c(tmp_path: Path, sig: signal.Signals) -> None:
    """Found writing the test above: the console read its terminal on a thread of the loop's executor, which held
    the process at its exit until the next line came — Ctrl-C or SIGTERM left it running."""
    env = {k: v for k, v in os.environ.items() if k != "LIAISON_TELEGRAM_TOKEN"}
    env["PYTHONPATH"] = str(ROOT)
    child = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert child.stdout is not None
        assert "控制台 / console" in child.stdout.readline()  # up, and waiting for its first line
        child.send_signal(sig)
        assert child.wait(timeout=30) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for stream in (child.stdin, child.stdout):
            if stream is not None:
                stream.close()
