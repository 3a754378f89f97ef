"""Safety: suites are read with a safe YAML loader, and the documented MLflow commands bind to
localhost. (Checkpoints that pickle code are refused in test_bad_input_catalogue.py; names
escaped in HTML are in test_report_build.py and test_report_render.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks.suite.model import load_suite

README = Path(__file__).resolve().parents[2] / "README.md"


def _code_lines(markdown: str) -> list[str]:
    """The lines inside fenced code blocks."""
    blocks = re.findall(r"^\s*```[^\n]*\n(.*?)^\s*```", markdown, flags=re.DOTALL | re.MULTILINE)
    return [line.strip() for block in blocks for line in block.splitlines()]


def test_every_documented_mlflow_server_binds_to_localhost():
    commands = [ln for ln in _code_lines(README.read_text())
                if re.match(r"mlflow (server|ui)\b", ln)]
    assert len(commands) >= 2  # `mlflow ui` for one machine, `mlflow server` for many
    for command in commands:
        assert re.search(r"--host 127\.0\.0\.1\b", command), command
        assert "0.0.0.0" not in command, command


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system", "!!python/name:os.system",
                                 "!!python/object/new:os.system"])
def test_a_suite_with_a_python_tag_is_refused_and_nothing_runs(tmp_path, tag):
    marker = tmp_path / "ran"
    suite = tmp_path / "evil.yaml"
    suite.write_text(f"name: evil\ntrials: {tag} ['touch {marker}']\n")
    with pytest.raises(ValueError) as error:
        load_suite(str(suite))
    message = str(error.value)
    assert message.startswith(f"{suite}:2: it must be valid YAML") and "\n" not in message
    assert not marker.exists()
