"""Picking a representative (handlers/picker.py), the one component every dialogue uses: the choice read
back from button data (user input) within its bounds, and the same list wherever it is offered."""

from __future__ import annotations

from handlers import picker
from tests.cast import People, messages
from tests.fakes import Harness


def test_a_choice_names_an_id_only_within_its_bounds() -> None:
    assert picker.chosen_id("rep42") == 42
    assert picker.chosen_id("a42", prefix="a") == 42
    assert picker.chosen_id("rep" + "9" * picker.ID_DIGITS) == int("9" * picker.ID_DIGITS)
    for data in ("rep" + "9" * (picker.ID_DIGITS + 1), "rep", "rep-1", "rep4x", "rep 4", "x42", "rep４２"):
        assert picker.chosen_id(data) is None, data


async def test_every_dialogue_offers_the_same_list_and_asks_to_narrow_past_its_limit(harness: Harness) -> None:
    """Registering on a deputy's behalf, recording a contact and appointing a supervisor: one search, one list."""
    cast = People(harness)
    _, clerk = await cast.staff("陈静", ["office"], None, "3001")
    for n in range(picker.SEARCH_RESULTS + 1):
        await harness.add_representative(f"张{n}", phone=f"1360000000{n}", sector="教育界")
    lists = []
    for command in ("/register", "/contact", "/supervisors"):
        await clerk.say(command)
        if command == "/supervisors":
            await clerk.press("聘请执法监督员")
        got = await clerk.say("张")
        lists.append((messages(got), [label for label, _ in got[-1].buttons]))
        await clerk.press("取消")
    assert lists[0] == lists[1] == lists[2]
    text, labels = lists[0]
    assert text == ["相符的人员超过 8 位，以下列出前 8 位。请选择，或发送更完整的姓名以缩小范围。"]
    assert labels[:picker.SEARCH_RESULTS] == [f"张{n} · 人大代表 · 教育界" for n in range(picker.SEARCH_RESULTS)]
