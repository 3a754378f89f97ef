"""Suite validation: every mistake a user can write in YAML is one ``FILE:LINE:`` error line."""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from importlib import resources

import pytest
import yaml

from benchmarks.cli.commands import main
from benchmarks.driver.tuning import make_pruner
from benchmarks.engine.augment import AugmentConfig
from benchmarks.engine.config import TrainConfig
from benchmarks.models.pretrain import PretrainConfig
from benchmarks.suite.model import PrunerConfig, Suite, load_suite, suite_from_dict
from benchmarks.suite.rules import PRUNERS, hints
from benchmarks.suite.yaml_lines import line_of, load_with_lines

BASE = """\
name: bad
description: one mistake per test
backbones:
  - test_resnet
  - {name: 'timm:resnet18', weights: none, as: r18}
datasets:
  - synth_near
  - name: synth_far
    as: textures
    family: far
sizes:
  - 30
  - 10/class
size_scale: 1.0
strategies: [feature_extraction, full_finetune]
trials: 2
seeds: [0, 1]
sampler_seed: 0
val_fraction: 0.2
pretrain:
  epochs: 1
  batch_size: 64
  lr: 0.002
train:
  max_epochs: 4
  batch_size: 16
  optimizer: adamw
  warmup_epochs: 1
  device: cpu
  precision: fp32
  augment:
    name: flip_crop
    flip_p: 0.5
epochs_by_size:
  30: 6
  10/class: 3
pruner:
  type: median
  n_startup_trials: 1
"""
"""A valid suite; each case below changes one line of it (line numbers refer to it)."""

FOLDER_RULE = ("name must be a plain folder name (ASCII letters, digits, '_', '-' and '.', "
               "starting with a letter or digit, at most 100 characters)")

