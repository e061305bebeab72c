"""Dialogue state typed per flow (issue 13): each flow reads and writes what its dialogue holds through its
view in `handlers/dialog_state.py`, a TypedDict mypy checks key by key; a handler indexing `dialog.data`
(a `dict[str, Any]`) directly is a key mypy does not know."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.errors import StaleActionError
from handlers.dialog_state import given

ROOT = Path(__file__).resolve().parent.parent
VIEWS = "handlers/dialog_state.py"


def _untyped(path: Path) -> list[int]:
    """Lines where `dialog.data` or `<something>.dialog.data` is used (read, indexed, aliased)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr == "data" and (
                (isinstance(node.value, ast.Name) and node.value.id == "dialog")
                or (isinstance(node.value, ast.Attribute) and node.value.attr == "dialog")):
            found.append(node.lineno)
    return sorted(found)


def test_no_handler_touches_dialog_data_outside_the_typed_views() -> None:
    offending = []
    for path in sorted((ROOT / "handlers").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative != VIEWS:
            offending += [f"{relative}:{line}" for line in _untyped(path)]
    assert not offending, "dialog.data used outside handlers/dialog_state.py (add the flow's view):\n" + \
        "\n".join(offending)


def test_the_check_sees_an_untyped_access(tmp_path: Path) -> None:
    source = tmp_path / "flow.py"
    source.write_text("def f(ctx, dialog):\n    a = dialog.data['x']\n    return ctx.dialog.data\n", encoding="utf-8")
    assert _untyped(source) == [2, 3]


def test_a_value_not_gathered_yet_is_a_stale_press() -> None:
    assert given(0) == 0 and given("") == ""
    with pytest.raises(StaleActionError):
        given(None)
