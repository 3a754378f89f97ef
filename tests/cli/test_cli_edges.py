"""The command line at its edges: --version, --debug anywhere, a reader that closes the pipe,
a report that cannot be written, a bad timing caveat, importances of trials that all scored
the same."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from benchmarks.cli.commands import main
from benchmarks.models.checkpoints import save_checkpoint
from report.importance import cell_importances


def test_version_names_the_installed_package(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.startswith("ftbench 0.")


def test_debug_after_the_command_shows_the_traceback():
    with pytest.raises(ValueError, match="it must be a built-in suite"):
        main(["run", "nosuch", "--debug"])


def test_a_closed_pipe_ends_quietly():
    command = (f"{sys.executable} -m benchmarks.cli list backbones '*' | head -2; "
               "exit ${PIPESTATUS[0]}")
    proc = subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                          timeout=120, check=False)
    assert len(proc.stdout.splitlines()) == 2
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert proc.returncode == 141


def test_report_of_a_file_says_it_is_a_file(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    assert main(["report", str(tmp_path / "afile")]) == 2
    assert "it must be a folder, but it is a file" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through chmod")
def test_an_unwritable_report_is_one_line(tmp_path, capsys):
    folder = _results_of_one_cell(tmp_path)
    (folder / "report").mkdir()
    (folder / "report").chmod(0o500)
    try:
        assert main(["report", str(folder)]) == 2
    finally:
        (folder / "report").chmod(0o700)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "it must be writable" in err and "intact" in err


def test_a_report_file_that_is_a_folder_is_one_line(tmp_path, capsys):
    folder = _results_of_one_cell(tmp_path)
    (folder / "report" / "report.html").mkdir(parents=True)
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "report.html': it must be writable" in err, err


def test_a_bad_timing_caveat_is_one_line(tmp_path, capsys):
    folder = _results_of_one_cell(tmp_path)
    (folder / "timing_caveats.csv").write_text(
        "mlflow_run_id,run,cause,paused_s\nabc,final seed 0,sleepy,\n")
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "line 2: cause must be one of paused, contended" in err
    assert not (folder / "report").exists()  # refused before anything was written


def _results_of_one_cell(tmp_path: Path) -> Path:
    """A results folder of one cell, two trials and two seeds, written by hand."""
    from benchmarks.results.tables import ResultsWriter

    writer = ResultsWriter(tmp_path / "tiny")
    cell = {"suite": "tiny", "backbone": "b", "dataset": "d", "family": "near",
            "n_train": 20, "size": "20", "regime": "<1k", "strategy": "full_finetune"}
    for trial in range(2):
        writer.append("trials", {**cell, "trial": trial, "status": "COMPLETE", "reason": "",
                                 "lr": 1e-3, "params": '{"lr": 0.001}', "val_acc": 0.5})
        writer.append("final", {**cell, "seed": trial, "trial": 0, "lr": 1e-3,
                                "test_acc": 0.5 + trial / 10, "best_epoch": 1,
                                "max_epochs": 2})
    return tmp_path / "tiny"


def test_importances_of_trials_that_all_scored_the_same_are_empty():
    configs = [{"lr": 10 ** -k, "k": k % 3} for k in range(1, 7)]
    assert cell_importances(configs, [0.5] * 6) == {}
    assert set(cell_importances(configs, [0.1 * k for k in range(6)])) == {"lr", "k"}


@pytest.mark.parametrize("name", ["w.safetensors", "w.pt"])
def test_checkpoints_of_every_format_get_the_same_permissions(tmp_path, name):
    old = os.umask(0o022)
    try:
        path = save_checkpoint({"w": torch.zeros(2)}, tmp_path / name)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_a_line_break_in_a_value_is_shown_escaped_on_the_one_line(tmp_path, capsys):
    (tmp_path / "s.yaml").write_text("name: s\nbackbones: |\n  text\ndatasets: [synth_far]\n"
                                     "sizes: [20]\nstrategies: [full_finetune]\n")
    assert main(["run", str(tmp_path / "s.yaml"), "--results-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "backbone 'text\\n': it must be a timm model name" in err
