"""Papers an office still keeps by hand, drawn from a matter in the official layout (bot/official_docx.py).

- The assignment slip 交办单 (seed §12-§14): what a department receives with a matter — its number,
  subject, representative, a summary of its content, the due date, the urger, the requirements of the
  regulation, a space for the office's note, and lines to sign for it. Drawn on request from the
  matter's card (the 交办单 button) by whoever may see the card, and sent to them in chat; the
  complainant of a referred case is named on it only for those who may see him (SPEC §1).
- The reply letter 答复函 (seed §7: feedback in writing; SPEC §4) for a reply given on paper: a letter to
  the representative with the outcome and its grounds, the unit and the date as under a seal, and on its
  own page the feedback form 征询意见表 (满意 / 基本满意 / 不满意, a line for comments) that goes with it.
  Drawn by the office from the card of a matter whose latest reply was given on paper.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from bot import domain
from bot.clock import StoppedClock
from bot.context import Context
from bot.errors import UserError
from bot.files import FileStore
from bot.messages import OutFile, Reply
from bot.office_files import zh_date
from bot.official_docx import OfficialDocument
from bot.permissions import may
from bot.matter.model import Matter
from handlers import casework as cases
from handlers.labels import KIND_LABELS
from handlers.measures import local_day
from handlers.report_text import BODY_WORDS, zh_words
from storage import audit, casework, matters, people
from storage.casework import ReplyRecord

SUMMARY_CHARS: Final = 200  # the slip fits one page; the whole text is on the card
REQUIREMENTS: Final = (
    "请于办理期限前办结，依规答复代表委员：答复应当说明办理结果及其理由、依据，不得简单敷衍；"
    "重大疑难复杂事项不能按期办结的，应当及时向代表委员通报进展情况，办结后予以答复；"
    "不属于本院管辖的，应当先行接访、说明情况后及时移送有关主管机关（《加强与人大代表政协委员联络工作实施办法"
    "（暂行）》第十二条、第十四条）。"
)


def slip(matter: Matter, representative: str, body: str, department: str, urger: str, complainant: str | None,
         unit: str, now: datetime, tz: ZoneInfo) -> bytes:
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
        rows.append(("来件人", complainant or "（依规定仅办公室、承办部门和纪检监察部门可见，请在案件卡片中查看）"))
    rows += [
        ("承办部门", department, "催办人", urger),
        ("办理期限", zh_date(matter.due_date), "重大疑难复杂", "是" if matter.major else "否"),
        ("办理要求", REQUIREMENTS),
        ("交办意见", "\n\n"),
        ("交办人", "", "交办日期", "　　　年　　月　　日"),
        ("承办部门\n签收人", "", "签收日期", "　　　年　　月　　日"),
    ]
    doc.form(rows, label_width=7)
    doc.paragraph(f"（{unit}办公室{zh_date(now.astimezone(tz).date())}制）", size=12, indent=None)
    return doc.bytes()


async def send_slip(ctx: Context, matter_id: int) -> None:
    """The 交办单 button of a matter's card: the slip, to whoever pressed it (who may see the card)."""
    matter = await cases.load(ctx, matter_id, "view")
    if matter.department_id is None:
        raise UserError("{number} has not been assigned to a department yet: there is no assignment slip.",
                        number=matter.number)
    person = ctx.person
    assert person is not None
    rep = await people.get(ctx.tx, matter.representative_id)
    department = await people.department_name(ctx.tx, matter.department_id) or ""
    urger = await people.get(ctx.tx, matter.urger_id) if matter.urger_id else None
    complainant: str | None = None
    if domain.is_referred(matter.kind):
        complainant = ""
        if may(person, "view_personal", cases.access(matter)):  # sealed at rest: opened only for those who may
            who = await matters.complainant(ctx.tx, matter)
            complainant = "（保存期满已删除）" if who.erased else f"{who.name}　{who.contact}".strip()
    tz = ctx.config.unit.tz
    data = slip(matter, rep.name if rep else "", (rep.body or "") if rep else "", department,
                urger.name if urger else "", complainant, ctx.config.unit.name, ctx.now, tz)
    store = FileStore(ctx.config.storage.files_dir, StoppedClock(ctx.now))
    await audit.record(ctx.tx, ctx.now, person.id, "slip_drawn", matter_id=matter.id)
    _ = ctx._
    await ctx.reply(Reply(_("The assignment slip of {number}, to print and sign.", number=matter.number),
                          files=(OutFile(store.put(data)[1], f"{matter.number}交办单.docx"),)))


