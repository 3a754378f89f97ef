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


def _install(folder, monkeypatch, module: str, source: str, entry: str) -> None:
    """'Install' a package: ``module.py`` and a dist-info advertising ``entry`` (``name =
    module:Class``) in the strategies' entry-point group, on sys.path; a fresh registry."""
    (folder / f"{module}.py").write_text(source)
    dist = folder / f"{module}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[ftbench.strategies]\n{entry}\n")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry, "_plugins_loaded", False)


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """A package with an entry point, 'installed' by putting its dist-info on sys.path."""
    _install(tmp_path, monkeypatch, "ftbench_plugin_demo", textwrap.dedent(PLUGIN),
             "head_and_top = ftbench_plugin_demo:HeadAndTop")
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


def _readme_plugin() -> str:
    """The plugin the README's "Your own strategy" section shows."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = text[text.index("### Your own strategy"):]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readme_s_plugin_trains_only_what_it_declares_and_caches_its_frozen_prefix(
        tmp_path, monkeypatch):
    import torch

    from benchmarks.engine.config import TrainConfig
    from benchmarks.engine.training import train
    from strategies import layer_groups
    from tests.conftest import tiny_data, tiny_model

    _install(tmp_path, monkeypatch, "ftbench_readme_plugin", _readme_plugin(),
             "top_bitfit = ftbench_readme_plugin:TopBitFit")
    try:
        cls = registry.get_strategy("top_bitfit")
        model = tiny_model("test_resnet")
        with torch.no_grad():
            for module in model.modules():
                if isinstance(module, torch.nn.BatchNorm2d):
                    module.weight.uniform_(0.5, 1.5)
        groups = layer_groups(model)
        top = {id(p) for b in groups.blocks[-2:] for p in b.biases}
        expected = top | {id(p) for p in groups.head}
        before = [(p, p.detach().clone()) for p in model.parameters()]
        strategy = cls(cls.config_cls(lr=1e-2))
        result = train(model, strategy, groups, tiny_data(),
                       TrainConfig(max_epochs=1, batch_size=8, warmup_epochs=0), seed=0)
        changed = {id(p) for p, value in before if not torch.equal(p.detach(), value)}
        assert changed == expected
        assert result.cached_blocks == groups.n_blocks - 2
    finally:
        sys.modules.pop("ftbench_readme_plugin", None)
