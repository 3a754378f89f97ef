"""The bad-input catalogue as a property: for suite files and command lines mutated at random
from valid ones, ftbench exits 0, or exits 2 with one stderr line, no traceback, and the
results folder of an earlier run byte for byte as it was.

The earlier run is the same tiny suite, finished, so a mutation that changes any setting is
refused by the folder's fingerprint before work, and one that changes none resumes a finished
run. The suite's ``name`` is never mutated (a new name would start a new run)."""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.cli.commands import main
from tests.conftest import TINY_SUITE, digest, run_suite_text

SUITE = TINY_SUITE + "sampler_seed: 0\nsize_scale: 1.0\nepochs_by_size: {20: 2}\n"

VALUES = ["0", "-1", "1", "2", "1.0e-1", "1e-1", ".inf", "-.nan", "'x'", "[]", "{}", "null",
          "true", "99999999999999999999", "[0, 0]", "[synth_far, synth_far]", "*a", "&a 3",
          "!!python/name:os.system", '"\\xff"', "[test_vit]", "{device: cuda}", "'120%'",
          "[{name: imagefolder, root: nowhere}]", "{dataset: synth_near, lr: 1.0e+9}",
          "[lp_ft, nonesuch]", "'10/class'", "all", "[20, 20]", "~", "- a\n- b", "|\n  text"]
"""Values a mutation puts in place of a key's value: wrong types, ranges, names, YAML tricks."""

TEXT = st.text(alphabet=st.sampled_from(list("az09:-[]{},'\"&*!#|>%@` \t")), max_size=24)

OPTIONS = {"--n-workers": ("0", "-1", "1", "1000", "x"), "--threads": ("0", "-3", "1"),
           "--stale-after": ("0", "30", "nan", "1800"), "--extend": None,
           "--storage": ("{tmp}/other.journal", "sqlite:///{tmp}/nowhere/x.db",
                         "postgresql://u:s3cret@127.0.0.1:1/x", "{tmp}/afile/x.journal"),
           "--mlflow-uri": ("http://127.0.0.1:1", "sqlite:///{tmp}/afile/m.db", "file:{tmp}"),
           "--cache-dir": ("{tmp}/afile", "{tmp}/afile/below"),
           "--results-dir": ("{tmp}/afile",), "--bogus": None}
"""Options a command-line mutation adds (``{tmp}`` is the example's folder)."""

OTHER_COMMANDS = [["status", "{tmp}/results/tiny"], ["status", "{tmp}/afile"],
                  ["report", "{tmp}/afile"], ["report", "{tmp}/nowhere"],
                  ["show", "{tmp}/tiny.yaml"], ["list", "backbones", "[x"],
                  ["list", "suites", "*"], ["pretrain", "--epochs", "0"],
                  ["pretrain", "--dataset", "nonesuch"], ["pretrain", "--option", "classes"]]


def _mutate(lines: list[str], draw) -> list[str]:
    """One mutation of the suite's lines: a value replaced, a line removed, doubled or added."""
    kind = draw(st.sampled_from(["value", "value", "value", "drop", "double", "insert"]))
    index = draw(st.integers(1, len(lines) - 1))  # line 0 is the name
    if kind == "value":
        key = lines[index].split(":", 1)[0]
        value = draw(st.one_of(st.sampled_from(VALUES), TEXT))
        return [*lines[:index], f"{key}: {value}", *lines[index + 1:]]
    if kind == "drop":
        return lines[:index] + lines[index + 1:]
    if kind == "double":
        return lines[:index + 1] + lines[index:]
    return [*lines[:index], draw(TEXT), *lines[index:]]


@st.composite
def commands(draw) -> tuple[str, list[str]]:
    """A suite text (mutated or not) and a command line (``{tmp}`` still to fill in)."""
    lines = SUITE.splitlines()
    for _ in range(draw(st.integers(0, 2))):
        lines = _mutate(lines, draw)
    if draw(st.integers(0, 9)) == 0:
        return "\n".join(lines) + "\n", draw(st.sampled_from(OTHER_COMMANDS))
    argv = ["run", "{tmp}/tiny.yaml", "--results-dir", "{tmp}/results", "--cache-dir",
            "{cache}", "--no-progress", "--no-report"]
    for name in draw(st.lists(st.sampled_from(sorted(OPTIONS)), max_size=2, unique=True)):
        values = OPTIONS[name]
        argv += [name] if values is None else [name, draw(st.sampled_from(values))]
    return "\n".join(lines) + "\n", argv


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """The tiny suite run to the end once, and the cache of its pretrained backbone."""
    folder = tmp_path_factory.mktemp("fuzz")
    assert run_suite_text(folder, SUITE) == 0
    return folder


def _invoke(argv: list[str]) -> tuple[int, str]:
    """``main(argv)``: its exit code and what it wrote to stderr."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as stop:  # argparse: --help, or a usage mistake
            code = stop.code
    return code, err.getvalue()


def _check_one(finished: Path, text: str, argv: list[str]) -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        shutil.copytree(finished / "results", tmp / "results")
        (tmp / "afile").write_text("not a folder\n")
        (tmp / "tiny.yaml").write_text(text)
        before = digest(tmp / "results")
        filled = [a.replace("{tmp}", name).replace("{cache}", str(finished / "cache"))
                  for a in argv]
        code, err = _invoke(filled)
        assert code in (0, 2), (code, err, text, filled)
        assert "Traceback" not in err and "s3cret" not in err, (err, text, filled)
        if code == 2:
            assert err.count("\n") == 1 and err.startswith("ftbench: error: "), (err, filled)
            assert digest(tmp / "results") == before, (err, text, filled)


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=commands())
def test_mutated_input_exits_0_or_2_in_one_line_and_never_changes_results(finished, case):
    _check_one(finished, *case)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=commands())
def test_many_more_mutations_at_random(finished, case):
    _check_one(finished, *case)
