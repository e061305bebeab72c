"""What the half-year report to the higher procuratorate (seed §17) says, in Chinese whatever the reader's
language: the office sends it upward as it is. (The assessment workbook's words are assessment_text.py,
the words both share paper_words.py.)

`half_year_report` turns the figures into paragraphs and tables once; the .docx and the .xlsx are both
written from those blocks (bot/office_files.py), so the workbook holds exactly the document's tables.
Nothing here holds a matter's text or a complainant's personal data: the figures carry none
(handlers/reports/figures.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

from bot.config import ReportConfig
from bot.contacts_file import METHODS
from bot.domain import KINDS, OUTCOMES
from bot.matter.states import STATES, ExtensionState
from bot.i18n import REGULATION, Translator
from bot.office_files import (
    NO_RATE, Cell, Heading, Note, Paragraph, Report, Table, write_docx, write_xlsx, zh_date,
)
from handlers.labels import KIND_LABELS, METHOD_LABELS
from handlers.matters.notices import OUTCOME_LABELS
from handlers.reports import measures as M
from handlers.reports.measures import Rate
from handlers.reports import paper_words
from handlers.reports.figures import EventRow, HalfYear, HalfYearFigures
from handlers.reports.paper_words import BODY_WORDS, HALF_WORDS, STATE_WORDS
from storage.contacts import Coverage, Tally
from storage.reports import RegisterEntry
from storage.units import Unit

DOC_LIST_LIMIT: Final = 100  # matters listed in the document; the workbook lists every one


def unit_papers(report: ReportConfig, regulation: str, unit: Unit) -> tuple[ReportConfig, str]:
    """What `unit`'s papers carry: its own settings (storage/units.py PAPERS) where it has them, else the
    configuration's [report] and [terms] (unit 1's always)."""
    own = unit.papers
    return replace(report, document_number=own.get("document_number", report.document_number),
                   addressee=own.get("addressee", report.addressee), issuer=own.get("issuer", report.issuer),
                   signer=own.get("signer", report.signer), copy_to=own.get("copy_to", report.copy_to)), \
        own.get("regulation", regulation)


def _rate(rate: Rate) -> str:
    return M.percent(rate.value)


def _sum_row(label: str, rows: Sequence[tuple[Cell, ...]]) -> tuple[Cell, ...]:
    width = len(rows[0]) if rows else 0
    return (label, *(sum(v for r in rows if isinstance(v := r[i], int)) for i in range(1, width)))


def coverage_rows(cov: Coverage) -> list[tuple[Cell, ...]]:
    rows: list[tuple[Cell, ...]] = [
        (BODY_WORDS[b], t.total, t.contacted, t.total - t.contacted, Rate(t.contacted, t.total).value)
        for b, t in cov.by_body.items()]
    rows.append(("合计", cov.total, cov.contacted, cov.total - cov.contacted, Rate(cov.contacted, cov.total).value))
    return rows


def sector_rows(sectors: dict[str, Tally], order: Sequence[str]) -> list[tuple[Cell, ...]]:
    """CPPCC members by sector 界别, in the CPPCC's order (`order`: "民盟|中国民主同盟" names one sector
    either way); sectors it does not name follow in the order they first appear on the roster, then
    members with none. Alphabetical order by code point is no order a committee uses."""
    rank = {name: n for n, entry in enumerate(order) for name in entry.split("|")}
    listed = sorted(sectors, key=lambda s: (s == "", rank.get(s, len(rank))))  # stable: roster order otherwise
    return [(s or "未填界别", t.total, t.contacted, Rate(t.contacted, t.total).value)
            for s in listed for t in (sectors[s],)]


def register_rows(entries: list[RegisterEntry], protest: bool) -> list[tuple[Cell, ...]]:
    if protest:
        return [(n, e.case_name, e.case_number or NO_RATE, e.happened_on, e.filed_on or "未备案")
                for n, e in enumerate(entries, 1)]
    return [(n, e.case_name, e.case_number or NO_RATE, e.happened_on, e.note or "")
            for n, e in enumerate(entries, 1)]


def event_rows(events: list[EventRow]) -> list[tuple[Cell, ...]]:
    """The events table, ready for when events are recorded (§5, §15; supervisors' participation, §6)."""
    return [(e.day, e.name, e.kind, e.representatives, e.supervisors) for e in events]


def file_name(period: HalfYear) -> str:
    """The report's file name without its extension, as its reader would name it: 2026年下半年联系…报告."""
    return f"{period.year}年{HALF_WORDS[period.half]}联系人大代表政协委员工作情况报告"


def half_year_report(f: HalfYearFigures, drawn_at: datetime, tz: ZoneInfo, paper: ReportConfig = ReportConfig(),
                     addressee: str | None = None, regulation: str = REGULATION) -> Report:
    """The report's paragraphs and tables, in Chinese, from the figures; `addressee` overrides the
    configured 主送机关 (the command line's --to); `regulation` is the title it cites."""
    zh = paper_words.zh()
    half = f"{f.period.year}年{HALF_WORDS[f.period.half]}"
    drawn_on = drawn_at.astimezone(tz).date()
    report = Report(
        title_parts=(f.unit, f"关于{half}", "联系人大代表政协委员", "工作情况的报告"),
        subtitle_parts=(f"（{zh_date(f.period.first)}至{zh_date(f.period.last)}，", f"数据截至{zh_date(f.as_of)}）"),
        unit=f.unit, drawn_on=drawn_on, drawn_at=drawn_at, addressee=addressee or paper.addressee or None,
        document_number=paper.number(drawn_on.year), signer=paper.signer, copy_to=paper.copy_to,
        issuer=paper.issuer or f"{f.unit}办公室")
    report.blocks.append(Paragraph(f"根据《{regulation}》第十七条“每年分别于当年的6月底和12月底前，"
                                   f"把同人大代表、政协委员联系情况报上级人民检察院”的要求，现将我院{half}联系人大代表、"
                                   f"政协委员工作情况报告如下。"))
    _contacts_section(report, f, zh, paper)
    _matters_section(report, f, zh, drawn_on)
    _quality_section(report, f)
    _supervision_section(report, f, zh)
    _register_section(report, f)
    _events_section(report, f)
    _closing_section(report, f)
    return report


def _contacts_section(report: Report, f: HalfYearFigures, zh: Translator, paper: ReportConfig) -> None:
    """一、contacts with representatives (§5, §11)."""
    add = report.blocks.append
    add(Heading("一、联系人大代表、政协委员情况"))
    cov = f.coverage
    if cov.total == 0:
        text = "名册中尚无人大代表、政协委员。"
    else:
        text = (f"现有人大代表{cov.by_body['npc'].total}名、政协委员{cov.by_body['cppcc'].total}名。"
                + (f"本半年共联系代表委员{f.contacts}人次，{M.CONTACTED.words}{cov.contacted}名，"
                   f"{M.COVERAGE_RATE.words}{_rate(Rate(cov.contacted, cov.total))}；"
                   f"其中人大代表{cov.by_body['npc'].contacted}名、政协委员{cov.by_body['cppcc'].contacted}名。"
                   if f.contacts else "本半年未记录联系代表委员情况。"))
        year = f.year_coverage
        if year is not None:
            missing = year.total - year.contacted
            text += (f"全年累计{M.CONTACTED.words}{year.contacted}名，"
                     f"{M.COVERAGE_RATE.words}{_rate(Rate(year.contacted, year.total))}，"
                     + (f"尚有{missing}名未联系。" if missing else "实现每位代表委员每年至少联系一次。"))
    add(Paragraph(text))
    methods = [(zh(METHOD_LABELS[m]), f.contacts_by_method[m]) for m in METHODS]
    add(Table("联系方式", "联系代表委员方式统计", ("联系方式", "人次"), [*methods, _sum_row("合计", methods)]))
    add(Table("覆盖情况（类别）", "联系覆盖情况（按类别）", ("类别", "总人数", "已联系", "未联系", M.COVERAGE_RATE.words),
              coverage_rows(cov), frozenset({4})))
    add(Table("覆盖情况（界别）", "政协委员联系覆盖情况（按界别）", ("界别", "总人数", "已联系", M.COVERAGE_RATE.words),
              sector_rows(cov.by_body_sector.get("cppcc", {}), paper.sectors), frozenset({3}), wrap=frozenset({0})))


def _matters_section(report: Report, f: HalfYearFigures, zh: Translator, drawn_on: date) -> None:
    """二、matters received and how they stand (§3, §12)."""
    add = report.blocks.append
    add(Heading("二、建议、批评、意见及转交案件受理办理情况"))
    kinds = [(zh(KIND_LABELS[k]), f.by_kind[k], Rate(f.by_kind[k], f.registered).value) for k in KINDS]
    if f.registered:
        d = f.disposition
        add(Paragraph(f"本半年共{M.REGISTERED.words}代表委员提出的建议、批评、意见和转交的举报、控告、申诉"
                      f"{f.registered}件，其中" + "、".join(f"{label}{n}件" for label, n, _share in kinds)
                      + f"。截至{zh_date(f.as_of)}，上述事项{M.HANDLED.words}{d.handled}件"
                      + (f"（其中{M.TRANSFERRED.words}有关主管机关{d.transferred}件）" if d.transferred else "")
                      + f"，{M.NOT_CONCLUDED.words}{d.not_concluded}件。"))
    else:
        add(Paragraph(f"本半年未{M.REGISTERED.words}代表委员提出的建议、批评、意见和转交的案件。"))
    add(Table("受理类别", "本半年登记事项（按类别）", ("类别", "件数", "占比"),
              [*kinds, ("合计", f.registered, 1.0 if f.registered else None)], frozenset({2})))
    states = [(STATE_WORDS[st], f.by_state[st]) for st in STATES]
    add(Table("办理状态", f"本半年登记事项目前的办理状态（截至{zh_date(drawn_on)}）", ("状态", "件数"),
              [*states, _sum_row("合计", states)]))
    outcomes = [(zh(OUTCOME_LABELS[o]), f.by_outcome[o]) for o in OUTCOMES] + [("尚未定类", f.by_outcome[""])]
    add(Table("办理结果", "本半年登记事项办理结果分类", ("结果分类", "件数"), [*outcomes, _sum_row("合计", outcomes)]))
    if f.units:  # a roll-up: the figures above are the sum of the units' below
        add(Paragraph(f"以上情况包括本院和所辖{len(f.units) - 1}个院。各院情况见下表（{M.OVERDUE.words}截至"
                      f"{zh_date(f.as_of)}）。"))
        rows = [(u.name, u.registered, u.handled, u.due, u.on_time, u.not_concluded, u.overdue, u.representatives,
                 u.contacted) for u in f.units]
        add(Table("各院情况", "各院受理办理及联系情况", ("单位", M.REGISTERED.words, M.HANDLED.words, "到期应办结",
                                                "按期办结", M.NOT_CONCLUDED.words, M.OVERDUE.words, "代表委员",
                                                "已联系"), [*rows, _sum_row("合计", rows)]))


def _quality_section(report: Report, f: HalfYearFigures) -> None:
    """三、quality: on time, satisfaction, extensions, transfers (§12, §14)."""
    add = report.blocks.append
    add(Heading("三、办理质效情况"))
    add(Heading("（一）办结及按期办结情况", 2))
    t = f.timeliness
    text = f"本半年{M.HANDLED.words}事项{f.handled}件（按办结日期统计，含此前登记的事项）。"
    text += (f"本半年{M.DUE.words}{t.due}件，其中{M.ON_TIME.words}{t.on_time}件、{M.LATE.words}{t.late}件、"
             f"{M.DUE_OPEN.words}{t.due_open}件，{M.ON_TIME_RATE.words}{_rate(t.rate)}。" if t.due
             else f"本半年无{M.DUE.words}的事项。")
    add(Paragraph(text))
    add(Table("按期办结", "按期办结情况",
              (M.DUE.words, M.ON_TIME.words, M.LATE.words, M.DUE_OPEN.words, M.ON_TIME_RATE.words),
              [(t.due, t.on_time, t.late, t.due_open, t.rate.value)], frozenset({4})))
    add(Note(M.note(M.HANDLED, M.DUE, M.DUE_OPEN) + f"“{M.DUE_OPEN.words}”只计本半年到期的事项，与第四部分"
             f"“{M.OVERDUE.words}”（截至{zh_date(f.as_of)}已过期限未办结的全部事项）口径不同。"))
    add(Heading("（二）答复及满意度情况", 2))
    sat = f.satisfaction
    add(Paragraph(f"本半年共{M.REPLIES.words}{sat.replies}件，代表委员{M.RATED.words}{sat.rated}件，"
                  f"{M.RESPONSE_RATE.words}{_rate(sat.response_rate)}；其中{M.SATISFIED.words}{sat.satisfied}件、"
                  f"{M.BASICALLY.words}{sat.basically}件、{M.DISSATISFIED.words}{sat.dissatisfied}件，"
                  f"{M.SATISFACTION_RATE.words}{_rate(sat.satisfaction_rate)}；{M.UNRATED.words}{sat.unrated}件。"
                  f"{M.REOPENED.words}{f.reopened}次。" if sat.replies else
                  f"本半年未发出答复。{M.REOPENED.words}{f.reopened}次。"))
    add(Table("满意度", "答复满意度",
              (M.REPLIES.words, M.SATISFIED.words, M.BASICALLY.words, M.DISSATISFIED.words, M.UNRATED.words,
               M.RESPONSE_RATE.words, M.SATISFACTION_RATE.words),
              [(sat.replies, sat.satisfied, sat.basically, sat.dissatisfied, sat.unrated, sat.response_rate.value,
                sat.satisfaction_rate.value)], frozenset({5, 6})))
    add(Note(M.note(M.RESPONSE_RATE, M.SATISFACTION_RATE)))
    add(Heading("（三）延期办理情况", 2))
    ext = f.extensions
    asked = sum(ext.values())
    approved, refused, pending = (ext.get(s, 0) for s in (ExtensionState.APPROVED, ExtensionState.REFUSED,
                                                           ExtensionState.PENDING))
    add(Paragraph(f"本半年承办部门申请延期{asked}件，批准{approved}件，不予批准{refused}件，尚待审批{pending}件。"
                  if asked else "本半年无延期办理申请。"))
    add(Table("延期办理", "延期办理情况", ("申请延期", "批准", "不予批准", "尚待审批"),
              [(asked, approved, refused, pending)]))
    add(Heading("（四）移送情况", 2))
    moved = f.transferred
    add(Paragraph(f"对不属于本院管辖的事项，先行接访、说明情况后，本半年{M.TRANSFERRED.words}有关主管机关{moved}件"
                  "（按移送日期统计，含此前登记的事项）。" if moved else
                  f"本半年无{M.TRANSFERRED.words}有关主管机关的事项。"))
    add(Table("移送", "移送有关主管机关情况", ("主管机关", "件数"),
              [*((a or "未填写", n) for a, n in f.transfers), ("合计", moved)] if f.transfers else [],
              wrap=frozenset({0})))


def _supervision_section(report: Report, f: HalfYearFigures, zh: Translator) -> None:
    """四、supervision and urging (§13, §16)."""
    add = report.blocks.append
    add(Heading("四、督办催办情况"))
    (urged, urged_matters), (flags, flagged) = f.urgings, f.stale
    add(Paragraph(f"截至{zh_date(f.as_of)}，全院{M.NOT_CONCLUDED.words}事项{f.not_concluded}件，"
                  + (f"其中{M.OVERDUE.words}{len(f.overdue)}件（见表{len(report.tables) + 2}）。" if f.overdue
                     else f"无{M.OVERDUE.words}事项。")
                  + f"本半年专人催办{urged}次，涉及事项{urged_matters}件；因长期未办理被标记{flags}次，涉及事项{flagged}件。"))
    add(Table("督办催办", "督办催办情况", ("催办次数", "催办事项", "长期未办理标记", "涉及事项"),
              [(urged, urged_matters, flags, flagged)]))
    add(Table("逾期未办结", f"{M.OVERDUE.words}事项（截至{zh_date(f.as_of)}）",
              ("编号", "类别", "承办部门", "办理期限", "逾期天数"),
              [(o.number, zh(KIND_LABELS[o.kind]), o.department or "尚未交办", o.due_date, o.days)
               for o in f.overdue], doc_limit=DOC_LIST_LIMIT, wrap=frozenset({2})))
    add(Note(M.note(M.NOT_CONCLUDED, M.OVERDUE)))


def _register_section(report: Report, f: HalfYearFigures) -> None:
    """五、major cases reported and protests filed with the people's congress (§4)."""
    add = report.blocks.append
    add(Heading("五、向县人大报告重大案件及抗诉案件备案情况"))
    filed = sum(1 for e in f.protests if e.filed_on is not None)
    unfiled = len(f.protests) - filed
    major = f"向县人民代表大会及其常委会报告重大案件{len(f.major_cases)}件" if f.major_cases else "未向县人大报告重大案件"
    protests = (f"向人民法院提出抗诉{len(f.protests)}件，已报县人大常委会备案{filed}件"
                + (f"，尚未备案{unfiled}件" if unfiled else "")) if f.protests else "未向人民法院提出抗诉"
    add(Paragraph(f"本半年{major}；{protests}。"))
    add(Table("重大案件报告", "向县人大报告重大案件情况", ("序号", "案件名称", "案号", "报告日期", "备注"),
              register_rows(f.major_cases, protest=False), wrap=frozenset({1, 4})))
    add(Table("抗诉备案", "抗诉案件报县人大常委会备案情况", ("序号", "案件名称", "案号", "抗诉日期", "备案日期"),
              register_rows(f.protests, protest=True), wrap=frozenset({1})))


def _events_section(report: Report, f: HalfYearFigures) -> None:
    """六、events and law-enforcement supervisors (§5, §6, §15)."""
    add = report.blocks.append
    add(Heading("六、邀请代表委员参加活动及执法监督员参与情况"))
    if f.events:
        reps, sups = sum(e.representatives for e in f.events), sum(e.supervisors for e in f.events)
        text = f"本半年举办活动{len(f.events)}次，邀请代表委员参加{reps}人次，其中执法监督员{sups}人次。"
    else:
        text = "本半年系统中未记录举办的活动及执法监督员参与情况。"
    add(Paragraph(f"现有执法监督员{f.supervisors}名。{text}"))
    add(Table("活动", "邀请代表委员参加活动情况", ("日期", "活动名称", "类型", "参加代表委员（人次）", "其中执法监督员（人次）"),
              event_rows(f.events), wrap=frozenset({1})))


def _closing_section(report: Report, f: HalfYearFigures) -> None:
    """七、what is left to the office, and the audit log's head."""
    add = report.blocks.append
    add(Heading("七、存在的问题和下一步工作"))
    add(Paragraph("（此部分由办公室根据实际情况补充。）"))
    add(Paragraph("特此报告。"))
    if f.audit_head is not None:  # printed, so that a log later cut short can be told apart (storage/audit.py)
        add(Paragraph(audit_note(f.audit_head)))
        count, digest = f.audit_head
        report.notes += [f"审计日志：截至制表时共{count}条记录", f"最新一条记录的校验值（SHA-256）：{digest}"]


def half_year_files(report: Report) -> tuple[bytes, bytes]:
    """The report as (.docx, .xlsx); the workbook's first sheet says what its figures count."""
    lines = [report.subtitle.strip("（）"), f"生成日期：{zh_date(report.drawn_on)}", *report.notes, "",
             "统计口径：", *(f"“{m.words}”：{m.counts}。" for m in M.ALL)]
    return write_docx(report), write_xlsx(report.title, lines, report.tables, author=report.unit,
                                          created=report.drawn_at)


def audit_note(head: tuple[int, str]) -> str:
    count, digest = head
    return f"附：截至制表时，审计日志共{count}条记录，最新一条记录的校验值（SHA-256）为{digest}，请留存备查。"
