"""Imports only point down: the architecture as one table of rules, checked over the source tree.

The layers are visible in the folders (docs/architecture.md); this test keeps them honest. It
walks every ``.py`` file of the product and its tools with ``ast`` — imports inside functions
count too, a lazy import is still a dependency — and fails naming ``file:line`` and the rule
broken. A second check builds the graph of module-level imports (those under
``if TYPE_CHECKING:`` left out, since they never run) and fails on any cycle, naming it.

The checker itself is tested on small trees written to a temporary folder, so a checker that
finds nothing because it looks at nothing cannot pass.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("terminal", "drivers", "ui", "offline_queue", "config", "station", "sim")

ABOVE_THE_CORE = ("terminal.shell", "terminal.app", "terminal.tools")
DEVICES_AND_UI = ("drivers", "ui", "offline_queue")
OUTSIDE_THE_PRODUCT = ("sim", "station")
# Standard modules whose use means I/O or a clock: the core takes time and data as arguments.
IO_MODULES = (
    "socket",
    "sqlite3",
    "asyncio",
    "os",
    "pathlib",
    "subprocess",
    "threading",
    "serial",
    "time",
)
# Calls that read a clock; ``datetime`` itself is fine in the core, asking it the time is not.
CLOCK_CALLS = ("datetime.now", "datetime.utcnow", "date.today", "time.time", "time.monotonic")


@dataclass(frozen=True)
class Rule:
    """Modules under one of ``layers`` (and not under ``exempt``) may not import ``forbidden``."""

    name: str
    layers: tuple[str, ...]
    forbidden: tuple[str, ...]
    exempt: tuple[str, ...] = ()

    def applies_to(self, module: str) -> bool:
        return _under(module, self.layers) and not _under(module, self.exempt)


# The architecture, read top to bottom.
RULES: tuple[Rule, ...] = (
    Rule(
        "the protocol is the bottom layer: it knows no core, shell, device, UI or station",
        ("terminal.protocol",),
        ("terminal.core", *ABOVE_THE_CORE, *DEVICES_AND_UI, *OUTSIDE_THE_PRODUCT),
    ),
    Rule(
        "the core is pure: it imports no shell, app, tool, device, UI, journal or station",
        ("terminal.core",),
        (*ABOVE_THE_CORE, *DEVICES_AND_UI, *OUTSIDE_THE_PRODUCT),
    ),
    Rule(
        "the core does no I/O: no sockets, files, sqlite, asyncio, threads, serial or clocks",
        ("terminal.core",),
        IO_MODULES,
    ),
    Rule(
        "product code never imports the emulators or the station",
        ("terminal", "drivers", "ui", "offline_queue", "config"),
        OUTSIDE_THE_PRODUCT,
        exempt=("terminal.tools",),
    ),
    Rule(
        "drivers and the journal sit below the terminal's shell and the UI",
        ("drivers", "offline_queue"),
        (*ABOVE_THE_CORE, "ui"),
    ),
    Rule("the UI sits below the terminal's shell", ("ui",), ABOVE_THE_CORE),
    Rule(
        "the station shares only the protocol (and the configuration) with the terminal",
        ("station",),
        ("terminal.core", *ABOVE_THE_CORE, *DEVICES_AND_UI, "sim"),
    ),
    Rule("emulators use no terminal shell, app, tool or UI", ("sim",), (*ABOVE_THE_CORE, "ui")),
    Rule(
        "the station answers terminals without its management console (which sits above it)",
        ("station",),
        ("station.console",),
        exempt=("station.console",),
    ),
)
# The clock-call check applies where the I/O rule does.
NO_CLOCK_LAYERS = ("terminal.core",)


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


# --- reading the tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    line: int
    targets: tuple[str, ...]  # what the statement may load: "a.b" and, for from-imports, "a.b.c"
    top_level: bool  # runs when the module is imported (not in a function, not TYPE_CHECKING)


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(root: Path) -> list[Path]:
    return sorted(p for package in PACKAGES for p in (root / package).rglob("*.py"))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def read_imports(path: Path, module: str) -> list[Import]:
    """Every import statement in ``path``, with whether it runs at import time."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, top_level: bool) -> None:
        if isinstance(node, ast.Import):
            found.append(Import(node.lineno, tuple(a.name for a in node.names), top_level))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = (base, *(f"{base}.{a.name}" for a in node.names if a.name != "*"))
            found.append(Import(node.lineno, targets, top_level))
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child, top_level)
            for child in node.body:
                visit(child, False)
        else:
            inner = top_level and not isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            for child in ast.iter_child_nodes(node):
                visit(child, inner)

    visit(tree, True)
    return found


