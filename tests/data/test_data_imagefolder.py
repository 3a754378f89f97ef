"""Tests of ``imagefolder``: both layouts, image modes and formats, and every bad-input error."""

import numpy as np
import pytest
import torch
from PIL import Image

from benchmarks.data import (
    dataset_fingerprint,
    dataset_options,
    load_dataset,
    make_splits,
    resolve_sizes,
)


def _write(path, mode="RGB", size=(12, 10), value=0, fmt=None):
    """One solid image of ``mode`` and ``size`` (width, height) at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    bands = len(Image.new(mode, (1, 1)).getbands())
    color = value if bands == 1 else (value,) * bands
    Image.new(mode, size, color).save(path, format=fmt)
    return path


def _tree(folder, counts, **kwargs):
    """Class folders ``folder/<class>/`` with ``counts[class]`` PNG images each."""
    for name, count in counts.items():
        for i in range(count):
            _write(folder / name / f"{i}.png", value=10 * i, **kwargs)


def _load(root, **options):
    return load_dataset("imagefolder", root=root, **options)


def test_options():
    options = dataset_options("imagefolder")
    assert set(options) == {"root", "classes", "image_size", "split_seed", "test_fraction"}
    assert (options["split_seed"], options["test_fraction"]) == (0, 0.2)
    with pytest.raises(ValueError, match="option 'root' given must hold"):
        load_dataset("imagefolder")


def test_train_val_test_layout_with_modes_and_formats(tmp_path):
    _write(tmp_path / "train" / "cat" / "a.png", mode="L", value=200)
    _write(tmp_path / "train" / "cat" / "b.PNG", mode="RGBA", value=100)
    _write(tmp_path / "train" / "dog" / "c.jpg", fmt="JPEG", value=50)
    (tmp_path / "train" / "dog" / "notes.txt").write_text("not an image: ignored")
    _write(tmp_path / "val" / "dog" / "d.JPEG", fmt="JPEG", value=60)
    _write(tmp_path / "test" / "cat" / "e.bmp", value=1)
    _write(tmp_path / "test" / "dog" / "f.gif", mode="P", value=3)
    data = _load(tmp_path)
    assert data.classes == ("cat", "dog")
    assert data.train.images.shape == (4, 3, 10, 12) and data.test.images.shape == (2, 3, 10, 12)
    assert data.train.labels.tolist() == [0, 0, 1, 1] and data.test.labels.tolist() == [0, 1]
    assert data.train.images.dtype == torch.uint8 and data.train.images.is_contiguous()
    assert (data.train.images[0] == 200).all() and (data.train.images[1] == 100).all()
    assert abs(int(data.train.images[3].float().mean()) - 60) <= 2  # JPEG is lossy


def test_single_folder_is_split_stratified_and_seeded(tmp_path):
    _tree(tmp_path, {"a": 10, "b": 5})
    data = _load(tmp_path)
    assert data.train.labels.tolist().count(0) == 8 and data.test.labels.tolist() == [0, 0, 1]
    again = _load(tmp_path, test_fraction=0.2, split_seed=0)
    assert torch.equal(data.test.images, again.test.images)
    other = _load(tmp_path, split_seed=1)
    assert not torch.equal(data.test.images, other.test.images)
    half = _load(tmp_path, test_fraction=0.5, classes=["b", "a"], image_size=4)
    assert half.classes == ("b", "a") and half.train.images.shape == (8, 3, 4, 4)
    assert half.test.labels.tolist().count(0) == 2 and len(half.test.labels) == 7


def test_fingerprint_sees_new_files(tmp_path):
    _tree(tmp_path, {"a": 2, "b": 2})
    before = dataset_fingerprint("imagefolder", root=tmp_path)
    assert before != dataset_fingerprint("imagefolder", root=tmp_path, split_seed=1)
    _write(tmp_path / "a" / "new.png")
    assert dataset_fingerprint("imagefolder", root=tmp_path) != before


def test_different_sizes_need_image_size(tmp_path):
    _tree(tmp_path, {"a": 2})
    _write(tmp_path / "b" / "big.png", size=(20, 16))
    _write(tmp_path / "b" / "big2.png", size=(20, 16))
    with pytest.raises(
        ValueError, match=r"12x10 .*'.*a/\d.png' and 20x16 .*big2?.png'.*image_size"
    ):
        _load(tmp_path)
    data = _load(tmp_path, image_size=8)
    assert data.train.images.shape[1:] == (3, 8, 8)


def test_resize_is_antialiased_and_exact_on_solid_images(tmp_path):
    _write(tmp_path / "a" / "0.png", value=77, size=(64, 64))
    _write(tmp_path / "a" / "1.png", value=77, size=(64, 64))
    _write(tmp_path / "b" / "0.png", value=77, size=(64, 64))
    _write(tmp_path / "b" / "1.png", value=77, size=(64, 64))
    images = _load(tmp_path, image_size=7).train.images
    assert images.shape == (2, 3, 7, 7) and (images == 77).all()


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda root: None, "an existing folder as root must hold, but got '.*missing'"),
        (lambda root: _write(root / "loose.png"), "at least one class folder in .* must hold"),
        (lambda root: _tree(root, {"a": 2}) or (root / "b").mkdir(),
         r"at least one image in class folder '.*b' must hold"),
        (lambda root: _tree(root, {"a": 2}) or (root / "a" / "bad.png").write_bytes(b"junk"),
         r"a readable image must hold, but got .* for '.*bad.png'"),
        (lambda root: _tree(root / "train", {"a": 1, "b": 1}) or _tree(root / "test", {"a": 1}),
         r"every training class in '.*test' must hold, but got none of \['b'\]"),
        (lambda root: _tree(root / "train", {"a": 1}) or _tree(root / "test", {"a": 1, "z": 1}),
         r"class folders known from training must hold, but got '.*z'"),
        (lambda root: _tree(root / "train", {"a": 1}),
         r"an existing '.*test' must hold next to the other split"),
        (lambda root: _tree(root, {"a": 3, "b": 1}),
         "at least 2 images per class must hold for a train/test split, but got 1 in class 'b'"),
        (lambda root: _tree(root, {"a": 3}),
         r"at least 2 classes must hold, but got 1 \(only 'a'\)"),
    ],
    ids=["no-root", "no-classes", "empty-class", "corrupt", "test-missing-class",
         "test-unknown-class", "no-test-folder", "class-too-small", "one-class"],
)  # fmt: skip
def test_bad_input_is_one_clear_line(tmp_path, make, pattern):
    root = tmp_path / "missing"
    make(root)
    with pytest.raises(ValueError, match=pattern) as error:
        _load(root)
    assert "\n" not in str(error.value) and "Dataset 'imagefolder'" in str(error.value)


def test_truncated_jpeg_names_the_file(tmp_path):
    _tree(tmp_path, {"a": 2})
    good = _write(tmp_path / "a" / "c.jpg", fmt="JPEG", size=(12, 10))
    good.write_bytes(good.read_bytes()[:40])
    with pytest.raises(ValueError, match="c.jpg"):
        _load(tmp_path)


def test_class_selection_keeps_pixels(tmp_path):
    _tree(tmp_path / "train", {"a": 2, "b": 2})
    _tree(tmp_path / "test", {"a": 1, "b": 1})
    data = _load(tmp_path, classes=["b", "a"])
    assert data.classes == ("b", "a") and data.train.labels.tolist() == [1, 1, 0, 0]
    expected = np.array(Image.open(tmp_path / "train" / "b" / "1.png").convert("RGB"))
    assert torch.equal(data.train.images[3], torch.from_numpy(expected).permute(2, 0, 1))


def test_selecting_one_class_is_refused_at_load_time(tmp_path):
    _tree(tmp_path, {"a": 2, "b": 2})
    with pytest.raises(ValueError) as error:
        _load(tmp_path, classes=["b"])
    assert str(error.value) == ("Dataset 'imagefolder': at least 2 classes must hold, but got 1 "
                                "(only 'b'). Add another class folder, or list 2 or more in "
                                "'classes'.")


def test_a_missing_root_in_the_data_folder_names_ftbench_data(tmp_path, monkeypatch):
    monkeypatch.setenv("FTBENCH_DATA", str(tmp_path))
    with pytest.raises(ValueError) as error:
        _load(tmp_path / "cifar10_5class")
    assert str(error.value) == (
        f"Dataset 'imagefolder': an existing folder as root must hold, but got "
        f"'{tmp_path / 'cifar10_5class'}'. Pass the folder that holds your class folders (or "
        f"train/ and test/). That is under the data folder {tmp_path}, which the environment "
        f"variable FTBENCH_DATA={tmp_path} sets: check that it names the folder holding the "
        "data.")


def test_size_errors_name_classes_by_their_folder(tmp_path):
    _tree(tmp_path, {"cat": 20, "dog": 2, "fish": 6})  # dog: 1 to test, 1 that validation takes
    data = _load(tmp_path)
    with pytest.raises(ValueError) as error:
        make_splits(data.train.labels, [10], class_names=data.classes)
    assert str(error.value) == (
        "Training size '10': every class supplying its stratified share must hold, but got "
        "class 'dog' with 0 available for a share of 1 (available per class: 'cat' 15, 'dog' "
        "0, 'fish' 4). Add samples of class 'dog', choose a smaller size or a lower "
        "val_fraction.")
    with pytest.raises(ValueError, match=r"must hold, but got 2, below the 3 classes\. Use a "):
        resolve_sizes([2], data.train.labels)
    with pytest.raises(ValueError, match=r"0 <= index < 3 must hold, but got 3\. Use a smaller "
                                         r"index or a name: cat, dog, fish\."):
        _load(tmp_path, classes=[3])
