"""Imbalanced data: the long-tail option of a dataset entry and the weighted and focal losses."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from benchmarks.data import load_dataset
from benchmarks.data.imbalance import long_tail, long_tail_counts
from benchmarks.data.ref import parse_dataset
from benchmarks.engine.config import TrainConfig
from benchmarks.engine.loss import LossConfig, class_weights, make_loss


def test_the_long_tail_keeps_a_geometric_share_of_each_class_and_the_test_split():
    assert long_tail_counts([100, 120, 90], 10) == [90, 28, 9]
    assert long_tail_counts([50, 50], 1) == [50, 50]
    task = load_dataset("synth_far")
    tailed = long_tail(task, 20)
    counts = torch.bincount(tailed.train.labels, minlength=len(task.classes)).tolist()
    assert counts == long_tail_counts(
        torch.bincount(task.train.labels).tolist(), 20)
    assert counts[0] / counts[-1] == pytest.approx(20, rel=0.1)
    assert torch.equal(tailed.test.labels, task.test.labels)
    assert torch.equal(long_tail(task, 20).train.labels, tailed.train.labels)  # seeded
    ref = parse_dataset({"name": "synth_far", "long_tail": 20}, "s")
    assert torch.equal(ref.load().train.labels, tailed.train.labels)


def test_class_weights_are_balanced_and_the_losses_are_what_they_say():
    labels = torch.tensor([0, 0, 0, 1])
    assert class_weights(labels, 3).tolist() == pytest.approx([4 / 6, 2.0, 0.0])
    logits = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    weighted = make_loss(LossConfig("weighted_cross_entropy"), labels, 3, 0.0,
                         torch.device("cpu"))
    assert weighted(logits, labels) == pytest.approx(float(F.cross_entropy(
        logits, labels, weight=class_weights(labels, 3))))
    focal0 = make_loss(LossConfig("focal", gamma=0.0), labels, 3, 0.0, torch.device("cpu"))
    assert focal0(logits, labels) == pytest.approx(float(F.cross_entropy(logits, labels)))
    focal2 = make_loss(LossConfig("focal", gamma=2.0), labels, 3, 0.0, torch.device("cpu"))
    assert float(focal2(logits, labels)) < float(F.cross_entropy(logits, labels))


def _rare_recall(name: str) -> float:
    """A linear classifier on three overlapping Gaussian classes of 400, 40 and 8 points."""
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [1.5, 0.0], [0.0, 1.5]])
    sizes = (400, 40, 8)
    x = torch.cat([c + torch.randn(n, 2, generator=g) for c, n in zip(centres, sizes)])
    y = torch.cat([torch.full((n,), k) for k, n in enumerate(sizes)])
    x_test = torch.cat([c + torch.randn(300, 2, generator=g) for c in centres])
    y_test = torch.arange(3).repeat_interleave(300)
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 3)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    loss_fn = make_loss(LossConfig(name), y, 3, 0.0, torch.device("cpu"))
    for _ in range(300):
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
    pred = model(x_test).argmax(1)
    return float(((pred == y_test) & (y_test > 0)).sum() / (y_test > 0).sum())


def test_weighted_loss_raises_the_recall_of_the_rare_classes():
    plain, weighted = _rare_recall("cross_entropy"), _rare_recall("weighted_cross_entropy")
    assert weighted > plain + 0.2, (plain, weighted)


def test_weighted_and_focal_losses_refuse_mixed_labels():
    with pytest.raises(ValueError, match="needs hard labels"):
        TrainConfig(loss="focal", augment="cutmix")
    assert TrainConfig(loss={"name": "focal", "gamma": 1}).loss == LossConfig("focal", 1.0)


def test_a_suite_with_a_long_tail_and_a_focal_loss_runs_to_the_end(tmp_path):
    import pandas as pd

    from benchmarks.cli.commands import main
    from tests.conftest import TINY_SUITE

    text = TINY_SUITE.replace("datasets: [synth_far]",
                              "datasets: [{name: synth_far, long_tail: 5}]").replace(
        "train: {max_epochs: 2, batch_size: 16}",
        "train: {max_epochs: 2, batch_size: 16, loss: {name: focal, gamma: 2}}")
    (tmp_path / "tiny.yaml").write_text(text)
    assert main(["run", str(tmp_path / "tiny.yaml"), "--results-dir", str(tmp_path / "r"),
                 "--cache-dir", str(tmp_path / "c"), "--no-progress", "--no-report"]) == 0
    final = pd.read_csv(tmp_path / "r" / "tiny" / "final.csv")
    assert len(final) == 1 and 0 <= final.test_acc.iloc[0] <= 1