def clock_calls(path: Path) -> list[tuple[int, str]]:
    """Calls such as ``datetime.now()`` in ``path``: (line, the dotted name called)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name and any(name == c or name.endswith("." + c) for c in CLOCK_CALLS):
                calls.append((node.lineno, name))
    return calls


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


# --- the checks ------------------------------------------------------------------------------


def layer_violations(root: Path, rules: tuple[Rule, ...] = RULES) -> list[str]:
    """One line per import that points the wrong way: ``file:line: imports X: rule``."""
    problems = []
    modules = {module_name(root, p) for p in source_files(root)}
    for path in source_files(root):
        module = module_name(root, path)
        where = path.relative_to(root)
        applicable = [rule for rule in rules if rule.applies_to(module)]
        for imp in read_imports(path, module):
            for rule in applicable:
                bad = [t for t in imp.targets if _under(t, rule.forbidden)]
                if bad:  # name the module: "a.b.c" of "from a.b import c" when c is one
                    bad = max(bad, key=lambda t: (t in modules, len(t)))
                    problems.append(f"{where}:{imp.line}: imports {bad}: {rule.name}")
        if _under(module, NO_CLOCK_LAYERS):
            for line, name in clock_calls(path):
                problems.append(f"{where}:{line}: calls {name}(): the core does not read clocks")
    return problems


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the project modules it imports when it is itself imported."""
    files = {module_name(root, p): p for p in source_files(root)}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        for imp in read_imports(path, name):
            if not imp.top_level:
                continue
            # the most specific target that is a module of ours: "a.b.c" if a submodule, else "a.b"
            for target in sorted(imp.targets, key=len, reverse=True):
                if target in files:
                    if target != name:
                        graph[name].add(target)
                    break
            for target in imp.targets[1:]:  # "from a import b, c": b and c may both be modules
                if target in files and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of modules, as one cycle through it (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(_cycle_through(sorted(group), graph))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return groups


def _cycle_through(group: list[str], graph: dict[str, set[str]]) -> list[str]:
    """A path from the group's first module back to itself, staying inside the group."""
    members, start = set(group), group[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        node = frontier.pop(0)
        for nxt in sorted(graph[node] & members):
            if nxt == start:
                return [*paths[node], start]
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                frontier.append(nxt)
    return group  # unreachable for a strongly connected group


# --- the tree as it is -----------------------------------------------------------------------


def test_the_checker_sees_the_whole_tree():
    names = {module_name(ROOT, p) for p in source_files(ROOT)}
    assert {name.partition(".")[0] for name in names} == set(PACKAGES)
    assert {"terminal.core.engine", "terminal.protocol.messages", "drivers.modem.modem"} <= names
    assert sum(len(read_imports(p, module_name(ROOT, p))) for p in source_files(ROOT)) > 300


def test_imports_only_point_down():
    problems = layer_violations(ROOT)
    assert not problems, "imports against the layers:\n" + "\n".join(problems)


def test_no_import_cycles():
    found = cycles(import_graph(ROOT))
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


# --- the checker checked ---------------------------------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for package in PACKAGES:
        (root / package).mkdir(exist_ok=True)
    return root


def test_a_core_module_importing_the_shell_is_reported(tmp_path):
    root = _tree(
        tmp_path,
        {
            "terminal/core/engine.py": '"""x"""\n\nfrom terminal.shell import link\n',
            "terminal/core/orders.py": "def later():\n    import terminal.shell.link\n",
            "terminal/shell/link.py": "from terminal.core import engine\n",
        },
    )
    problems = layer_violations(root)
    assert problems == [
        "terminal/core/engine.py:3: imports terminal.shell.link: " + RULES[1].name,
        "terminal/core/orders.py:2: imports terminal.shell.link: " + RULES[1].name,
    ]


def test_io_in_the_core_and_upward_imports_elsewhere_are_reported(tmp_path):
    root = _tree(
        tmp_path,
        {
            "terminal/core/clock.py": (
                "import time\nfrom datetime import datetime\n"
                "def now():\n    return datetime.now(), time.monotonic()\n"
            ),
            "terminal/protocol/codec.py": "from ..core import engine\n",
            "drivers/modem.py": "from ui import app\n",
            "terminal/app/run.py": "import sim.modem\n",
            "terminal/tools/demo.py": "import sim.modem\nimport station.service\n",  # allowed
            "station/service.py": "from terminal.protocol import messages\nimport config\n",
        },
    )
    problems = layer_violations(root)
    assert problems == [
        "drivers/modem.py:1: imports ui.app: " + RULES[4].name,
        "terminal/app/run.py:1: imports sim.modem: " + RULES[3].name,
        "terminal/core/clock.py:1: imports time: " + RULES[2].name,
        "terminal/core/clock.py:4: calls datetime.now(): the core does not read clocks",
        "terminal/core/clock.py:4: calls time.monotonic(): the core does not read clocks",
        "terminal/protocol/codec.py:1: imports terminal.core.engine: " + RULES[0].name,
    ]


def test_a_cycle_is_named_and_type_checking_imports_are_not_edges(tmp_path):
    root = _tree(
        tmp_path,
        {
            "terminal/shell/a.py": "from terminal.shell import b\n",
            "terminal/shell/b.py": "import terminal.shell.c\n",
            "terminal/shell/c.py": "from terminal.shell.a import thing\n",
            "ui/x.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ui import y\n"
            ),
            "ui/y.py": "import ui.x\ndef f():\n    import ui.y\n",
        },
    )
    graph = import_graph(root)
    assert graph["ui.x"] == set() and graph["ui.y"] == {"ui.x"}
    assert cycles(graph) == [
        ["terminal.shell.a", "terminal.shell.b", "terminal.shell.c", "terminal.shell.a"]
    ]


@pytest.mark.parametrize("module", ["terminal.core.x", "terminal.core"])
def test_the_table_reads_as_the_architecture(module):
    # the core is bound by the purity rules and the product rule, and by nothing else
    names = [rule.name for rule in RULES if rule.applies_to(module)]
    assert names == [RULES[1].name, RULES[2].name, RULES[3].name]
