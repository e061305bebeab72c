"""Papers an office still keeps by hand, drawn from a matter in the official layout (bot/official_docx.py).

- The assignment slip 交办单 (handlers/matters/slips.py), sent with an assignment, is drawn again from the matter's
  card (the 交办单 button) by whoever may see the card, and sent to them in chat; the complainant of a
  referred case is named on it only for those who may see him (SPEC §1).
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
from handlers.common import unit_name
from handlers.matters import casework as cases
from handlers.matters import slips
from handlers.labels import KIND_LABELS
from handlers.reports.measures import local_day
from handlers.reports.paper_words import zh_words
from storage import audit, casework, people
from storage.casework import ReplyRecord


async def send_slip(ctx: Context, matter_id: int) -> None:
    """The 交办单 button of a matter's card: the slip, to whoever pressed it (who may see the card)."""
    matter = await cases.load(ctx, matter_id, "view")
    if matter.department_id is None:
        raise UserError("{number} has not been assigned to a department yet: there is no assignment slip.",
                        number=matter.number)
    person = ctx.person
    assert person is not None
    document = await slips.slip_file(ctx, matter, personal=may(person, "view_personal", cases.access(matter)))
    await audit.record(ctx.tx, ctx.now, person.id, "slip_drawn", matter_id=matter.id)
    _ = ctx._
    await ctx.reply(Reply(_("The assignment slip of {number}, to print and sign.", number=matter.number),
                          files=(document,)))


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
    rep = await people.get(ctx.tx, matter.representative_id, as_in=matter.unit_id)
    department = (await people.department_name(ctx.tx, matter.department_id, of_unit=matter.unit_id)
                  if matter.department_id else None)
    tz = ctx.config.unit.tz
    data = reply_letter(matter, last, await casework.sent_on(ctx.tx, last.id), rep.name if rep else "",
                        (rep.body or "") if rep else "", department or "", await unit_name(ctx), ctx.now, tz)
    store = FileStore(ctx.config.storage.files_dir, StoppedClock(ctx.now))
    await audit.record(ctx.tx, ctx.now, person.id, "reply_letter_drawn", matter_id=matter.id,
                       detail={"reply_id": last.id})
    _ = ctx._
    await ctx.reply(Reply(_("The reply letter of {number} with its feedback form, to print, seal and send.",
                            number=matter.number),
                          files=(OutFile(store.put(data)[1], f"{matter.number}答复函.docx"),)))
