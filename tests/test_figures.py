"""Issue 16 §1, SPEC §7 (seed §12-§14, §17, §19): one definition per figure. Every figure that the
leadership digest, the half-year report (.docx and .xlsx, and its chat summary) and the assessment share
is the same measure, named by the same words, and the same number when drawn from one database for the
same period.

The database is a few hundred matters in every state, drawn at random (fixed seed) over 2025-2026, with
replies and ratings, transfers, extensions' dates, major matters with and without progress notices, and
contacts. On 31 December 2026 the office draws the report of 2026H2 and the assessment of 2026 and a
leader's digest is computed for the same half-year and for the year; each paper is then read back (the
digest's Chinese text by the words of each measure, the document and the workbooks by their tables'
headers) and every shared figure compared.
"""

from __future__ import annotations

import io
import random
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import docx
import openpyxl
import pytest
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph as DocxParagraph

from bot.domain import KINDS, add_months
from bot.i18n import Translator
from bot.model import UnitScope
from handlers.reports import digest_figures as digest, digest_text, measures as M, report_text, figures as reports
from handlers.reports import assessment_text
from tests.fakes import Harness

SH = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 12, 31)
NOW = datetime(2026, 12, 31, 10, 0, tzinfo=SH)
DEPARTMENTS = ("第一检察部", "第二检察部", "第三检察部")


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def moment(day: date, rng: random.Random) -> datetime:
    return datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60), tzinfo=SH)


async def seed(h: Harness, n: int = 500) -> None:
    """Matters in every state, consistent with themselves, all registered before NOW."""
    rng = random.Random(16)
    depts = [await h.add_department(name) for name in DEPARTMENTS]
    office = await h.add_staff("陈静", ["office"])
    handler = await h.add_staff("刘洋", ["handler"], DEPARTMENTS[0])
    reps = [await h.add_representative(f"代表{i}", body="npc" if i % 2 else "cppcc", phone=f"1380000{i:04d}")
            for i in range(12)]
    states = ("registered", "assigned", "in_progress", "reopened", "concluded", "replied", "rated", "closed",
              "transferred", "cannot_meet")
    async with h.db.transaction() as tx:
        for i in range(n):
            registered = moment(date(2025, 9, 1) + timedelta(days=rng.randrange(486)), rng)
            if registered >= NOW:
                registered = NOW - timedelta(hours=1 + i % 5)
            due = add_months(registered.date(), 3) + timedelta(days=rng.choice((0, 0, 0, 30)))  # some extended
            state = rng.choice(states)
            dept = None if state in ("registered", "transferred", "cannot_meet") else rng.choice(depts)
            major = dept is not None and rng.random() < 0.25
            span = max(1, (NOW - registered).days)
            concluded = closed = transferred_to = None
            replies: list[tuple[datetime, str | None, str]] = []
            if state in ("concluded", "replied", "rated", "closed"):
                concluded = registered + timedelta(days=rng.randrange(span), hours=1)
                concluded = min(concluded, NOW - timedelta(minutes=30))
            if state in ("replied", "rated", "closed"):
                sent = min(concluded + timedelta(days=rng.randrange(10)), NOW - timedelta(minutes=20))  # type: ignore[operator]
                rating = None if state == "replied" else rng.choice(("satisfied", "basically", "unrated"))
                replies.append((sent, rating, "reply"))
            if state == "reopened":
                sent = registered + timedelta(days=rng.randrange(span), hours=2)
                replies.append((min(sent, NOW - timedelta(minutes=10)), "dissatisfied", "reply"))
            if state == "cannot_meet":
                state = "replied"
                replies.append((min(registered + timedelta(days=rng.randrange(span)), NOW - timedelta(minutes=5)),
                                rng.choice((None, "basically", "dissatisfied")), "cannot_meet"))
            if state == "transferred":
                closed = min(registered + timedelta(days=rng.randrange(min(span, 20)), hours=3), NOW)
                transferred_to = rng.choice(("卢氏县公安局", "卢氏县人民法院"))
            number = f"LS-{registered.year}-{i + 1:04d}"
            matter = await tx.insert(
                "INSERT INTO matters (number, kind, representative_id, subject, body, state, major, department_id,"
                " urger_id, registered_at, due_date, updated_at, concluded_at, closed_at, transferred_to)"
                " VALUES (?, ?, ?, '事由', '正文', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (number, rng.choice(KINDS), rng.choice(reps), state, int(major), dept, office if dept else None,
                 stamp(registered), due.isoformat(), stamp(registered),
                 concluded.astimezone(UTC).isoformat() if concluded else None,
                 closed.astimezone(UTC).isoformat() if closed else None, transferred_to))
            events = [("registered", registered)] + ([("assigned", registered + timedelta(hours=1))] if dept else [])
            if major and rng.random() < 0.5:
                events.append(("progress_public", registered + timedelta(days=rng.randrange(span))))
            for event, at in events:
                await tx.execute("INSERT INTO timeline (matter_id, at, event, public, detail) VALUES (?, ?, ?, 1, '{}')",
                                 (matter, stamp(min(at, NOW)), event))
            for sent, rating, kind in replies:
                await tx.execute(
                    "INSERT INTO replies (matter_id, round, kind, body, grounds, via, state, drafted_by, drafted_at,"
                    " sent_at, rating, rated_at) VALUES (?, 1, ?, '答复', '依据', 'chat', 'sent', ?, ?, ?, ?, ?)",
                    (matter, kind, handler, stamp(sent), stamp(sent), rating,
                     stamp(min(sent + timedelta(hours=5), NOW)) if rating else None))
        for rep in reps[:9]:
            day = date(2026, 1, 1) + timedelta(days=rng.randrange(365))
            await tx.execute("INSERT INTO contacts (representative_id, method, contacted_on, staff_id, source,"
                             " created_at) VALUES (?, 'forum', ?, ?, 'chat', ?)", (rep, day.isoformat(), office,
                                                                                  stamp(NOW)))


