"""Section 11: features and Grad-CAM maps saved by the first final seed of each cell, drawn
by the report from the results folder alone; on a tiny run and on every backbone family."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmarks.cli.commands import main
from benchmarks.driver.pictures import grad_cam, sample_indices
from report.pictures import load_pictures
from tests.conftest import FAMILIES, TINY_SUITE, tiny_data, tiny_model


def test_the_sample_is_stratified_fixed_and_sorted():
    labels = torch.tensor([0] * 50 + [1] * 30 + [2] * 20)
    picked = sample_indices(labels, 30)
    assert np.bincount(labels[picked].numpy()).tolist() == [10, 10, 10]
    assert picked.tolist() == sorted(picked.tolist())
    assert picked.tolist() == sample_indices(labels, 30).tolist()


@pytest.mark.parametrize("family", FAMILIES)
def test_grad_cam_maps_every_family_in_the_image_s_size(family):
    model = tiny_model(family)
    data = tiny_data()
    cams = grad_cam(model, data.x_val[:3], data, torch.device("cpu"))
    assert cams.shape == (3, 32, 32)
    assert float(cams.min()) >= 0 and float(cams.amax((1, 2)).max()) == pytest.approx(1.0)


def test_a_tiny_run_saves_pictures_and_the_report_draws_them(tmp_path):
    text = TINY_SUITE.replace("strategies: [feature_extraction]",
                              "strategies: [feature_extraction, full_finetune]").replace(
                              "seeds: [0]", "seeds: [3, 1]")
    (tmp_path / "tiny.yaml").write_text(text)
    assert main(["run", str(tmp_path / "tiny.yaml"), "--results-dir", str(tmp_path / "r"),
                 "--cache-dir", str(tmp_path / "c"), "--no-progress"]) == 0
    out = tmp_path / "r" / "tiny"
    saved = sorted(p.relative_to(out).as_posix() for p in (out / "features").rglob("*.npz"))
    assert saved == ["features/test_resnet/synth_far/n20/feature_extraction.npz",
                     "features/test_resnet/synth_far/n20/full_finetune.npz"]
    cells = load_pictures(out)
    assert len(cells) == 2 and all(len(f) == 200 for f in cells["features"])
    assert all(c.shape[0] == 4 and c.dtype == np.float16 for c in cells["cam"])
    report = (out / "report" / "report.md").read_text()
    section = report.split("## 11. What the strategies do to the features")[1]
    assert "figures/tsne_test_resnet_synth_far.png" in section
    assert "figures/gradcam_test_resnet_synth_far.png" in section
    assert (out / "report" / "figures" / "tsne_test_resnet_synth_far.svg").is_file()


def test_degenerate_features_are_not_embedded_but_said_in_their_panel(tmp_path):
    import pandas as pd

    from report.pictures import not_embeddable, tsne_figure

    rng = np.random.default_rng(0)
    fine = rng.normal(size=(24, 8)).astype(np.float16)
    # a backbone of zeros: every feature alike (this shape crashed t-SNE with SIGSEGV)
    constant = np.zeros((200, 1280), np.float16)
    broken = fine.copy()
    broken[3, 2] = np.nan
    assert not_embeddable(fine) == ""
    assert "same features" in not_embeddable(constant)
    assert "not all finite" in not_embeddable(broken)
    assert "fewer than 3" in not_embeddable(fine[:2])
    cells = pd.DataFrame([{"n_train": 20, "strategy": s, "features": f,
                           "labels": np.arange(len(f)) % 3}
                          for s, f in (("full_finetune", fine), ("from_scratch", constant),
                                       ("lora", broken))])
    figure = tsne_figure(cells, tmp_path, "tsne")
    assert figure is not None and any(tmp_path.iterdir())
