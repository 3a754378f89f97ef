"""What the machine can give a run is checked before any work: the device, the cache folder,
how many workers its cores and memory hold."""

from __future__ import annotations

import os

import pytest
import torch

from benchmarks.driver import machine


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_cuda_without_a_gpu_is_one_line():
    with pytest.raises(ValueError, match=r"train.device 'cuda': a CUDA GPU must be available, "
                                         r"but torch .* sees none .*Use device: cpu"):
        machine.check_device("cuda")


def test_a_gpu_index_past_the_last_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    machine.check_device("cuda:1")
    with pytest.raises(ValueError, match=r"index < 2 \(the GPUs here\) must hold, but got 5"):
        machine.check_device("cuda:5")


def test_the_cpu_is_always_there():
    machine.check_device("cpu")


def test_a_cache_that_is_a_file_is_refused_and_nothing_is_created(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ValueError, match="it must be a folder, but it is a file"):
        machine.check_cache_dir(tmp_path / "afile", "--cache-dir")
    with pytest.raises(ValueError, match=r"but '.*afile' is a file"):
        machine.check_cache_dir(tmp_path / "afile" / "below", "--cache-dir")
    machine.check_cache_dir(tmp_path / "new" / "cache", "--cache-dir")
    assert not (tmp_path / "new").exists()  # made and written in, then removed again


def test_a_cache_that_cannot_be_written_is_found_before_any_work(tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")  # what root meets where os.access passes

    monkeypatch.setattr(machine.tempfile, "NamedTemporaryFile", read_only)
    with pytest.raises(ValueError, match=r"create and write in, but that failed \(Read-only "
                                         r"file system\)\. Fix its permissions"):
        machine.check_cache_dir(tmp_path / "cache", "--cache-dir")


def test_workers_are_bounded_by_the_cores():
    cores = len(os.sched_getaffinity(0))
    machine.check_workers(1)
    with pytest.raises(ValueError, match=rf"--n-workers <= \d+ must hold on this machine "
                                         rf"\({cores} cores.*but got 1000\. Use --n-workers"):
        machine.check_workers(1000)


def test_workers_are_bounded_by_the_memory(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)))
    monkeypatch.setattr(machine, "_available_gib", lambda: 4.0)
    machine.check_workers(2)
    with pytest.raises(ValueError, match=r"<= 2 must hold .*4\.0 GiB of memory free at 1\.5 "
                                         r"GiB per worker\), but got 3"):
        machine.check_workers(3)