# -- reading each paper back -----------------------------------------------------------------------


def digest_figures(text: str) -> dict[str, str]:
    """Every "words：N" or "words N" of the digest's Chinese text, by the measure's words: a measure's words
    never follow another Chinese character there (so 未办结 is never read inside 逾期未办结)."""
    found: dict[str, str] = {}
    for m in M.ALL:
        hits = re.findall(rf"(?<![\u4e00-\u9fff]){re.escape(m.words)}[：]?\s?(\d+(?:\.\d)?%?)", text)
        if hits:
            assert len(set(hits)) == 1, (m.words, hits)
            found[m.words] = hits[0]
    return found


def read_docx(path: str | Path) -> tuple[list[str], dict[str, list[list[str]]]]:
    document = docx.Document(str(path))
    paragraphs: list[str] = []
    tables: dict[str, list[list[str]]] = {}
    for element in document.element.body.iterchildren():
        if element.tag.endswith("}p"):
            if text := DocxParagraph(element, document).text:
                paragraphs.append(text)
        elif element.tag.endswith("}tbl"):
            rows = [[c.text for c in row.cells] for row in DocxTable(element, document).rows]
            if not rows[-1][-1].endswith("印发"):  # not the 版记 that closes the report
                tables[paragraphs[-1].split("　", 1)[1]] = rows
    return paragraphs, tables


def read_xlsx(path: str | Path) -> dict[str, list[list[Any]]]:
    book = openpyxl.load_workbook(io.BytesIO(Path(path).read_bytes()))
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}


def columns(rows: list[list[Any]], row: int = 1) -> dict[str, Any]:
    """A table's header words → the value in one of its rows."""
    return dict(zip([str(h) for h in rows[0]], rows[row]))


