"""Local checkpoints: formats, wrappers, prefixes, head dropping and one-line errors."""

from __future__ import annotations

import pickle

import pytest
import timm
import torch

from benchmarks.models.checkpoints import (
    LoadReport,
    load_checkpoint,
    read_state_dict,
    save_checkpoint,
)


def _model(name: str = "test_resnet", num_classes: int = 3) -> torch.nn.Module:
    torch.manual_seed(0)
    return timm.create_model(name, pretrained=False, num_classes=num_classes)


def _assert_backbone_equal(loaded: torch.nn.Module, source: dict, skip=("fc.",)) -> None:
    for key, value in loaded.state_dict().items():
        if not key.startswith(skip):
            assert torch.equal(value, source[key]), key


def _one_line_error(model, path, **kwargs) -> str:
    with pytest.raises(ValueError) as info:
        load_checkpoint(model, path, **kwargs)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_dataparallel_checkpoint_loads_into_a_model_with_another_head(tmp_path):
    source = torch.nn.DataParallel(_model(num_classes=5))
    save_checkpoint(source, tmp_path / "dp.pth")
    assert next(iter(torch.load(tmp_path / "dp.pth", weights_only=True))).startswith("module.")
    torch.manual_seed(1)
    target = timm.create_model("test_resnet", num_classes=3)
    report = load_checkpoint(target, tmp_path / "dp.pth")
    assert report == LoadReport(dropped_head=("fc.weight", "fc.bias"))
    _assert_backbone_equal(target, source.module.state_dict())
    assert target.get_classifier().out_features == 3


@pytest.mark.parametrize(
    ("name", "head"),
    [("test_vit", "head."), ("test_convnext", "head.fc."), ("test_efficientnet", "classifier.")],
)
def test_the_head_is_found_in_every_family(tmp_path, name, head):
    path = save_checkpoint(_model(name, num_classes=5), tmp_path / f"{name}.pt")
    report = load_checkpoint(_model(name, num_classes=3), path)
    assert report == LoadReport(dropped_head=(f"{head}weight", f"{head}bias"))


def test_safetensors_round_trip(tmp_path):
    source = _model()
    path = save_checkpoint(source, tmp_path / "model.safetensors")
    target = timm.create_model("test_resnet", num_classes=3)
    assert load_checkpoint(target, path) == LoadReport()
    _assert_backbone_equal(target, source.state_dict(), skip=())


@pytest.mark.parametrize(
    "wrap",
    ["state_dict", "model", "model_state_dict", "module", "ema", "state_dict_ema"],
)
def test_each_wrapper_key_is_unwrapped(tmp_path, wrap):
    source = _model()
    torch.save({wrap: source.state_dict(), "epoch": torch.tensor(3)}, tmp_path / "w.pth")
    target = timm.create_model("test_resnet", num_classes=3)
    assert load_checkpoint(target, tmp_path / "w.pth") == LoadReport()
    _assert_backbone_equal(target, source.state_dict(), skip=())


def test_plain_weights_win_over_ema(tmp_path):
    plain, ema = _model().state_dict(), {k: v + 1 for k, v in _model().state_dict().items()}
    torch.save({"state_dict_ema": ema, "state_dict": plain}, tmp_path / "both.pth")
    assert torch.equal(read_state_dict(tmp_path / "both.pth")["fc.bias"], plain["fc.bias"])


def test_compile_and_dataparallel_prefixes_are_stripped(tmp_path):
    state = {f"_orig_mod.module.{k}": v for k, v in _model().state_dict().items()}
    torch.save(state, tmp_path / "compiled.bin")
    assert load_checkpoint(_model(), tmp_path / "compiled.bin") == LoadReport()


def test_adapt_state_dict_is_called_after_unwrapping(tmp_path):
    class Renamed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(2, 2)

        def adapt_state_dict(self, state):
            return {k.replace("old.", "linear."): v for k, v in state.items()}

    torch.save(
        {"model": {f"module.old.{k}": v for k, v in Renamed().linear.state_dict().items()}},
        tmp_path / "old.pt",
    )
    assert load_checkpoint(Renamed(), tmp_path / "old.pt") == LoadReport()


def test_another_architecture_is_a_one_line_error(tmp_path):
    path = save_checkpoint(_model("test_vit"), tmp_path / "vit.pt")
    message = _one_line_error(_model(), path)
    assert "missing" in message and "unexpected" in message and "ResNet" in message
    assert "strict=False" not in message and "point weights: at a checkpoint" in message


def test_a_non_head_shape_mismatch_names_the_key_and_both_shapes(tmp_path):
    state = _model().state_dict()
    state["conv1.0.weight"] = torch.zeros(2, 3, 3, 3)
    torch.save(state, tmp_path / "shape.pt")
    target = _model()
    expected = f"conv1.0.weight: (2, 3, 3, 3) vs {tuple(target.conv1[0].weight.shape)}"
    assert expected in _one_line_error(target, tmp_path / "shape.pt")
    report = load_checkpoint(target, tmp_path / "shape.pt", strict=False)
    assert report.shape_mismatch == (expected,) and not report.missing


