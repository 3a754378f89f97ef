"""optuna-dashboard, the Optuna ecosystem's viewer, opens a results folder's journal as the
README says: started against a tiny run, its HTTP API lists every cell's study and trials."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

from benchmarks.cli.commands import main
from tests.conftest import TINY_SUITE

DASHBOARD = shutil.which("optuna-dashboard")
pytestmark = pytest.mark.skipif(
    DASHBOARD is None, reason="optuna-dashboard is not installed (pip install -e '.[dev]')")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, deadline: float) -> dict:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_the_dashboard_serves_every_cell_of_a_run(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY_SUITE)
    assert main(["run", str(tmp_path / "tiny.yaml"), "--results-dir", str(tmp_path / "r"),
                 "--cache-dir", str(tmp_path / "cache"), "--no-progress", "--no-report"]) == 0
    port = _free_port()
    server = subprocess.Popen(
        [DASHBOARD, str(tmp_path / "r" / "tiny" / "optuna.journal"), "--host", "127.0.0.1",
         "--port", str(port), "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}/api/studies"
        studies = _get(base, time.monotonic() + 60)["study_summaries"]
        names = {s["study_name"]: s["study_id"] for s in studies}
        cell = "test_resnet/synth_far/n20/feature_extraction"
        assert set(names) == {cell, f"{cell}/final"}
        detail = _get(f"{base}/{names[cell]}", time.monotonic() + 10)
        assert len(detail["trials"]) == 2  # the suite's trials
    finally:
        server.terminate()
        server.wait(timeout=10)
