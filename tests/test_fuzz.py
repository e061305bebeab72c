"""Issue 6, drill 6: the bad-input fuzz, short enough for CI (the long run: benchmarks/fuzz.py).

Random sequences of text, commands, button presses (real, mutated, someone else's, random), files and
contacts from people in every role, against the real core on a copy of one prepared database. After
every step: no unhandled error, every update answered, and a refusal changes no business table
(tests/fuzzing.py says exactly what is checked and how).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from bot.context import Context
from handlers import common, menu
from tests import fuzzing

CI = settings(derandomize=True, database=None, deadline=None, max_examples=60, print_blob=False,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@CI
@given(fuzzing.steps)
@pytest.mark.slow(8)
def test_random_input_from_everyone_is_answered_and_refusals_change_nothing(items: list[tuple[Any, ...]]) -> None:
    asyncio.run(fuzzing.run_steps(fuzzing.world(), items))


# -- the checks themselves catch what they are meant to catch ---------------------------------------


def _fails(items: list[tuple[Any, ...]]) -> str:
    with pytest.raises(fuzzing.Failure) as caught:
        asyncio.run(fuzzing.run_steps(fuzzing.world(), items))
    return str(caught.value)


def test_the_fuzz_catches_an_unhandled_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    async def crash(ctx: Context) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(common, "not_understood", crash)
    assert "unhandled error (inbox failed)" in _fails([("as", "deputy"), ("text", "me", "你好")])


def test_the_fuzz_catches_a_message_left_unanswered(monkeypatch: pytest.MonkeyPatch) -> None:
    async def silent(ctx: Context) -> None:
        return None

    monkeypatch.setattr(common, "not_understood", silent)
    assert _fails([("as", "deputy"), ("text", "me", "你好")]).endswith("a message got no reply")


def test_the_fuzz_catches_a_refusal_that_changed_something(monkeypatch: pytest.MonkeyPatch) -> None:
    original = common.not_understood

    async def leaky(ctx: Context) -> None:
        await ctx.tx.execute("UPDATE persons SET sector = 'changed' WHERE id = 1")
        await original(ctx)

    monkeypatch.setattr(common, "not_understood", leaky)
    message = _fails([("as", "leader"), ("text", "me", "你好")])
    assert message.startswith("step 2 of 2") and message.endswith("but changed persons")


def test_the_fuzz_catches_a_press_left_unanswered(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_answer(ctx: Context, parts: list[str]) -> None:
        ctx.answered = True  # as if answered, so the router's own answer is skipped

    monkeypatch.setattr(menu, "on_menu", no_answer)
    assert _fails([("as", "member"), ("data", "me", "menu:help")]).endswith("a press answered 0 times")
