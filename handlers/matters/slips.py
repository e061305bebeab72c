"""The assignment slip 交办单 (seed §12-§14, issue 16): what a department receives with a matter — its
number, subject, representative, a summary of its content, the due date, the urger, the requirements of
the regulation, a space for the office's note, and lines to sign for it — in the official layout
(bot/official_docx.py). Sent to the department's handlers with the notice of an assignment or a
re-assignment (handlers/matters/assignment.py), and drawn again from the card (handlers/reports/papers.py); the
complainant of a referred case is named on it only for those who may see him (SPEC §1).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from bot import domain
from bot.clock import StoppedClock
from bot.context import Context
from bot.files import FileStore
from bot.messages import OutFile
from bot.office_files import zh_date
from bot.official_docx import OfficialDocument
from handlers.labels import KIND_LABELS
from handlers.reports.measures import local_day
from handlers.reports.paper_words import BODY_WORDS, zh_words
from storage import matters, people, units
from bot.matter.model import Matter

SUMMARY_CHARS: Final = 200  # the slip fits one page; the whole text is on the card
REQUIREMENTS: Final = (  # the regulation named by its configured title ([terms] regulation), as the chat names it
    "请于办理期限前办结，依规答复代表委员：答复应当说明办理结果及其理由、依据，不得简单敷衍；"
    "重大疑难复杂事项不能按期办结的，应当及时向代表委员通报进展情况，办结后予以答复；"
    "不属于本院管辖的，应当先行接访、说明情况后及时移送有关主管机关（《{regulation}》第十二条、第十四条）。"
)


def slip(matter: Matter, representative: str, body: str, department: str, urger: str, complainant: str | None,
         unit: str, now: datetime, tz: ZoneInfo, regulation: str) -> bytes:
    """The assignment slip of a matter as a .docx; `complainant` None for a matter without one, "" when the
    reader may not see him."""
    title = f"{unit}代表委员建议、批评、意见及转交案件交办单"
    doc = OfficialDocument(title, unit, now, subject="交办单")
    doc.title((unit, "代表委员建议、批评、意见及转交案件交办单"), size=18)  # a form: 小2号
    doc.paragraph(indent=None)
    summary = matter.body[:SUMMARY_CHARS] + ("……" if len(matter.body) > SUMMARY_CHARS else "")
    rows: list[tuple[str, ...]] = [
        ("编号", matter.number, "登记日期", zh_date(local_day(matter.registered_at, tz))),
        ("代表委员", f"{representative}（{BODY_WORDS.get(body, body)}）", "类别", zh_words(KIND_LABELS[matter.kind])),
        ("事由", matter.subject),
        ("内容摘要", summary),
    ]
    if complainant is not None:
        rows.append(("当事人", complainant or "（依规定仅办公室、承办部门和纪检监察部门可见，请在案件卡片中查看）"))
    rows += [
        ("承办部门", department, "催办人", urger),
        ("办理期限", zh_date(matter.due_date), "重大疑难复杂", "是" if matter.major else "否"),
        ("办理要求", REQUIREMENTS.format(regulation=regulation)),
        ("交办意见", "\n\n"),
        ("交办人", "", "交办日期", "　　　年　　月　　日"),
        ("承办部门\n签收人", "", "签收日期", "　　　年　　月　　日"),
    ]
    doc.form(rows, label_width=7)
    doc.paragraph(f"（{unit}办公室{zh_date(now.astimezone(tz).date())}制）", size=12, indent=None)
    return doc.bytes()


async def slip_file(ctx: Context, matter: Matter, *, personal: bool) -> OutFile:
    """The slip of an assigned matter as it stands in this transaction, stored, to attach to a message;
    `personal`: the reader may see the complainant of a referred case."""
    assert matter.department_id is not None
    rep = await people.get(ctx.tx, matter.representative_id, as_in=matter.unit_id)
    department = await people.department_name(ctx.tx, matter.department_id, of_unit=matter.unit_id) or ""
    urger = await people.get(ctx.tx, matter.urger_id) if matter.urger_id else None
    complainant: str | None = None
    if domain.is_referred(matter.kind):
        complainant = ""
        if personal:  # sealed at rest: opened only for those who may see him
            who = await matters.complainant(ctx.tx, matter)
            complainant = "（保存期满已删除）" if who.erased else f"{who.name}　{who.contact}".strip()
    unit = await units.get(ctx.tx, matter.unit_id)  # the unit whose matter it is (a county's handler reads the
    # city's), citing its own regulation where it has one (storage/units.PAPERS)
    data = slip(matter, rep.name if rep else "", (rep.body or "") if rep else "", department,
                urger.name if urger else "", complainant, unit.name, ctx.now, ctx.config.unit.tz,
                unit.papers.get("regulation", ctx.config.terms.regulation))
    store = FileStore(ctx.config.storage.files_dir, StoppedClock(ctx.now))
    return OutFile(store.put(data)[1], f"{matter.number}交办单.docx")
