"""Finding and reading a suite: a built-in name or a .yaml file, bounded, decoded and parsed
into data and the line of each key, with one-line errors that say how to fix them."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from benchmarks.messages import did_you_mean
from benchmarks.suite.yaml_lines import Lines, TooManyNodes, load_with_lines

MAX_BYTES = 1 << 20
"""The largest suite file read (1 MiB; a suite is a few dozen lines)."""

SUFFIXES = (".yaml", ".yml")


def builtin_suites() -> list[str]:
    """Names of the suites shipped with ftbench."""
    files = resources.files("benchmarks.suite") / "builtin"
    return sorted(p.name[: -len(".yaml")] for p in files.iterdir() if p.name.endswith(".yaml"))


def read_suite(name_or_path: str) -> tuple[str, str, Path | None]:
    """The text of a built-in suite or a suite file, where it came from (for errors) and the
    file's folder (None for a built-in suite).

    Raises:
        ValueError: an unknown name; a path that is missing, a folder, not .yaml, too large
            or not UTF-8 text.
    """
    if name_or_path in builtin_suites():
        text = (resources.files("benchmarks.suite") / "builtin" / f"{name_or_path}.yaml"
                ).read_text()
        return text, f"built-in suite '{name_or_path}'", None
    path = Path(name_or_path)
    if path.is_file() and path.suffix in SUFFIXES:
        return _text_of(path), str(path), Path(os.path.abspath(path)).parent
    raise ValueError(_not_a_suite(name_or_path, path))


def _not_a_suite(name: str, path: Path) -> str:
    """Why ``name`` names no suite, and what to pass instead."""
    at = f"suite file '{path}'"
    if path.is_dir():
        inside = sorted(p.name for p in path.iterdir() if p.suffix in SUFFIXES)[:3]
        shown = f" ({', '.join(inside)})" if inside else ""
        return (f"{at}: it must be a .yaml file, but it is a folder. Pass a suite file in "
                f"it{shown}.")
    if path.is_file():
        ends = f"ends in {path.suffix}" if path.suffix else "has no suffix"
        return (f"{at}: it must end in .yaml or .yml, but it {ends}. Rename it "
                f"{path.with_suffix('.yaml')} (a suite file is YAML text).")
    valid = builtin_suites()
    if path.suffix or len(path.parts) > 1:
        return (f"{at}: it must exist, but it does not (the current folder is {Path.cwd()}). "
                f"Check the path, or run a built-in suite: {', '.join(valid)}.")
    return (f"suite '{name}': it must be a built-in suite ({', '.join(valid)}) or an existing "
            f".yaml file, but it is neither.{did_you_mean(name, valid)}")


def _text_of(path: Path) -> str:
    """The UTF-8 text of a suite file of at most ``MAX_BYTES``."""
    with path.open("rb") as file:
        raw = file.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise ValueError(f"suite file '{path}': it must be at most 1 MiB (a suite is a few dozen "
                         "lines), but it is larger. Check that it is the suite you meant.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = f"byte {exc.start} is 0x{raw[exc.start]:02x}, which UTF-8 cannot decode"
    else:
        if "\x00" not in text:
            return text
        problem = f"byte {raw.index(0)} is 0x00 (NUL)"
    raise ValueError(f"suite file '{path}': it must be UTF-8 YAML text, but {problem}. Pass "
                     "the suite's .yaml text file, saved as UTF-8 (a binary or UTF-16 file is "
                     "not a suite).")


def parse_suite(text: str, source: str) -> tuple[Any, Lines]:
    """The data of a suite's YAML text and the line of each key path.

    Raises:
        ValueError: invalid YAML, or aliases that expand too far; one line that starts with
            ``source:LINE``.
    """
    try:
        return load_with_lines(text)
    except yaml.YAMLError as exc:
        raise ValueError(_yaml_message(exc, source)) from None
    except TooManyNodes as exc:
        where = source if exc.line is None else f"{source}:{exc.line}"
        raise ValueError(f"{where}: {exc}") from None


def _yaml_message(exc: yaml.YAMLError, source: str) -> str:
    """One line naming ``FILE:LINE`` of a YAML syntax error and what the parser found."""
    mark, context = getattr(exc, "problem_mark", None), getattr(exc, "context", None)
    where = f"{source}:{mark.line + 1}" if mark is not None else source
    start = getattr(exc, "context_mark", None)
    if context and start is not None and (mark is None or start.line != mark.line):
        context = f"{context} started on line {start.line + 1}"
    what = ", ".join(part for part in (context, getattr(exc, "problem", None) or str(exc)) if part)
    return " ".join(f"{where}: it must be valid YAML, but {what}. Check the indentation, "
                    "colons and quotes there.".split())