def rate(value: Any) -> str:
    return "—" if value is None else M.percent(float(value))


@pytest.fixture
async def drawn(harness: Harness) -> dict[str, Any]:
    await seed(harness)
    harness.clock.set(NOW.astimezone(UTC))
    config = harness.app.config
    async with harness.db.snapshot() as q:
        half = await digest.compute(q, UnitScope.of(1), config, digest.Period("month", date(2026, 7, 1), TODAY, TODAY), TODAY)
        year = await digest.compute(q, UnitScope.of(1), config, digest.Period("month", date(2026, 1, 1), TODAY, TODAY), TODAY)
        report = await reports.half_year(q, UnitScope.of(1), reports.HalfYear(2026, 2), TODAY, SH, config.unit.name)
        assessed = await reports.assessment(q, UnitScope.of(1), 2026, TODAY, SH, config.unit.name)
    zh = Translator("zh_Hans", SH)
    clerk = harness.user("3001")
    await clerk.say(f"/start {await harness.invite(await harness.add_staff('李娜', ['office']))}")
    sent = await clerk.say("/report 2026H2")
    paths = [f[0] for s in sent for f in s.payload.get("files") or []]
    book = harness.app.config.storage.files_dir / "assessment.xlsx"
    book.write_bytes(assessment_text.assessment_file(assessed, NOW, SH))
    return {"half": half, "year": year, "report": report, "assessed": assessed,
            "half_text": digest_text.render(zh, half)[1], "year_text": digest_text.render(zh, year)[1],
            "docx": read_docx(paths[0]), "xlsx": read_xlsx(paths[1]), "assessment": read_xlsx(book),
            "summary": [s.text for s in sent if s.op == "message"][-1]}


# -- the tests -------------------------------------------------------------------------------------


def test_every_measure_has_one_name_in_every_language() -> None:
    """The chat's catalog says each measure by the very words the papers print; no two share a name."""
    zh = Translator("zh_Hans", SH)
    for m in M.ALL:
        assert zh(m.msgid) == m.words, m.key
        assert Translator("en", SH)(m.msgid) == m.msgid
    assert len({m.words for m in M.ALL}) == len(M.ALL) and len({m.msgid for m in M.ALL}) == len(M.ALL)


async def test_the_database_covers_every_case(drawn: dict[str, Any]) -> None:
    """The seed is rich enough that agreement below means something."""
    half, report = drawn["half"], drawn["report"]
    t = half.timeliness
    assert min(t.on_time, t.late, t.due_open, half.registered, half.handled, half.not_concluded, len(half.overdue),
               half.reopened, len(half.owing_notice), half.awaiting_reply, report.transferred) > 0
    assert report.disposition.transferred > 0 and report.disposition.not_concluded > 0
    s = drawn["year"].satisfaction
    assert min(s.satisfied, s.basically, s.dissatisfied, s.unrated) > 0


