"""The package layout's one rule (benchmarks/__init__.py): a package imports only from those
before it in the flow, so no import cycle can form; strategies and report never import the
driver."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ORDER = ("messages", "data", "engine", "models", "suite", "results", "driver", "cli")
"""benchmarks' packages (and its one shared module), bottom to top."""
MAY_IMPORT = {
    "report": {"results", "report"},
    "strategies": {"strategies"},
    "perf": set(ORDER[:-1]) | {"perf", "strategies"},
}
"""What the packages outside the order may import: their own, and these."""


def _layer(module: str) -> str:
    """``benchmarks.driver.cell`` -> ``driver``; ``report.build`` -> ``report``."""
    parts = module.split(".")
    return parts[1] if parts[0] == "benchmarks" and len(parts) > 1 else parts[0]


def _allowed(me: str) -> set[str]:
    if me in MAY_IMPORT:
        return MAY_IMPORT[me]
    below = set(ORDER[: ORDER.index(me) + 1]) | {"strategies"}
    return below | {"report"} if me == "cli" else below


def _imports(path: Path) -> list[str]:
    """The ftbench modules ``path`` imports, at any depth (lazy imports included)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            base = node.module
            found += [f"{base}.{a.name}" for a in node.names] if base == "benchmarks" else [base]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names]
    return [m for m in found if m.split(".")[0] in ("benchmarks", "report", "strategies")
            and m != "benchmarks"]


SOURCES = sorted(p for folder in ("benchmarks", "report", "strategies")
                 for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down_the_flow(path):
    me = _layer(".".join(path.relative_to(ROOT).with_suffix("").parts))
    wrong = [m for m in _imports(path) if _layer(m) not in _allowed(me)]
    assert not wrong, f"{me} may import only {sorted(_allowed(me))}, but imports {wrong}"


def test_every_package_says_what_it_is_and_what_the_others_may_use():
    for init in sorted((ROOT / "benchmarks").glob("*/__init__.py")):
        tree = ast.parse(init.read_text())
        assert ast.get_docstring(tree), init
        names = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
                 if isinstance(t, ast.Name)}
        assert "__all__" in names, init
        assert init.parent.name in ORDER + ("perf",), init


def test_the_rule_catches_an_import_back_up(tmp_path):
    bad = tmp_path / "engine_module.py"
    bad.write_text("from benchmarks.driver import runner\n")
    assert [m for m in _imports(bad) if _layer(m) not in _allowed("engine")] == [
        "benchmarks.driver"]
