"""The console channel as a new user meets it: `python -m bot run` with no token, a piped script."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow(3)  # a child process or a real-time fake: started first


ROOT = Path(__file__).resolve().parent.parent


def run_console(tmp_path: Path, script: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "LIAISON_TELEGRAM_TOKEN"}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"], input=script, capture_output=True, text=True, cwd=tmp_path,
        env=env, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_piped_script_submits_a_referred_case_on_the_demo_roster(tmp_path: Path) -> None:
    attachment = tmp_path / "证据.txt"
    attachment.write_text("证据内容", "utf-8")
    script = "\n".join([
        ":who", ":as 王建国", "/submit", "4", "邻居被骗十万元", "请检察院关注此案。", "1",
        f":file {attachment}", "1", "张三", "13900001111", "1", "/my", ":as 陈静", ":as guest", "你好", "",
    ])
    out = run_console(tmp_path, script)
    assert "王建国（npc）" in out and "陈静（office）" in out  # :who lists the demo people
    assert "[4] 举报" in out  # buttons as numbered choices
    assert "已收到附件（共 1 个）。" in out
    assert "举报人：张三，联系方式：13900001111" in out
    assert "感谢您的监督，您转交的举报已登记。\n编号：LS-" in out
    assert "── 陈静 ──\n【新事项】" in out  # the office is told, under its own name
    # its one button opens the matter: shown as the number to type, which no bare number presses
    notice = out.split("── 陈静 ──\n【新事项】")[1].split("──")[0]
    assert re.search(r"\[LS-\d{4}-0001\] 查看事项", notice) and "[1]" not in notice
    assert "举报 · 已登记" in out  # /my
    assert "请向本院办公室索取您的专属邀请链接" in out  # the unbound guest
    assert (tmp_path / "data" / "liaison.db").exists()


def test_the_demo_roster_is_seeded_once_and_the_database_kept(tmp_path: Path) -> None:
    run_console(tmp_path, ":as 李秀梅\n/submit\n1\n事由\n内容\n1\n1\n1\n")
    out = run_console(tmp_path, ":as 李秀梅\n/my\n")
    assert out.count("LS-") == 2  # the matter of the first run, listed and on its button
    assert "共 1 件" in out


def test_an_invite_from_the_command_line_binds_a_console_guest(tmp_path: Path) -> None:
    run_console(tmp_path, ":who\n")  # seeds the demo roster
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    invite = subprocess.run([sys.executable, "-m", "bot", "invite", "--name", "张伟", "--json"], cwd=tmp_path,
                            capture_output=True, text=True, env=env, timeout=60, check=True)
    import json

    code = json.loads(invite.stdout)["code"]
    out = run_console(tmp_path, f":as guest\n/start {code}\n")
    assert "张伟代表，您好！您的账号已绑定成功。" in out


def test_after_a_restart_a_number_presses_the_button_shown_before_it(tmp_path: Path) -> None:
    """Issue 12, gap 12: the dialogue survives a restart (SPEC §3), and so do its buttons in the console: `:as`
    shows the person's last message with buttons again, and a scripted `1` presses its first button."""
    before = run_console(tmp_path, ":as 王建国\n/submit\n1\n道路安全\n请加强乡村道路安全宣传。\n")
    assert "[1] 完成  [2] 取消" in before.split("> 请加强乡村道路安全宣传。")[1]
    after = run_console(tmp_path, ":as 王建国\n1\n1\n1\n")
    shown_again, pressed = after.split("> 1", 1)
    assert "(console: the last message with buttons, shown again" in shown_again
    assert "[1] 完成  [2] 取消" in shown_again
    assert "您可以发送图片或文件作为附件" in pressed.split("> 1")[0]  # Done was pressed: the files step, not a text "1"
    assert "感谢您的监督，您提出的建议已登记。" in after  # 无附件, then 确认提交
    assert "请加强乡村道路安全宣传。\n1" not in after


def test_a_long_piped_script_is_not_cut_by_the_chats_minute(tmp_path: Path) -> None:
    """Found walking the console with a script: past 30 lines in a minute ([intake] max_messages_per_minute, meant
    for a flood from a chat) the rest was dropped with "you are sending more than this service can take". The
    terminal's lines are its own operator's: every one is answered."""
    lines = [":as 王建国"] + [f"/lang" if i % 2 else "/help" for i in range(40)] + ["/my", ""]
    out = run_console(tmp_path, "\n".join(lines))
    assert "一分钟" not in out and "more than" not in out
    assert out.count("> /my\n") == 1 and "您还没有提交过事项" in out.split("> /my\n")[1]