async def test_the_digest_and_the_half_year_report_agree(drawn: dict[str, Any]) -> None:
    """Same period (2026H2), same day (31 December): the digest's figures, by their words, are the report's."""
    said = digest_figures(drawn["half_text"])
    paragraphs, tables = drawn["docx"]
    sheets = drawn["xlsx"]
    report = drawn["report"]
    # registered-in
    assert said[M.REGISTERED.words] == tables["本半年登记事项（按类别）"][-1][1] == str(report.registered)
    # handled-in
    assert f"本半年{M.HANDLED.words}事项{said[M.HANDLED.words]}件" in "".join(paragraphs)
    # due-in: the digest's line and table 按期办结情况, in the document and in the workbook
    doc = columns(tables["按期办结情况"])
    book = columns(next(rows for name, rows in sheets.items() if name.endswith("按期办结")))
    for m in (M.DUE, M.ON_TIME, M.LATE, M.DUE_OPEN):
        assert said[m.words] == doc[m.words] == str(book[m.words]), m.words
    assert said[M.ON_TIME_RATE.words] == doc[M.ON_TIME_RATE.words] == rate(book[M.ON_TIME_RATE.words])
    # as-of: not concluded and overdue on 31 December, whatever their due date
    assert (f"全院{M.NOT_CONCLUDED.words}事项{said[M.NOT_CONCLUDED.words]}件，其中{M.OVERDUE.words}"
            f"{said[M.OVERDUE.words]}件") in "".join(paragraphs)
    overdue_sheet = next(rows for name, rows in sheets.items() if name.endswith("逾期未办结"))
    assert [row[0] for row in overdue_sheet[1:]] == [m.number for m in drawn["half"].overdue]
    # rated-in
    assert f"{M.REOPENED.words}{said[M.REOPENED.words]}次" in "".join(paragraphs)
    # the year's coverage (§11), as the second half's report gives it
    contacted = re.search(r"已联系代表委员 (\d+)/(\d+) 名，联系覆盖率 ([\d.]+%)", drawn["half_text"])
    assert contacted is not None
    assert (f"全年累计{M.CONTACTED.words}{contacted[1]}名，{M.COVERAGE_RATE.words}{contacted[3]}"
            in "".join(paragraphs))
    # the chart's bars add up to the digest's 未办结
    assert sum(r.on_time + r.due_soon + r.overdue for r in drawn["half"].departments) == drawn["half"].not_concluded
    # the chat's summary of the report
    assert (f"登记 {said[M.REGISTERED.words]} 件；办结 {said[M.HANDLED.words]} 件；到期应办结 {said[M.DUE.words]} 件，"
            f"其中按期办结 {said[M.ON_TIME.words]} 件；逾期未办结 {said[M.OVERDUE.words]} 件") in drawn["summary"]


async def test_the_year_digest_and_the_assessment_agree(drawn: dict[str, Any]) -> None:
    """Same year (2026), same day: the digest of the year and the assessment's total row, by their words."""
    said = digest_figures(drawn["year_text"])
    total = columns(drawn["assessment"]["表1 部门"], -1)
    assert total["承办部门"] == "合计"
    for m in (M.REGISTERED, M.HANDLED, M.DUE, M.ON_TIME, M.LATE, M.DUE_OPEN, M.REPLIES, M.SATISFIED, M.BASICALLY,
              M.DISSATISFIED, M.REOPENED):
        assert said[m.words] == str(total[m.words]), m.words
    for m in (M.ON_TIME_RATE, M.RESPONSE_RATE, M.SATISFACTION_RATE):
        assert said[m.words] == rate(total[m.words]), m.words
    # and the half-year digest's satisfaction is the year's too (the digest always counts the year so far)
    assert digest_figures(drawn["half_text"])[M.REPLIES.words] == str(total[M.REPLIES.words])
    # the department rows add up to the total
    rows = drawn["assessment"]["表1 部门"][1:-1]
    header = [str(h) for h in drawn["assessment"]["表1 部门"][0]]
    for m in (M.REGISTERED, M.HANDLED, M.DUE, M.ON_TIME, M.REPLIES, M.REOPENED):
        assert sum(r[header.index(m.words)] for r in rows) == total[m.words], m.words


async def test_the_report_says_what_each_figure_counts_where_two_could_be_confused(drawn: dict[str, Any]) -> None:
    paragraphs, _tables = drawn["docx"]
    notes = [p for p in paragraphs if p.startswith("注：")]
    for m in (M.HANDLED, M.DUE, M.DUE_OPEN, M.NOT_CONCLUDED, M.OVERDUE, M.RESPONSE_RATE, M.SATISFACTION_RATE):
        assert any(f"“{m.words}”指{m.counts}" in n for n in notes), m.words
    about = [str(row[0]) for row in drawn["xlsx"]["说明"] if row[0]]
    for m in M.ALL:
        assert f"“{m.words}”：{m.counts}。" in about
    # 办结 of the matters registered in the half-year is said as such, transfers counted within it
    d = drawn["report"].disposition
    assert any(f"上述事项{M.HANDLED.words}{d.handled}件（其中{M.TRANSFERRED.words}有关主管机关{d.transferred}件），"
               f"{M.NOT_CONCLUDED.words}{d.not_concluded}件" in p for p in paragraphs)
    assert d.handled + d.not_concluded == drawn["report"].registered


