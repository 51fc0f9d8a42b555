"""The architecture, enforced: layers import only downward, built-in plugins import only the plugin API, no module
imports another's private names, and no import cycles — counting imports inside functions and type-checking-only
imports. See docs/architecture.md."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = (
    "core",
    "api",
    "plugins",
    "spec",
    "data",
    "model",
    "records",
    "evaluation",
    "trial",
    "search",
    "runner",
    "export",
    "leaderboard",
    "testing",
    "cli",
)
"""The framework's packages, lowest first: a module may import its own package and the packages before it."""


@dataclass(frozen=True)
class Import:
    """One import statement: the importing module, the imported module, the names taken from it and the line."""

    module: str
    target: str
    names: tuple[str, ...]
    line: int


def module_name(path: Path, root: Path) -> str:
    """``asc_bench/runner/driver.py`` → ``asc_bench.runner.driver``; ``plugins/x.py`` → ``asc_bench_plugins.x``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[0] == "plugins":
        parts[0] = "asc_bench_plugins"
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path) -> Iterator[Import]:
    """Every import in a file, wherever it stands (module level, functions, ``if TYPE_CHECKING``)."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, (), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield Import(module, base, tuple(a.name for a in node.names), node.lineno)


def source_files(root: Path) -> list[Path]:
    """The framework's and the built-in plugins' Python files."""
    return sorted([*(root / "asc_bench").rglob("*.py"), *(root / "plugins").rglob("*.py")])


def layer_of(module: str) -> int | None:
    """The layer index of a framework module (``None`` for the package root and for anything else)."""
    parts = module.split(".")
    if parts[0] != "asc_bench" or len(parts) < 2:
        return None
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else None


def resolve(target: str, names: tuple[str, ...], known: set[str]) -> list[str]:
    """The modules an import reaches: ``from pkg import mod`` reaches ``pkg.mod`` when that is a module."""
    reached = [f"{target}.{name}" for name in names if f"{target}.{name}" in known]
    return reached or [target]


def problems(root: Path) -> list[str]:
    """Every breach of the rules in the tree at ``root``."""
    files = source_files(root)
    known = {module_name(path, root) for path in files}
    found, graph = [], {module: set() for module in known}
    for path in files:
        for imp in imports_of(path, root):
            if not imp.target.startswith("asc_bench"):
                continue
            where = f"{path.relative_to(root)}:{imp.line}"
            found += _rule_problems(imp, where)
            graph[imp.module].update(t for t in resolve(imp.target, imp.names, known) if t in known)
    return found + [f"import cycle: {' -> '.join(cycle)}" for cycle in cycles(graph)]


def _rule_problems(imp: Import, where: str) -> list[str]:
    out = []
    mine, theirs = imp.module.split(".")[0], imp.target.split(".")[0]
    if mine == "asc_bench_plugins" and theirs == "asc_bench" and not (imp.target + ".").startswith("asc_bench.api."):
        out.append(f"{where}: the built-in plugin {imp.module} imports {imp.target} (only asc_bench.api is allowed)")
    if mine == "asc_bench" and theirs == "asc_bench_plugins":
        out.append(f"{where}: the framework module {imp.module} imports the plugin {imp.target}")
    low, high = layer_of(imp.target), layer_of(imp.module)
    if mine == "asc_bench" and low is not None and high is not None and low > high:
        out.append(f"{where}: {imp.module} ({LAYERS[high]}) imports {imp.target} from the higher layer {LAYERS[low]}")
    same_module = imp.target == imp.module
    private = [n for n in imp.names if n.startswith("_") and not n.startswith("__")]
    if private and not same_module:
        out.append(f"{where}: {imp.module} imports private {', '.join(private)} from {imp.target}")
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected group of modules (Tarjan), as a path through it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph[node]:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_project_keeps_its_layers() -> None:
    assert problems(ROOT) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"plugins/m.py": "from asc_bench.runner import driver\n"}, "only asc_bench.api is allowed"),
        ({"plugins/m.py": "def f():\n    from asc_bench.core.errors import UserError\n"}, "only asc_bench.api"),
        ({"asc_bench/spec/x.py": "def f():\n    from asc_bench.runner.driver import run_spec\n"}, "higher layer run"),
        (
            {"asc_bench/core/x.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import asc_bench.cli\n"},
            "higher layer cli",
        ),
        ({"asc_bench/data/x.py": "import asc_bench_plugins.caches.memmap\n"}, "imports the plugin"),
        (
            {"asc_bench/runner/a.py": "from asc_bench.runner.b import _helper\n", "asc_bench/runner/b.py": ""},
            "private _helper",
        ),
        (
            {
                "asc_bench/runner/a.py": "from asc_bench.runner import b\n",
                "asc_bench/runner/b.py": "def f():\n    import asc_bench.runner.a\n",
            },
            "import cycle: asc_bench.runner.a -> asc_bench.runner.b",
        ),
    ],
)
def test_the_check_catches_each_breach(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    found = problems(_tree(tmp_path, files))
    assert any(expected in problem for problem in found), found


def test_a_clean_tree_passes(tmp_path: Path) -> None:
    files = {
        "plugins/m.py": "from asc_bench.api import UserError\nfrom asc_bench_plugins import other\n",
        "plugins/other.py": "",
        "asc_bench/cli/x.py": "def f():\n    from asc_bench.runner.driver import run_spec\n",
        "asc_bench/runner/driver.py": "from asc_bench.spec import model\n",
        "asc_bench/spec/model.py": "",
    }
    assert problems(_tree(tmp_path, files)) == []
