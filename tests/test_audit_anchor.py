"""The audit log anchored outside the database (issue 15, item 14): cutting entries off its end, or emptying
it, passes the chain check (the head is rewound with it), but not a head published earlier; the half-year
report and the monthly bulletin print the head; a dropped audit table is reported, not a traceback."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import docx

from storage import audit
from tests.fakes import Harness
from tests.audit_world import ZEROS, Run, prepare, query, run, tamper  # noqa: F401 (run is a fixture)

CUT_LAST = ("DELETE FROM audit_log WHERE id = 12",
            "UPDATE audit_head SET count = 11, hash = (SELECT hash FROM audit_log WHERE id = 11)")
EMPTIED = ("DELETE FROM audit_log", f"UPDATE audit_head SET count = 0, hash = '{ZEROS}'")


def test_a_log_cut_short_passes_the_chain_but_not_the_published_head(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "liaison.db"
    head = prepare(path, 12)
    assert run(path, "audit", "verify", "--head", f"12:{head}") == (
        0, f"audit log intact: 12 entries, head {head}; the 1 head(s) published earlier are in it\n", "")
    tamper(path, *CUT_LAST)
    assert run(path, "audit", "verify")[0] == 0  # the review's finding: the chain alone cannot tell
    assert run(path, "audit", "verify", "--head", f"12:{head}") == (1, "", (
        f"audit log cut short or rewritten: the head published earlier (entry 12, {head}) is not in it; it holds 11 "
        "entries now. Put back the last backup that holds it, and find out who had the database file\n"))
    assert run(path, "audit", "verify", "--head", head)[0] == 1


def test_an_emptied_log_is_caught_by_a_file_of_past_heads(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "liaison.db"
    head = prepare(path, 12)
    older = str(query(path, "SELECT hash FROM audit_log WHERE id = 5")[0][0])
    heads = tmp_path / "heads.txt"
    heads.write_text(f"# heads published by the office\n5 {older}\n"
                     f"2026年12月定期通报：审计日志：共12条，最新一条记录的校验值为{head}。\n", "utf-8")
    assert run(path, "audit", "verify", "--heads", str(heads))[0] == 0
    tamper(path, *EMPTIED)
    assert run(path, "audit", "verify") == (0, f"audit log intact: 0 entries, head {ZEROS}\n", "")
    status, _out, err = run(path, "audit", "verify", "--heads", str(heads))
    assert status == 1 and f"(entry 5, {older}) is not in it; it holds 0 entries now" in err


def test_a_rewound_head_with_a_moved_entry_number_is_caught(run: Run, tmp_path: Path) -> None:
    """A hash is checked at the entry number published with it."""
    path = tmp_path / "liaison.db"
    head = prepare(path, 12)
    assert run(path, "audit", "verify", "--head", f"11:{head}")[0] == 1


def test_a_dropped_audit_table_is_reported_as_broken(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "liaison.db"
    prepare(path, 3)
    tamper(path, "DROP TABLE audit_log")
    status, out, err = run(path, "audit", "verify")
    assert (status, out) == (1, "")
    assert err == "audit log broken at entry 1: the audit tables cannot be read (no such table: audit_log)\n"
    tamper_head = tmp_path / "nohead.db"
    prepare(tamper_head, 3)
    tamper(tamper_head, "DROP TABLE audit_head")
    assert run(tamper_head, "audit", "verify")[2] == (
        "audit log broken at entry 1: the audit tables cannot be read (no such table: audit_head)\n")


def test_bad_head_arguments_are_refused(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "liaison.db"
    prepare(path, 2)
    assert run(path, "audit", "verify", "--head", "abc") == (
        1, "", "--head takes a 64-digit hash, or COUNT:HASH, as the audit verify output or a report prints it\n")
    empty = tmp_path / "empty.txt"
    empty.write_text("nothing here\n", "utf-8")
    assert run(path, "audit", "verify", "--heads", str(empty))[2] == f"{empty} holds no head (a 64-digit hash on a line)\n"


async def test_the_half_year_report_and_the_bulletin_print_the_head(harness: Harness) -> None:
    clerk_id = await harness.add_staff("陈静", ["office"])
    leader_id = await harness.add_staff("周明", ["leader"])
    clerk, leader = harness.user("3001"), harness.user("6001")
    await clerk.say(f"/start {await harness.invite(clerk_id)}")
    await leader.say(f"/start {await harness.invite(leader_id)}")
    async with harness.db.snapshot() as q:
        count, digest = await audit.head(q) or (0, "")
    assert count >= 2
    sent = await clerk.say("/report 2026H2")
    [path] = [f[0] for s in sent for f in s.payload.get("files") or [] if f[1].endswith(".docx")]
    paragraphs = [p.text for p in docx.Document(io.BytesIO(Path(path).read_bytes())).paragraphs]
    note = f"附：截至制表时，审计日志共{count}条记录，最新一条记录的校验值（SHA-256）为{digest}，请留存备查。"
    assert note in paragraphs and paragraphs[-3:] == ["卢氏县人民检察院", "2026年11月27日", ""]  # then the 版记
    assert audit.parse_anchors(note) == [audit.Anchor(digest, count)]
    harness.clock.set(datetime(2026, 12, 1, 1, 0, tzinfo=UTC))  # 09:00 on the 1st in Shanghai
    await harness.app.supervise()
    await harness.app.settle()
    [bulletin] = [s.text for s in leader.received if s.text.startswith("办理进展情况定期通报（2026年12月）")]
    last = bulletin.splitlines()[-1]
    assert last.startswith("审计日志：共") and last.endswith("请留存本通报，日后可据此核验此前的记录未被删除。")
    [anchor] = audit.parse_anchors(last)
    assert anchor.count is not None and anchor.count >= count
    async with harness.db.snapshot() as q:
        assert await audit.missing_anchors(q, [anchor]) == []