async def test_a_progress_notice_is_owed_only_near_the_due_date_and_only_by_a_department(harness: Harness) -> None:
    """Seed §12 (the digest's 应通报而未通报进展): a major matter a department handles, due within the notice
    days (supervision.major_notice_days) or past due, with no progress notice since its latest assignment.
    Not one 42 days from its due date, nor one not yet assigned, nor one that had its notice."""
    dept = await harness.add_department("第一检察部")
    rep = await harness.add_representative("王建国")
    today = date(2026, 11, 30)
    cases = {  # number: (state, department?, days to due, notice after assignment?, counted?)
        "LS-2026-0001": ("assigned", True, 42, False, False),
        "LS-2026-0002": ("registered", False, 3, False, False),
        "LS-2026-0003": ("in_progress", True, 7, False, True),
        "LS-2026-0004": ("in_progress", True, -5, False, True),
        "LS-2026-0005": ("assigned", True, 3, True, False),
        "LS-2026-0006": ("reopened", True, 3, False, False),
    }
    async with harness.db.transaction() as tx:
        for number, (state, has_dept, left, notice, _counted) in cases.items():
            registered = datetime(2026, 8, 1, 9, tzinfo=SH)
            matter = await tx.insert(
                "INSERT INTO matters (number, kind, representative_id, subject, body, state, major, department_id,"
                " registered_at, due_date, updated_at) VALUES (?, 'report', ?, 's', 'b', ?, 1, ?, ?, ?, ?) RETURNING id",
                (number, rep, state, dept if has_dept else None, stamp(registered),
                 (today + timedelta(days=left)).isoformat(), stamp(registered)))
            events = [("registered", registered), ("assigned", registered + timedelta(hours=1))]
            if notice:
                events.append(("progress_public", registered + timedelta(days=3)))
            for event, at in events:
                await tx.execute("INSERT INTO timeline (matter_id, at, event, public, detail) VALUES (?, ?, ?, 1, '{}')",
                                 (matter, stamp(at), event))
    async with harness.db.snapshot() as q:
        d = await digest.compute(q, UnitScope.of(1), harness.app.config, digest.on_demand(today), today)
    assert [m.number for m in d.owing_notice] == ["LS-2026-0004", "LS-2026-0003"]
    assert [n for n, case in cases.items() if case[4]] == sorted(m.number for m in d.owing_notice)


def test_a_rate_never_rounds_to_all_or_nothing() -> None:
    assert [M.percent(v) for v in (None, 0.0, 0.0004, 0.0625, 2 / 3, 0.9996, 1.0)] == [
        "—", "0.0%", "0.1%", "6.3%", "66.7%", "99.9%", "100.0%"]
    assert [M.percent(M.Rate(p, w).value) for p, w in ((0, 0), (1, 3), (2, 4))] == ["—", "33.3%", "50.0%"]


def test_a_matter_is_counted_once_per_rule(drawn: dict[str, Any]) -> None:
    """Within a period: 到期应办结 = 按期 + 超期 + 到期未办结; 答复 = 已评价 + 未评价; 未办结 splits by department."""
    for name in ("half", "year"):
        d = drawn[name]
        t, s = d.timeliness, d.satisfaction
        assert t.due == t.on_time + t.late + t.due_open
        assert s.replies == s.rated + s.unrated
        assert Counter(x.department for x in d.overdue) == Counter(
            {r.department: r.overdue for r in d.departments if r.overdue})
