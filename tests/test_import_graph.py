"""The house has rooms and no loops (issue 13, "Names and rooms"): every module of bot/, handlers/ and
storage/ imports cleanly in a fresh interpreter; the modules of handlers/ import one another without a
cycle; and no function in handlers/ imports from handlers/ — the way a cycle used to be hidden. The
deadline sweep gets the areas' reminders from handlers/routes.py (REMINDERS), not by importing them back."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "storage")

# Function-level imports of handlers/ inside handlers/ that are justified: (module, imported). None today.
ALLOWED_LATE_IMPORTS: frozenset[tuple[str, str]] = frozenset()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(package: str) -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((ROOT / package).rglob("*.py"))}


def _imported(node: ast.Import | ast.ImportFrom, known: dict[str, Path]) -> list[str]:
    """The modules of `known` an import statement loads (`from handlers.x import y` loads handlers.x.y when
    y is a module, else handlers.x)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in known]
    if node.level or node.module is None:
        return []
    found = []
    for alias in node.names:
        sub = f"{node.module}.{alias.name}"
        if sub in known:
            found.append(sub)
        elif node.module in known:
            found.append(node.module)
    return found


def _graph() -> tuple[dict[str, set[str]], list[tuple[str, str, int]]]:
    """handlers' module-level import graph, and every import of handlers/ made inside a function or class."""
    known = _modules("handlers")
    edges: dict[str, set[str]] = {name: set() for name in known}
    late: list[tuple[str, str, int]] = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node, in_function in _imports(tree):
            targets = [t for t in _imported(node, known) if t != name]
            if in_function:
                late += [(name, t, node.lineno) for t in targets]
            else:  # module level, `if TYPE_CHECKING:` blocks included
                edges[name].update(targets)
    return edges, late


def _imports(tree: ast.AST, in_function: bool = False) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement, and whether it is inside a function or class body."""
    found: list[tuple[ast.Import | ast.ImportFrom, bool]] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append((node, in_function))
        inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
        found += _imports(node, inner)
    return found


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules around it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


@pytest.mark.slow(3)
def test_every_module_imports_cleanly_in_a_fresh_interpreter() -> None:
    names = [name for package in PACKAGES for name in _modules(package) if not name.endswith("__main__")]
    assert len(names) > 100
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    done = subprocess.run([sys.executable, "-c", code, *names], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_handlers_modules_import_one_another_without_a_cycle() -> None:
    edges, _late = _graph()
    assert len(edges) > 40 and sum(len(e) for e in edges.values()) > 60  # the graph was read, not empty
    assert _cycle(edges) is None, " -> ".join(_cycle(edges) or [])


def test_no_function_in_handlers_imports_from_handlers() -> None:
    _edges, late = _graph()
    unjustified = [f"{module}:{line} imports {target}" for module, target, line in late
                   if (module, target) not in ALLOWED_LATE_IMPORTS]
    assert not unjustified, unjustified


def test_the_sweep_imports_no_area_and_gets_their_reminders_from_the_routes() -> None:
    edges, _late = _graph()
    areas = ("handlers.liaison", "handlers.matters.", "handlers.reports", "handlers.people")
    sweep = ("handlers.oversight.sweep", "handlers.oversight.matter_rules", "handlers.oversight.sweep_notices")
    sweep_needs = {m for module in sweep for m in edges[module] if m.startswith(areas)}
    # the matter's own notices and the contacts quota's words are what the sweep's own rules say
    assert sweep_needs <= {"handlers.matters.notices", "handlers.liaison.quota"}, sweep_needs
    for module in ("handlers.liaison.event_reminders", "handlers.liaison.card_reminders",
                   "handlers.reports.digest", "handlers.reports.halfyear"):
        assert not edges[module] & set(sweep)
        assert "handlers.oversight.reminders" in edges[module]
    from handlers import routes
    from handlers.liaison import card_reminders, event_reminders
    from handlers.reports import digest, halfyear
    assert routes.REMINDERS == (halfyear.collect, card_reminders.collect, digest.collect, event_reminders.collect)


def test_the_checks_see_a_cycle_and_a_late_import() -> None:
    """The cycle finder itself: a loop of three is found, a chain is not."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    tree = ast.parse("import os\ndef f():\n    import handlers.common\n")
    assert [in_function for _node, in_function in _imports(tree)] == [False, True]


def test_every_package_is_in_the_installed_distribution() -> None:
    """pyproject.toml lists the packages setuptools installs: a new subpackage left out of it would be
    missing from an installed bot (bot.matter was, until the rooms of issue 13)."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    present = {_module_name(p) for package in PACKAGES for p in (ROOT / package).rglob("__init__.py")}
    assert present == listed
