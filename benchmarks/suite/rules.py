"""Checks of single suite fields: the type each field declares, and its range or choices."""

from __future__ import annotations

import functools
import math
import re
import typing
from collections.abc import Callable, Sequence
from typing import Any

import timm.optim

from benchmarks.engine.loss import LOSSES
from benchmarks.engine.schedule import SCHEDULES
from benchmarks.messages import did_you_mean
from benchmarks.suite.yaml_lines import KeyPath

PRUNERS = ("median", "successive_halving", "hyperband", "none")
"""The pruner types :func:`benchmarks.driver.tuning.make_pruner` builds."""

PRECISIONS = ("fp32", "bf16", "fp16")
"""``train.precision`` values (:class:`benchmarks.engine.training.TrainConfig`)."""

Where = Callable[[KeyPath], str]
"""The prefix of an error at a key path: ``FILE:LINE`` when the YAML text is known."""


@functools.cache
def hints(cls: type) -> dict[str, Any]:
    """The field types of a dataclass, evaluated."""
    return typing.get_type_hints(cls)


def check_scalar(hint: Any, value: Any, path: KeyPath, where: Where) -> None:
    """A value of the type its field declares, within the field's range (``_RULES``)."""
    name = ".".join(map(str, path))
    expected = _expected(hint, value)
    if expected:
        fix = f" {_number_fix(value)}" if isinstance(value, str) and _is_number(value) else ""
        raise ValueError(f"{where(path)}: {name} must be {expected}, but got {value!r} "
                         f"({type(value).__name__}).{fix}")
    rule = _RULES.get(name)
    problem = _finite(hint, name, value) or (rule(name, value) if rule else None)
    if problem:
        raise ValueError(f"{where(path)}: {problem}")


def _expected(hint: Any, value: Any) -> str | None:
    """What ``value`` must be to match ``hint``; None if it does (or ``hint`` is unchecked)."""
    args = typing.get_args(hint)
    if type(None) in args:
        if value is None:
            return None
        hint = next(arg for arg in args if arg is not type(None))
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    checks = {bool: (isinstance(value, bool), "true or false"),
              int: (number and isinstance(value, int), "an integer"),
              float: (number, "a number"),
              str: (isinstance(value, str), "a string"),
              dict: (isinstance(value, dict), "a mapping")}
    ok, expected = checks.get(hint, (True, ""))
    return None if ok else expected + (" or null" if args else "")


def _finite(hint: Any, name: str, value: Any) -> str | None:
    """A float field must hold a finite number: YAML reads .inf and .nan as numbers."""
    if float not in (hint, *typing.get_args(hint)) or not isinstance(value, float) \
            or math.isfinite(value):
        return None
    return (f"{name} must be a finite number, but got {value!r}. Write an ordinary number "
            "such as 0.1 (YAML reads .inf and .nan as infinity and not-a-number).")


def _number_fix(text: str) -> str:
    """How to write a number that YAML read as text."""
    if "e" in text.lower() and "." not in text:
        dotted = text.lower().replace("e", ".0e")
        return f"YAML reads {text} as text: write it with a dot, as {dotted}."
    return "Write it without quotes."


def _is_number(text: str) -> bool:
    """Whether ``text`` reads as a number."""
    try:
        float(text)
    except ValueError:
        return False
    return True


Rule = Callable[[str, Any], "str | None"]
"""A range check of one field: its name and value to the problem (None = fine)."""


def _holds(ok: Callable[[Any], bool], condition: str, fix: str) -> Rule:
    """A rule: ``condition`` (``{}`` = the field's name) must hold, else say the fix."""
    return lambda name, v: None if ok(v) else (
        f"{condition.format(name)} must hold, but got {v!r}. {fix}.")


def _one_of(valid: Callable[[], Sequence[str]], shown: str = "", key: Callable = str) -> Rule:
    """A rule: ``key(value)`` must be among ``valid()``, else name the closest ones."""
    def rule(name: str, value: Any) -> str | None:
        names = list(valid())
        if key(value) in names:
            return None
        hint = did_you_mean(value, names)
        return f"{name} must be {shown or 'one of ' + ', '.join(names)}, but got {value!r}.{hint}"
    return rule


def _optimizers() -> list[str]:
    """timm's optimizer names (``timm.optim.list_optimizers()``, else the common ones)."""
    lister = getattr(timm.optim, "list_optimizers", None)
    return list(lister()) if lister else ["adamw", "adam", "sgd", "momentum", "nesterov",
                                          "rmsprop", "lamb", "lion", "adabelief", "radam"]


FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
"""A plain folder name: no path ('/', '..'), nothing hidden ('.x') or read as an option
('-x'), no space or quote that a shell script would have to escape, and short."""


