"""Third-party strategies registered through the ``ftbench.strategies`` entry-point group."""

from __future__ import annotations

import sys
import textwrap

import pytest

from benchmarks.cli.commands import main
from strategies import registry

PLUGIN = '''
from strategies import Strategy, StrategyConfig


class HeadAndTop(Strategy):
    """Everything but the last block frozen."""

    name = "head_and_top"
    summary = "a third-party strategy from an installed package"

    @classmethod
    def default_config(cls, ctx):
        return StrategyConfig(lr=1e-3)

    @classmethod
    def suggest(cls, trial, ctx):
        return StrategyConfig(lr=cls.suggest_lr(trial))

    def frozen_blocks(self, n_blocks, epoch):
        return frozenset(range(n_blocks - 1))
'''


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """A package with an entry point, 'installed' by putting its dist-info on sys.path."""
    (tmp_path / "ftbench_plugin_demo.py").write_text(textwrap.dedent(PLUGIN))
    dist = tmp_path / "ftbench_plugin_demo-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ftbench-plugin-demo\n"
                                   "Version: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[ftbench.strategies]\nhead_and_top = ftbench_plugin_demo:HeadAndTop\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    yield
    sys.modules.pop("ftbench_plugin_demo", None)


def test_entry_point_strategy_is_listed_and_usable(installed_plugin, capsys):
    assert "head_and_top" in registry.list_strategies()
    cls = registry.get_strategy("head_and_top")
    assert cls().frozen_blocks(5, 0) == frozenset(range(4))
    assert main(["list", "strategies", "head_*"]) == 0
    assert "third-party" in capsys.readouterr().out


def test_entry_point_that_is_not_a_strategy_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "bad_plugin.py").write_text("NotAStrategy = 42\n")
    dist = tmp_path / "bad_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: bad-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[ftbench.strategies]\nbad = bad_plugin:NotAStrategy\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    with pytest.raises(TypeError, match="must name a Strategy subclass"):
        registry.list_strategies()