# -- the reply letter ----------------------------------------------------------------------------------

TITLE_OF: Final = {"npc": "代表", "cppcc": "委员"}
CLOSING: Final = "感谢您对检察工作的关心、支持和监督，欢迎继续提出宝贵意见和建议。"
FORM_NOTE: Final = "请在相应的“□”内打“√”，填写后寄回或交{unit}办公室。您的评价将作为本事项的办理评价，" \
                   "评价为“不满意”的，我院将重新办理。"


def reply_letter(matter: Matter, reply: ReplyRecord, sent: str | None, representative: str, body: str,
                 department: str, unit: str, now: datetime, tz: ZoneInfo) -> bytes:
    """The letter answering a matter on paper, then the feedback form on its own page, as a .docx."""
    title_word = TITLE_OF.get(body, "代表委员")
    kind = zh_words(KIND_LABELS[matter.kind])
    raised = f"转交的{kind}" if domain.is_referred(matter.kind) else f"所提{kind}"
    title = f"{unit}关于对{representative}{title_word}{raised}的答复"
    doc = OfficialDocument(title, unit, now, subject="答复函")
    doc.title((unit, "关于对", f"{representative}{title_word}", f"{raised}的答复"))
    doc.paragraph(indent=None)
    doc.paragraph(f"{representative}{title_word}：", indent=None)
    doc.paragraph(f"您{raised}“{matter.subject}”（编号{matter.number}）收悉。我院高度重视，"
                  f"{'交由' + department + '承办' if department else '认真研究'}，现将办理情况答复如下：")
    for text in reply.body.split("\n"):
        if text.strip():
            doc.paragraph(text.strip())
    doc.paragraph("理由和依据：" + " ".join(t.strip() for t in reply.grounds.split("\n") if t.strip()))
    doc.paragraph(CLOSING)
    doc.signature(unit, zh_date(now.astimezone(tz).date()))
    doc.title(("代表委员对办理答复的", "意见征询表"), size=18, new_page=True)
    doc.paragraph(indent=None)
    doc.form([
        ("编号", matter.number, "答复日期", zh_date(local_day(sent, tz)) if sent else ""),
        ("代表委员", f"{representative}{title_word}", "承办部门", department or "办公室"),
        ("事由", matter.subject),
        ("办理结果\n评价", "□ 满意　　　　□ 基本满意　　　　□ 不满意"),
        ("意见和建议", "\n\n\n\n"),
        ("代表委员\n签名", "", "日期", "　　　年　　月　　日"),
    ], label_width=7)
    doc.paragraph(FORM_NOTE.format(unit=unit), size=12, indent=None)
    return doc.bytes()


async def send_reply_letter(ctx: Context, matter_id: int) -> None:
    """The 答复函 button of a matter's card (the office): the letter of its latest reply given on paper."""
    matter = await cases.load(ctx, matter_id, "reply_letter")
    last = await casework.last_sent_reply(ctx.tx, matter.id)
    if last is None or last.via != "paper":
        raise UserError("{number} has no reply given on paper: there is no reply letter to print.",
                        number=matter.number)
    person = ctx.person
    assert person is not None
    rep = await people.get(ctx.tx, matter.representative_id)
    department = await people.department_name(ctx.tx, matter.department_id) if matter.department_id else None
    tz = ctx.config.unit.tz
    data = reply_letter(matter, last, await casework.sent_on(ctx.tx, last.id), rep.name if rep else "",
                        (rep.body or "") if rep else "", department or "", ctx.config.unit.name, ctx.now, tz)
    store = FileStore(ctx.config.storage.files_dir, StoppedClock(ctx.now))
    await audit.record(ctx.tx, ctx.now, person.id, "reply_letter_drawn", matter_id=matter.id,
                       detail={"reply_id": last.id})
    _ = ctx._
    await ctx.reply(Reply(_("The reply letter of {number} with its feedback form, to print, seal and send.",
                            number=matter.number),
                          files=(OutFile(store.put(data)[1], f"{matter.number}答复函.docx"),)))