TABLE = [  # (name, (old, new) replaced in BASE or a whole text, expected substring, line)
    ("unknown top-level key", ("trials: 2", "trails: 2"), "Did you mean: trials", 16),
    ("unknown nested key", ("  max_epochs: 4", "  epoks: 4"),
     "'train': key 'epoks' must be one of", 25),
    ("missing colon", ("  optimizer: adamw", "  optimizer adamw"),  # noticed a line later
     "while scanning a simple key started on line 27, could not find expected ':'", 28),
    ("stray bracket", ("seeds: [0, 1]", "seeds: [0, 1]]"), "it must be valid YAML", 17),
    ("duplicate key", ("trials: 2", "trials: 2\ntrials: 3"), "duplicate key 'trials'", 17),
    ("quoted number", ("  batch_size: 16", "  batch_size: '16'"),
     "train.batch_size must be an integer, but got '16' (str)", 26),
    ("1e-3 is text", ("  lr: 0.002", "  lr: 1e-3"), "write it with a dot, as 1.0e-3", 23),
    ("size 120%", ("  - 10/class", "  - 120%"), "at most 100%", 13),
    ("size of the wrong type", ("  - 30", "  - [30]"), "Training size", 12),
    ("repeated size", ("  - 10/class", "  - 30"), "sizes must be distinct", 13),
    ("bad epochs_by_size key", ("  10/class: 3", "  10/clas: 3"),
     "epochs_by_size: Training size '10/clas'", 36),
    ("epochs_by_size key not a size", ("  30: 6", "  40: 6"),
     "epochs_by_size keys must be among the sizes", 35),
    ("duplicate dataset label", ("    as: textures", "    as: synth_near"),
     "dataset names must be unique", 9),
    ("unknown dataset family", ("    family: far", "    family: nearby"), "'near' or 'far'", 10),
    ("bad dataset sizes item", ("    family: far", "    family: far\n    sizes: [10, 5/klass]"),
     "dataset 'synth_far': sizes: Training size '5/klass'", 11),
    ("bad backbone prefix", ("'timm:resnet18'", "'hf:resnet18'"), "its prefix is 'hf'", 5),
    ("unknown backbone key", ("weights: none", "weigths: none"), "keys must be among", 5),
    ("bad augment name", ("    name: flip_crop", "    name: flipcrop"),
     "Did you mean: flip_crop?", 32),
    ("augment parameter out of range", ("    flip_p: 0.5", "    flip_p: 1.5"),
     "0 <= flip_p <= 1 must hold", 33),
    ("unknown augment key", ("    flip_p: 0.5", "    flip: 0.5"), "Did you mean: flip_p", 33),
    ("bad optimizer", ("  optimizer: adamw", "  optimizer: adamx"),
     "train.optimizer must be a timm optimizer name", 27),
    ("bad precision", ("  precision: fp32", "  precision: fp8"),
     "train.precision must be one of fp32, bf16, fp16", 30),
    ("bad device", ("  device: cpu", "  device: gpu"),
     "train.device must be cpu, cuda, cuda:N or mps", 29),
    ("bad pruner type", ("  type: median", "  type: medain"), "Did you mean: median", 38),
    ("negative n_startup_trials", ("  n_startup_trials: 1", "  n_startup_trials: -1"),
     "pruner.n_startup_trials >= 0 must hold", 39),
    ("negative warmup", ("  warmup_epochs: 1", "  warmup_epochs: -1"),
     "train.warmup_epochs >= 0 must hold, but got -1", 28),
    ("warmup as long as training", ("  warmup_epochs: 1", "  warmup_epochs: 4"),
     "train.warmup_epochs < train.max_epochs must hold", 28),
    ("label smoothing 1", ("  precision: fp32", "  precision: fp32\n  label_smoothing: 1"),
     "0 <= train.label_smoothing < 1 must hold", 31),
    ("no clipping is null, not 0", ("  precision: fp32", "  precision: fp32\n  grad_clip_norm: 0"),
     "or null for no clipping", 31),
    ("channels_last neither auto nor a bool",
     ("  precision: fp32", "  precision: fp32\n  channels_last: maybe"),
     "train.channels_last: auto, true or false must hold, but got 'maybe'", 31),
    ("val_fraction 1.5", ("val_fraction: 0.2", "val_fraction: 1.5"), "0 < val_fraction < 1", 19),
    ("zero trials", ("trials: 2", "trials: 0"), "trials >= 1 must hold", 16),
    ("trials as a word", ("trials: 2", "trials: two"), "trials must be an integer", 16),
    ("zero pretrain epochs", ("  epochs: 1", "  epochs: 0"), "pretrain.epochs >= 1", 21),
    ("duplicate seeds", ("seeds: [0, 1]", "seeds: [0, 0]"), "seeds must be distinct", 17),
    ("seed not an integer", ("seeds: [0, 1]", "seeds: [0, one]"),
     "each seeds entry must be an integer", 17),
    ("a seed within reach that is a first seed too",
     ("seeds: [0, 1]", "seeds: [0, 1]\nseeds_within_reach: [2, 1]"),
     ("seeds_within_reach must differ from seeds [0, 1], but 1 is in both. Use seeds after "
      "them, e.g. seeds: [0, 1, 2] and seeds_within_reach: [3, 4]."), 18),
    ("a seed within reach out of range",
     ("seeds: [0, 1]", "seeds: [0, 1]\nseeds_within_reach: [-3]"),
     "0 <= seed <= 2**32 - 1 must hold, but got -3.", 18),
    ("empty strategies", ("[feature_extraction, full_finetune]", "[]"),
     "strategies must list at least one strategy", 15),
    ("mapping where a list is expected", ("seeds: [0, 1]", "seeds: {first: 0}"),
     "seeds must be a list", 17),
    ("scalar where a mapping is expected",
     ("pruner:\n  type: median\n  n_startup_trials: 1\n", "pruner: median\n"),
     "'pruner' must be a mapping, but got 'median'", 37),
    ("empty backbones",
     (BASE[BASE.index("backbones:"):BASE.index("datasets:")], "backbones: []\n"),
     "backbones must list at least one backbone", 3),
    ("list item of the wrong type", ("  - synth_near", "  - 3"),
     "each datasets entry must be a name or a mapping with a 'name'", 7),
    ("missing key", ("strategies: [feature_extraction, full_finetune]\n", ""),
     "the key 'strategies' must be present", 1),
    ("a list, not a mapping", "# my suite\n- name: bad\n", "it must be a YAML mapping", 2),
    ("empty file", "", "it must be a YAML mapping, but got NoneType", 1),
    ("seed out of range", ("seeds: [0, 1]", "seeds: [0, 99999999999999999999]"),
     ("0 <= seed <= 2**32 - 1 must hold, but got 99999999999999999999. Use a seed such as 0, "
      "1 or 2 (numpy, torch and Optuna take 0 to 2**32 - 1)."), 17),
    ("negative seed", ("seeds: [0, 1]", "seeds: [-1, 1]"),
     "0 <= seed <= 2**32 - 1 must hold, but got -1.", 17),
    ("negative sampler_seed", ("sampler_seed: 0", "sampler_seed: -1"),
     "0 <= sampler_seed <= 2**32 - 1 must hold, but got -1.", 18),
    ("pretrain seed 2**32", ("  lr: 0.002", "  lr: 0.002\n  seed: 4294967296"),
     "0 <= pretrain.seed <= 2**32 - 1 must hold, but got 4294967296.", 24),
    ("infinite size_scale", ("size_scale: 1.0", "size_scale: .inf"),
     ("size_scale must be a finite number, but got inf. Write an ordinary number such as 0.1 "
      "(YAML reads .inf and .nan as infinity and not-a-number)."), 14),
    ("nan val_fraction", ("val_fraction: 0.2", "val_fraction: .nan"),
     "val_fraction must be a finite number, but got nan.", 19),
    ("-inf pretrain lr", ("  lr: 0.002", "  lr: -.inf"),
     "pretrain.lr must be a finite number, but got -inf.", 23),
    ("nan augment parameter", ("    flip_p: 0.5", "    flip_p: .nan"),
     "train.augment.flip_p must be a finite number, but got nan.", 33),
    *[(f"suite name {bad!r}", ("name: bad", f"name: {yaml.safe_dump(bad).split(chr(10))[0]}"),
       f"{FOLDER_RULE}, but got {bad!r}. Use e.g. my_suite", 1)
      for bad in (".", "..", "../up", "a/b", "a\\b", ".hidden", "-x", "my suite", "", " ",
                  "x" * 101, "caf\u00e9")],
]


