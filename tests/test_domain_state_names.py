"""No state name outside the model (issue 13): a matter's state, and the timeline events its transitions
write, are spelled once, in `bot/matter/states.py`; handlers, storage queries and labels use its constants
(storage's SQL through bound parameters, or `storage.db.literals` where a partial index wants the text)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bot.matter.states import ExtensionState, ReplyState, State

ROOT = Path(__file__).resolve().parent.parent
# A reply's and an extension's states too, but for "sent" and "pending", which the outbox, cards and
# briefings use for their own rows.
NAMES = frozenset(s.value for s in (*State, *ReplyState, *ExtensionState)) - {"sent", "pending"}
SQL_LITERAL = re.compile(r"'(" + "|".join(sorted(NAMES)) + r")'")

# The same words meaning something else: not a matter's state.
OTHER_MEANINGS = {
    ("handlers/reports/measures.py", "registered"): "a measure's key",
    ("handlers/reports/measures.py", "rated"): "a measure's key",
    ("handlers/reports/measures.py", "reopened"): "a measure's key",
    ("handlers/reports/measures.py", "transferred"): "a measure's key",
    ("bot/operator_papers.py", "registered"): "a figure's key in the operator's JSON",
    ("handlers/liaison/card_screens.py", "closed"): "an opinion card's own state",
    ("storage/cards.py", "closed"): "an opinion card's own state",
    ("storage/casework.py", "reopened"): "the column counting reopenings",
}


def state_literals(path: Path) -> list[tuple[int, str]]:
    """(line, name) of each string literal in `path` that spells a matter state (alone, or quoted in SQL);
    a column read from a row (`row["reopened"]`) is not one."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    keys = {id(node.slice) for node in ast.walk(tree) if isinstance(node, ast.Subscript)}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str) or id(node) in keys:
            continue
        if node.value in NAMES:
            found.append((node.lineno, node.value))
        found += [(node.lineno, m.group(1)) for m in SQL_LITERAL.finditer(node.value)]
    return found


def test_no_state_name_outside_the_model() -> None:
    """SPEC §4, seed §12-§14: the matter's life is decided in bot/matter/ alone; a state name (of a matter,
    a reply or an extension) written anywhere else in bot/, handlers/ or storage/ is a defect (issue 13)."""
    offending = []
    for folder in ("bot", "handlers", "storage"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith("bot/matter/"):
                continue
            offending += [f"{relative}:{line}: {name!r}" for line, name in state_literals(path)
                          if (relative, name) not in OTHER_MEANINGS]
    assert not offending, "state names outside bot/matter/ (use bot.matter.states):\n" + "\n".join(offending)


def test_the_check_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The check itself: a state as a string, or quoted in SQL, is found; a row's column is not."""
    sample = tmp_path / "sample.py"
    sample.write_text('x = "assigned"\nq = "WHERE state IN (\'closed\', \'rated\')"\ny = row["reopened"]\n')
    assert state_literals(sample) == [(1, "assigned"), (2, "closed"), (2, "rated")]


PURE = {"bot/permissions.py", "bot/context.py", "bot/ports.py", "bot/model.py", "bot/domain.py",
        "bot/matter/__init__.py", "bot/matter/states.py", "bot/matter/model.py", "bot/matter/life.py"}


def test_the_core_takes_its_types_from_the_core() -> None:
    """Issue 13: Matter, Person and Dialog belong to the core; bot/permissions.py, bot/context.py and the model
    import nothing from storage (the Context reaches it through bot/ports.py), and nothing in bot/ takes a
    domain type from storage."""
    types = {"Matter", "NewMatter", "Person", "Dialog"}
    for path in sorted((ROOT / "bot").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("storage"):
                relative = path.relative_to(ROOT).as_posix()
                assert relative not in PURE, f"{relative} imports from storage"
                assert not types & {a.name for a in node.names}, f"{relative} takes a domain type from storage"
