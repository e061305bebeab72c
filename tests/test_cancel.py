"""SPEC §3: cancel is possible at every step of intake — the 取消 button is under every message of the dialogue
that waits for an answer, and pressing it at any step ends the dialogue with nothing registered."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.fakes import Harness, User

Step = Callable[[User], Awaitable[object]]

# An appeal disputing our own handling passes through every step of the dialogue.
STEPS: list[tuple[str, Step]] = [
    ("kind", lambda d: d.say("/submit")),
    ("subject", lambda d: d.press("申诉")),
    ("text", lambda d: d.say("不服不起诉决定")),
    ("text, after a message", lambda d: d.say("当事人认为不起诉决定认定事实有误。")),
    ("text, after a file", lambda d: d.send_file(b"%PDF-1.4 decision", "决定书.pdf")),
    ("files", lambda d: d.press("完成")),
    ("files, after a file", lambda d: d.send_file(b"%PDF-1.4 evidence", "证据.pdf")),
    ("complainant_name", lambda d: d.press("附件已发完")),
    ("complainant_contact", lambda d: d.say("李四")),
    ("disputes", lambda d: d.say("13900002222")),
    ("department", lambda d: d.press("是")),
    ("confirm", lambda d: d.press("第二检察部")),
]


async def deputy_of(harness: Harness) -> User:
    await harness.add_department("第二检察部")
    person = await harness.add_representative("王建国")
    deputy = harness.user("1001")
    await deputy.say(f"/start {await harness.invite(person)}")
    return deputy


@pytest.mark.parametrize("stop", range(len(STEPS)), ids=[name for name, _step in STEPS])
async def test_cancel_is_offered_and_works_at_every_step_of_intake(harness: Harness, stop: int) -> None:
    deputy = await deputy_of(harness)
    for _name, step in STEPS[:stop + 1]:
        await step(deputy)
    last = [s for s in deputy.received if s.op == "message"][-1]
    assert "取消" in [label for label, _data in last.buttons], last.text  # on the latest message itself
    done = await deputy.press("取消")
    assert [s.text for s in done if s.op == "message"] == ["已取消，未提交任何内容。"]
    assert await harness.count("dialogs") == 0 and await harness.count("matters") == 0
