"""SPEC §1, seed §13, §16 (issue 12, gap 9): discipline inspection is the second line — its /inbox lists the
overdue, long-untouched, reopened and disputed-appeal matters and those under joint on-site supervision, each
with what is owed on it and by whom."""

from __future__ import annotations

from tests.cast import Cast
from tests.fakes import Harness, Sent

REGULATION = "《卢氏县检察院加强与人大代表政协委员联络工作实施办法（暂行）》"


def messages(sent: list[Sent]) -> list[Sent]:
    return [s for s in sent if s.op == "message"]


async def watched_world(harness: Harness) -> Cast:
    """LS-2026-0001 reopened after 不满意; LS-2026-0002 an appeal disputing 第一检察部, with 第二检察部 and under
    on-site supervision; LS-2026-0003 a suggestion never assigned. Then 100 days pass."""
    cast = await Cast.replied(harness)
    await cast.deputy.press("不满意")
    await cast.deputy.press("不补充意见")
    await cast.submit_appeal(disputed_dept="第一检察部")
    await cast.assign("LS-2026-0002")
    d = cast.discipline
    await d.say("/case LS-2026-0002")
    await d.press("联合现场督办")
    await d.say("孙磊（纪检监察）、陈静（办公室）")
    await d.say("案卷材料齐全，要求一周内完成复查。")
    await d.press("确认")
    await cast.deputy.say("/submit")
    await cast.deputy.press("建议")
    await cast.deputy.say("关于乡村道路安全")
    await cast.deputy.say("建议加强乡村道路交通安全宣传。")
    await cast.deputy.press("完成")
    await cast.deputy.press("无附件")
    await cast.deputy.press("确认提交")
    harness.clock.advance(days=100)
    return cast


async def test_discipline_sees_each_matter_it_watches_with_what_is_owed(harness: Harness) -> None:
    cast = await watched_world(harness)
    got = messages(await cast.discipline.say("/inbox"))
    assert [s.text.splitlines()[0] for s in got] == [
        "纪检监察督办", "逾期未办结（3 件）", "14 天以上无办理动作（2 件）", "因不满意重新办理（1 件）",
        "对本院处理不服的申诉（1 件）", "联合现场督办（1 件）"]
    assert got[0].text == ("纪检监察督办\n逾期未办结 3 件；14 天以上无办理动作 2 件；重新办理 1 件；"
                           "对本院处理不服的申诉 1 件；联合现场督办 1 件。")
    reopen = "待落实：办公室重新交办，于2026年12月27日前重新办理并答复"
    perfunctory = f"；可能存在敷衍塞责情况（{REGULATION}第十六条）"
    assert got[1].text.split("\n\n") == [
        "逾期未办结（3 件）\nLS-2026-0001 · 第二检察部 · 已逾期 70 天（办理期限：2026年12月27日）\n申诉：不服不起诉决定\n" + reopen,
        "LS-2026-0002 · 第二检察部 · 已逾期 8 天（办理期限：2027年2月27日）\n申诉：不服不起诉决定\n待落实：第二检察部办结并答复",
        "LS-2026-0003 · 尚未交办 · 已逾期 8 天（办理期限：2027年2月27日）\n建议：关于乡村道路安全\n待落实：办公室交办"]
    assert [label for label, _data in got[1].buttons] == ["LS-2026-0001", "LS-2026-0002", "LS-2026-0003"]
    assert got[2].text.split("\n\n")[1:] == [
        "LS-2026-0002 · 第二检察部 · 最近办理：2026年11月27日\n申诉：不服不起诉决定\n待落实：第二检察部办结并答复" + perfunctory]
    assert got[3].text == ("因不满意重新办理（1 件）\nLS-2026-0001 · 第二检察部 · 办理期限：2026年12月27日\n"
                           "申诉：不服不起诉决定\n" + reopen)
    assert got[4].text.splitlines()[1:] == [
        "LS-2026-0002 · 原承办部门：第一检察部 · 现承办：第二检察部", "申诉：不服不起诉决定",
        f"待落实：第二检察部办结并答复；不得交由第一检察部办理（{REGULATION}第十四条）"]
    assert got[5].text.splitlines()[1:] == [
        "LS-2026-0002 · 第二检察部 · 最近督办：2026年11月27日", "申诉：不服不起诉决定",
        "待落实：第二检察部落实督办意见：案卷材料齐全，要求一周内完成复查。"]
    card = messages(await cast.discipline.press("LS-2026-0003"))[-1]  # each opens to its card
    assert card.text.startswith("LS-2026-0003\n建议 · 已登记")


async def test_with_nothing_to_watch_discipline_is_told_so(harness: Harness) -> None:
    cast = Cast(harness)
    await cast.setup()
    assert [s.text for s in messages(await cast.discipline.say("/inbox"))] == [
        "纪检监察督办\n目前没有需要督办的事项：无逾期、长期无办理动作、重新办理或对本院处理不服的事项，也无正在联合现场督办的事项。"]


async def test_only_discipline_reads_the_second_lines_lists_and_nothing_changes(harness: Harness) -> None:
    cast = await watched_world(harness)
    before = await harness.dump("matters", "timeline", "dialogs", "reminders")
    handler = [s.text for s in messages(await cast.handler2.say("/inbox"))]
    assert not any(t.startswith(("纪检监察督办", "对本院处理不服的申诉", "联合现场督办")) for t in handler)
    assert [s.text for s in messages(await cast.deputy.say("/inbox"))] == ["此功能仅供本院工作人员使用。"]
    assert await harness.dump("matters", "timeline", "dialogs", "reminders") == before