def test_a_strict_failure_loads_nothing(tmp_path):
    state = {k: torch.ones_like(v) for k, v in _model().state_dict().items()}
    state["extra"] = torch.zeros(1)
    torch.save(state, tmp_path / "extra.pt")
    target = _model()
    before = {k: v.clone() for k, v in target.state_dict().items()}
    _one_line_error(target, tmp_path / "extra.pt")
    _assert_backbone_equal(target, before, skip=())
    assert load_checkpoint(target, tmp_path / "extra.pt", strict=False).unexpected == ("extra",)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("corrupt.pt", b"not a checkpoint", "corrupt"),
        ("empty.pth", b"", "corrupt"),
        ("corrupt.safetensors", b"\x00" * 16, "corrupt"),
    ],
)
def test_unreadable_files_are_one_line_errors(tmp_path, name, content, expected):
    (tmp_path / name).write_bytes(content)
    assert expected in _one_line_error(_model(), tmp_path / name)


def test_unreadable_advice_is_what_the_owner_of_the_file_can_do(tmp_path, recwarn):
    (tmp_path / "mine.pt").write_bytes(b"garbage")
    mine = _one_line_error(_model(), tmp_path / "mine.pt")
    assert "Delete" not in mine and "torch.save(model.state_dict(), path)" in mine
    (tmp_path / "cached.pt").write_bytes(b"garbage")
    (tmp_path / "cached.json").write_text("{}")  # what ftbench writes beside its own files
    assert "ftbench made it: delete it and the .json" in _one_line_error(
        _model(), tmp_path / "cached.pt")
    (tmp_path / "pickled.pt").write_bytes(pickle.dumps({"a": 1}))  # torch warned about it
    pickled = _one_line_error(_model(), tmp_path / "pickled.pt")
    assert "UnpicklingError" in pickled and "Save it again" in pickled
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]


def test_a_missing_file_is_a_one_line_error(tmp_path):
    assert "must exist" in _one_line_error(_model(), tmp_path / "nowhere.pt")


def test_a_pickled_object_is_refused_not_executed(tmp_path):
    torch.save({"a": object()}, tmp_path / "object.pt")
    message = _one_line_error(_model(), tmp_path / "object.pt")
    assert "weights_only" in message and "object" in message


@pytest.mark.parametrize("obj", [[torch.zeros(1)], {}, {"a": 1}])
def test_a_file_without_a_tensor_mapping_is_a_one_line_error(tmp_path, obj):
    torch.save(obj, tmp_path / "odd.pt")
    assert "tensor" in _one_line_error(_model(), tmp_path / "odd.pt")


def test_reads_are_cached_per_file_version(tmp_path):
    path = save_checkpoint({"w": torch.zeros(2)}, tmp_path / "c.pt")
    first = read_state_dict(path)
    assert read_state_dict(path)["w"] is first["w"]
    save_checkpoint({"w": torch.ones(3)}, path)
    assert torch.equal(read_state_dict(path)["w"], torch.ones(3))


def test_save_is_atomic_and_leaves_no_temporary_file(tmp_path):
    save_checkpoint({"w": torch.zeros(2)}, tmp_path / "sub" / "a.safetensors")
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["a.safetensors"]



def _new_task_model(name: str, checkpoint, n_classes: int = 5):
    """The model ``cell.build_model`` makes for a pretrained strategy's trial."""
    from types import SimpleNamespace

    from benchmarks.driver.cell import build_model

    run = SimpleNamespace(cell=SimpleNamespace(strategy="feature_extraction"), model=name,
                          checkpoint=checkpoint, task=SimpleNamespace(classes=range(n_classes)))
    return build_model(run, seed=1)


def test_a_checkpoint_s_head_of_the_same_size_is_not_the_new_task_s(tmp_path):
    torch.manual_seed(0)
    source = timm.create_model("test_resnet", num_classes=5)
    save_checkpoint(source.state_dict(), tmp_path / "s.pt")
    own, new = source.state_dict(), _new_task_model("test_resnet", tmp_path / "s.pt").state_dict()
    head = {"fc.weight", "fc.bias"}
    assert all(torch.equal(own[k], new[k]) for k in own if k not in head)
    assert not torch.equal(own["fc.weight"], new["fc.weight"])
    bound = 1 / source.num_features ** 0.5  # nn.Linear's default: U(+-1/sqrt(fan_in))
    assert float(new["fc.weight"].abs().max()) <= bound


def test_a_pretrained_efficientnet_head_has_pytorch_s_scale_not_timm_s(tmp_path):
    save_checkpoint(timm.create_model("tf_efficientnet_lite0").state_dict(), tmp_path / "e.pt")
    timm_head = timm.create_model("tf_efficientnet_lite0", num_classes=5).classifier.weight
    head = _new_task_model("tf_efficientnet_lite0", tmp_path / "e.pt").classifier.weight
    assert float(timm_head.detach().abs().max()) > 0.3  # timm: U(+-1/sqrt(5)) = U(+-0.447)
    assert float(head.detach().abs().max()) <= 1 / 1280 ** 0.5