def _folder_name(name: str, value: str) -> str | None:
    """A rule: the suite's name becomes the folder ``results/<name>/``, the archive
    ``<name>.tar.xz`` and the MLflow experiment ``ftbench/<name>``."""
    if FOLDER_NAME.fullmatch(value):
        return None
    return (f"{name} must be a plain folder name (ASCII letters, digits, '_', '-' and '.', "
            f"starting with a letter or digit, at most 100 characters), but got {value!r}. "
            "Use e.g. my_suite (results go to results/<name>/).")


SEED_MAX = 2**32 - 1
"""The largest seed numpy takes (torch.manual_seed and Optuna's samplers take it too)."""

seed_rule = _holds(lambda v: 0 <= v <= SEED_MAX, "0 <= {} <= 2**32 - 1",
                   "Use a seed such as 0, 1 or 2 (numpy, torch and Optuna take 0 to 2**32 - 1)")
"""The range of every seed of a suite: ``seeds`` items, ``sampler_seed``, ``pretrain.seed``."""

_RULES: dict[str, Rule] = {
    "name": _folder_name,
    "sampler_seed": seed_rule,
    "pretrain.seed": seed_rule,
    "trials": _holds(lambda v: v >= 1, "{} >= 1", "Use e.g. 6"),
    "size_scale": _holds(lambda v: v > 0, "{} > 0", "Use 1.0 to take sizes literally"),
    "val_fraction": _holds(lambda v: 0 < v < 1, "0 < {} < 1", "Use e.g. 0.2"),
    "margin": _holds(lambda v: 0 < v < 0.5, "0 < {} < 0.5", "Use e.g. 0.01 (one accuracy point)"),
    "train.max_epochs": _holds(lambda v: v >= 1, "{} >= 1", "Use e.g. 8"),
    "train.batch_size": _holds(lambda v: v >= 1, "{} >= 1", "Use e.g. 64"),
    "train.optimizer": _one_of(_optimizers, "a timm optimizer name such as adamw, sgd, "
                               "momentum or lamb (timm.optim.list_optimizers() lists them)",
                               key=lambda v: v.lower().split("_")[-1]),
    "train.warmup_epochs": _holds(lambda v: v >= 0, "{} >= 0", "Use 0 for no warm-up"),
    "train.label_smoothing": _holds(lambda v: 0 <= v < 1, "0 <= {} < 1", "Use e.g. 0.1"),
    "train.grad_clip_norm": _holds(lambda v: v is None or v > 0, "{} > 0",
                                   "Use e.g. 1.0, or null for no clipping"),
    "train.patience": _holds(lambda v: v >= 1, "{} >= 1", "Use e.g. 10"),
    "train.schedule": _one_of(lambda: SCHEDULES),
    "train.loss": _holds(lambda v: not isinstance(v, str) or v in LOSSES,
                         "{} in " + ", ".join(LOSSES), "Use e.g. weighted_cross_entropy"),
    "train.loss.name": _one_of(lambda: LOSSES),
    "train.loss.gamma": _holds(lambda v: v >= 0, "{} >= 0", "Use e.g. 2 (the focal loss "
                               "paper's)"),
    "train.restart_epochs": _holds(lambda v: v >= 1, "{} >= 1", "Use e.g. 5 (the tutorials' T_0)"),
    "train.restart_mult": _holds(lambda v: v >= 1, "{} >= 1",
                                 "Use e.g. 2 (the tutorials' T_mult)"),
    "train.device": _one_of(lambda: ("cpu", "cuda", "mps"), "cpu, cuda, cuda:N or mps",
                            key=lambda v: "cuda" if re.fullmatch(r"cuda:\d+", v) else v),
    "train.precision": _one_of(lambda: PRECISIONS),
    "pruner.type": _one_of(lambda: PRUNERS),
    "pruner.n_startup_trials": _holds(lambda v: v >= 0, "{} >= 0", "Use e.g. 2"),
    "pruner.n_warmup_steps": _holds(lambda v: v >= 0, "{} >= 0", "Use e.g. 2"),
    "pruner.min_resource": _holds(lambda v: v >= 1, "{} >= 1", "Use e.g. 1 (epochs)"),
    "pruner.reduction_factor": _holds(lambda v: v >= 2, "{} >= 2", "Use e.g. 3"),
    "pretrain.epochs": _holds(lambda v: v >= 1, "{} >= 1", "Use e.g. 6"),
    "pretrain.batch_size": _holds(lambda v: v >= 1, "{} >= 1", "Use e.g. 128"),
    "pretrain.lr": _holds(lambda v: v > 0, "{} > 0", "Use e.g. 0.002"),
    "pretrain.weight_decay": _holds(lambda v: v >= 0, "{} >= 0", "Use e.g. 0.05"),
}
"""Range checks of single fields, by dotted name; their types are checked before."""
