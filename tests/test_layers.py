"""The layer rule: a module imports only from its own room, a room of a lower layer, or the
foundation. Every ``import`` is read with ``ast``, the ones inside functions included (a late
import is still a dependency); only ``if TYPE_CHECKING:`` blocks are skipped (they never run).

The order is written once, here (README's Layout section draws the same tree); rooms on one
line are independent siblings: neither imports the other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import actorbench

#: top to bottom; a room is a package or module under ``actorbench``
LAYERS: list[list[str]] = [
    ["cli"],
    ["ui", "notebook"],
    ["server", "diagnostics", "demo"],
    ["workbench"],
    ["reports", "generate"],
    ["present"],
    ["team"],
    ["training"],
    ["captions"],
    ["faces"],
    ["thumbs"],
    ["sync"],
    ["storage"],
    ["actors"],
    ["settings", "fsutil", "clock"],
    ["errors", "units", "_lazy", "terminal"],
]
#: modules still flat beside the packages, and the room they belong to (none left)
ROOM_OF: dict[str, str] = {}
#: the package's ``__init__``: the public surface, above every room (it imports lazily)
TOP = "actorbench"

ROOT = Path(actorbench.__file__).parent


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _room(module: str) -> str:
    """``actorbench.sync.plan`` -> ``sync``; ``actorbench`` -> ``actorbench``."""
    parts = module.split(".")
    return ROOM_OF.get(parts[1], parts[1]) if len(parts) > 1 else TOP


def _rank() -> dict[str, int]:
    return {room: i for i, rooms in enumerate(LAYERS) for room in rooms}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(path: Path, module: str, modules: set[str]) -> list[tuple[int, str]]:
    """(line, imported actorbench module) for every import ``path`` runs."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for a in node.names:  # ``from . import x``: x is a module when there is one
                sub = f"{target}.{a.name}"
                out.append((node.lineno, sub if sub in modules else target))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return [(line, m) for line, m in out if m == TOP or m.startswith(TOP + ".")]


def violations(root: Path = ROOT) -> list[str]:
    """One line per import against the order (each file and line once)."""
    rank = _rank()
    files = sorted(root.rglob("*.py"))
    modules = {_module_name(p, root) for p in files}
    found: list[str] = []
    for path in files:
        module = _module_name(path, root)
        here = _room(module)
        for line, target in _imports(path, module, modules):
            there = _room(target)
            if there == here or here == TOP:
                continue
            where = f"{path.relative_to(root.parent)}:{line}"
            if here not in rank or there not in rank:
                unknown = here if here not in rank else there
                found.append(f"{where}: room {unknown!r} is in no layer of tests/test_layers.py")
            elif there == TOP:
                found.append(f"{where}: {module} imports the package's public surface")
            elif rank[there] < rank[here]:
                found.append(f"{where}: {module} ({here}, layer {rank[here] + 1}) imports "
                             f"{target} ({there}, layer {rank[there] + 1}): an upward import")
            elif rank[there] == rank[here]:
                found.append(f"{where}: {module} ({here}) imports {target} ({there}): "
                             "siblings of one layer are independent")
    return list(dict.fromkeys(found))


def test_no_module_imports_up_the_layers():
    found = violations()
    assert not found, "\n".join(["imports against the layer order:", *found])


def test_every_room_is_in_one_layer():
    rooms = [r for layer in LAYERS for r in layer]
    assert len(rooms) == len(set(rooms))
    present = {_room(_module_name(p)) for p in ROOT.rglob("*.py")} - {TOP}
    assert present <= set(rooms), present - set(rooms)


def test_the_checker_sees_a_late_upward_import(tmp_path):
    """The rule can fail: a function-level import of the CLI from the sync core is reported,
    an import under ``if TYPE_CHECKING:`` is not."""
    pkg = tmp_path / "actorbench"
    (pkg / "sync").mkdir(parents=True)
    for name in ("__init__.py", "cli.py", "workbench.py", "sync/__init__.py"):
        (pkg / name).write_text("")
    (pkg / "sync" / "plan.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from ..workbench import Workbench\n"
        "def f():\n    from ..cli import main\n")
    assert violations(pkg) == [
        "actorbench/sync/plan.py:5: actorbench.sync.plan (sync, layer 12) imports actorbench.cli "
        "(cli, layer 1): an upward import"]


# -- the dashboard's rooms ---------------------------------------------------------------------
#: a ui module longer than this says why in its docstring ("Longer than 300 lines: ...")
UI_MAX_LINES = 300


def _ui_modules() -> list[tuple[Path, str]]:
    ui = ROOT / "ui"
    return [(p, _module_name(p)) for p in sorted(ui.rglob("*.py"))]


def test_no_page_imports_another_page_and_no_widget_imports_a_page():
    modules = {_module_name(p) for p in ROOT.rglob("*.py")}
    found = []
    for path, module in _ui_modules():
        parts = module.split(".")
        mine = parts[3] if len(parts) > 3 and parts[2] == "pages" else None
        for line, target in _imports(path, module, modules):
            t = target.split(".")
            if len(t) > 3 and t[:3] == ["actorbench", "ui", "pages"] and t[3] != mine:
                if module == "actorbench.ui.app":
                    continue  # the page registry builds every page
                found.append(f"{path.relative_to(ROOT.parent)}:{line}: {module} imports "
                             f"{target}: a page's module belongs to that page only")
    assert not found, "\n".join(found)


def test_no_ui_module_is_long_without_saying_why():
    long = []
    for path, _ in _ui_modules():
        lines = len(path.read_text().splitlines())
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        if lines > UI_MAX_LINES and "Longer than 300 lines:" not in doc:
            long.append(f"{path.relative_to(ROOT.parent)}: {lines} lines")
    assert not long, "\n".join(long)