def _text(patch: tuple[str, str] | str) -> str:
    """BASE with one change, or a whole text."""
    if isinstance(patch, str):
        return patch
    old, new = patch
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


def test_the_base_suite_is_valid(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(BASE)
    suite = load_suite(str(path))
    assert suite.train.augment.name == "flip_crop" and len(suite.epochs_by_size) == 2


@pytest.mark.parametrize("name,patch,needle,line", TABLE, ids=[case[0] for case in TABLE])
def test_a_bad_suite_is_one_line_at_its_file_and_line(tmp_path, name, patch, needle, line):
    path = tmp_path / "s.yaml"
    path.write_text(_text(patch))
    with pytest.raises(ValueError) as error:
        load_suite(str(path))
    message = str(error.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert needle in message, message
    assert "\n" not in message


@pytest.mark.parametrize("patch,line", [
    (("  optimizer: adamw", "  optimizer: adamx"), 27),
    (("seeds: [0, 1]", "seeds: [0, 1]]"), 17),
    (("    as: textures", "    as: synth_near"), 9),
])
def test_the_cli_prints_one_line_and_writes_nothing(tmp_path, capsys, patch, line):
    path = tmp_path / "s.yaml"
    path.write_text(_text(patch))
    assert main(["run", str(path), "--results-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ftbench: error: {path}:{line}: ") and err.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_lines_of_keys_and_items():
    data, lines = load_with_lines(BASE)
    assert data == yaml.safe_load(BASE)
    assert lines[("train",)] == 24 and lines[("train", "augment")] == 31
    assert lines[("datasets", 1)] == 8 and lines[("datasets", 1, "as")] == 9
    assert lines[("epochs_by_size", 30)] == 35 and lines[("sizes", 1)] == 13
    assert line_of(lines, ("train", "augment", "no_such_key", 3)) == 31
    assert line_of(lines, ("no_such_key",)) == 1


def test_merged_keys_may_be_overridden_and_aliases_that_loop_end():
    data, lines = load_with_lines("base: &b {a: 1, b: 2}\nm:\n  <<: *b\n  a: 3\nr: &r [1, *r]\n")
    assert data["m"] == {"a": 3, "b": 2} and lines[("m", "a")] == 4
    assert line_of(lines, ("m", "b")) == 2 and lines[("r", 1)] == 5


@pytest.mark.parametrize("name", ["quickstart", "fashion"])
def test_built_in_suites_load_as_safe_load_reads_them_and_errors_name_their_line(name):
    text = (resources.files("benchmarks.suite") / "builtin" / f"{name}.yaml").read_text()
    data, lines = load_with_lines(text)
    assert data == yaml.safe_load(text)
    suite = load_suite(name)
    assert suite_from_dict(suite.to_dict()) == suite
    data["train"]["optimizer"] = "adamx"
    with pytest.raises(ValueError, match=rf"^built-in suite '{name}':{lines[('train',)]}: "):
        suite_from_dict(data, f"built-in suite '{name}'", lines)


def test_a_dict_without_text_keeps_its_source_prefix():
    data = {"name": "s", "backbones": ["test_resnet"], "datasets": ["synth_far"],
            "sizes": [10], "strategies": ["feature_extraction"], "trials": 0}
    with pytest.raises(ValueError, match=r"^test suite: trials >= 1 must hold"):
        suite_from_dict(data, "test suite")


def test_every_pruner_type_the_suite_accepts_is_built_by_tuning():
    for kind in PRUNERS:
        assert make_pruner(PrunerConfig(type=kind)) is not None
    with pytest.raises(ValueError, match="median, successive_halving, hyperband, none"):
        make_pruner(PrunerConfig(type="nope"))


def test_successive_halving_and_hyperband_take_the_suite_s_resources():
    cfg = PrunerConfig(type="successive_halving", min_resource=2, reduction_factor=4)
    halving = make_pruner(cfg)
    assert (halving._min_resource, halving._reduction_factor) == (2, 4)
    band = make_pruner(PrunerConfig(type="hyperband", min_resource=1, reduction_factor=3), 27)
    assert (band._min_resource, band._max_resource, band._reduction_factor) == (1, 27, 3)


@pytest.mark.parametrize("field,value,needle", [
    ("min_resource", 0, "pruner.min_resource >= 1 must hold, but got 0"),
    ("reduction_factor", 1, "pruner.reduction_factor >= 2 must hold, but got 1")])
def test_bad_pruner_resources_are_one_line(field, value, needle):
    data = {"name": "s", "backbones": ["test_resnet"], "datasets": ["synth_far"],
            "sizes": [10], "strategies": ["feature_extraction"],
            "pruner": {"type": "successive_halving", field: value}}
    with pytest.raises(ValueError, match=re.escape(needle)):
        suite_from_dict(data, "test suite")


@pytest.mark.parametrize("field,value", [
    ("optimizer", "lookahead_adamw"), ("optimizer", "SGD"), ("device", "cuda:1"),
    ("device", "mps"), ("precision", "bf16"), ("grad_clip_norm", None), ("warmup_epochs", 0),
])
def test_valid_train_values_are_accepted(tmp_path, field, value):
    data = yaml.safe_load(BASE)
    data["train"][field] = value
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    assert getattr(load_suite(str(path)).train, field) == value


def _float_fields() -> list[tuple[str, ...]]:
    """The key path of every float field a suite may set, in every section."""
    sections = {(): Suite, ("train",): TrainConfig, ("pretrain",): PretrainConfig,
                ("pruner",): PrunerConfig, ("train", "augment"): AugmentConfig}
    return [(*path, f.name) for path, cls in sections.items() for f in dataclasses.fields(cls)
            if float in (hints(cls)[f.name], *typing.get_args(hints(cls)[f.name]))]


@pytest.mark.parametrize("path", _float_fields(), ids=".".join)
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_every_float_field_must_be_finite(path, value):
    data = yaml.safe_load(BASE)
    *sections, key = path
    owner = data
    for section in sections:
        owner = owner.setdefault(section, {})
    owner[key] = value
    with pytest.raises(ValueError, match=rf"^test suite: {'.'.join(path)} must be a finite "
                                         rf"number, but got {value!r}\. Write an ordinary"):
        suite_from_dict(data, "test suite")


@pytest.mark.parametrize("name", ["a", "my_suite", "Paper-2024.v2", "x" * 100, "9lives"])
def test_plain_folder_names_are_suite_names(tmp_path, name):
    path = tmp_path / "s.yaml"
    path.write_text(_text(("name: bad", f"name: '{name}'")))
    assert load_suite(str(path)).name == name
