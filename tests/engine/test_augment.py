"""Tests of the named batch augmentations: shapes, determinism, per-sample randomness, mixing."""

import pytest
import torch
import torch.nn.functional as F

from benchmarks.engine.augment import AUGMENTATIONS, Augment, AugmentConfig, make_augment

N, C = 32, 5


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (N, 3, 16, 16), generator=g, dtype=torch.uint8)
    return images, torch.arange(N) % C


def _run(name, images, labels, seed=1, **kwargs):
    augment = make_augment(AugmentConfig(name, **kwargs), C)
    return augment(images, labels, torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", AUGMENTATIONS)
def test_shapes_dtypes_and_flags(name, batch):
    images, labels = batch
    augment = make_augment(AugmentConfig(name), C)
    assert isinstance(augment, Augment) and augment.touches_images == (name != "none")
    out, targets = _run(name, images, labels)
    assert out.shape == images.shape
    if augment.mixes_labels:
        assert out.dtype == torch.float32 and targets.shape == (N, C)
        assert targets.dtype == torch.float32
    else:
        assert out.dtype == torch.uint8 and torch.equal(targets, labels)


@pytest.mark.parametrize("name", AUGMENTATIONS)
def test_deterministic_per_seed_and_global_rng_untouched(name, batch):
    state = torch.get_rng_state()
    first, second = _run(name, *batch, seed=3), _run(name, *batch, seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    if name != "none":
        other = _run(name, *batch, seed=4)
        assert not all(torch.equal(a, b) for a, b in zip(first, other))


def test_none_returns_the_inputs(batch):
    images, labels = batch
    out, targets = _run("none", images, labels)
    assert out is images and targets is labels


def test_flip_only_flips_some_but_not_all_samples(batch):
    images, labels = batch
    out, _ = _run("flip_crop", images, labels, crop_padding=0.0)
    flipped = (out == images.flip(3)).flatten(1).all(1)
    same = (out == images).flatten(1).all(1)
    assert torch.all(flipped ^ same) and 0 < flipped.sum() < N


def _matching_params(image, out, pad):
    padded = F.pad(image[None].float(), (pad,) * 4, mode="reflect")[0]
    h, w = image.shape[1:]
    return [
        (flip, dy, dx)
        for dy in range(2 * pad + 1)
        for dx in range(2 * pad + 1)
        for flip in (False, True)
        if torch.equal(padded[:, dy : dy + h, dx : dx + w].flip(2) if flip else
                       padded[:, dy : dy + h, dx : dx + w], out.float())
    ]  # fmt: skip


def test_flip_crop_is_a_reflect_padded_crop_drawn_per_sample(batch):
    images, labels = batch
    out, _ = _run("flip_crop", images, labels)  # 16 px, padding 0.125 -> 2 px
    params = [_matching_params(image, result, 2) for image, result in zip(images, out)]
    assert all(len(found) == 1 for found in params)
    assert len({found[0] for found in params}) > N // 4  # not one draw for the whole batch
    assert any(found[0] != (False, 2, 2) for found in params)


@pytest.mark.parametrize("name", ["mixup", "cutmix"])
def test_mix_soft_targets_sum_to_one(name, batch):
    images, labels = batch
    out, targets = _run(name, images, labels)
    assert torch.allclose(targets.sum(1), torch.ones(N))
    partners = F.one_hot(labels, C) + F.one_hot(labels.roll(1), C)
    assert torch.all(targets >= 0) and torch.all(targets[partners == 0] == 0)
    assert 0 <= out.min() and out.max() <= 255


def test_randaugment_chunks_draw_their_own_ops(batch):
    images, labels = batch
    out, _ = _run("randaugment", images, labels, randaugment_chunk=4)
    assert out.shape == images.shape and not torch.equal(out, images)


def test_unknown_name_lists_valid_names_and_close_matches():
    with pytest.raises(ValueError, match=r"'mixpu'.*Did you mean: mixup") as error:
        make_augment(AugmentConfig("mixpu"), C)
    assert all(name in str(error.value) for name in AUGMENTATIONS)


@pytest.mark.parametrize(
    "kwargs",
    [{"flip_p": 1.5}, {"crop_padding": -0.1}, {"randaugment_magnitude": 31},
     {"randaugment_chunk": 0}, {"mixup_alpha": 0.0}, {"cutmix_alpha": -1.0}],
)  # fmt: skip
def test_bad_parameters_raise(kwargs):
    with pytest.raises(ValueError, match=f"'{next(iter(kwargs))}'.*must hold"):
        AugmentConfig("none", **kwargs)


@pytest.mark.parametrize(
    ("images", "labels", "fragment"),
    [
        (torch.zeros(2, 3, 8, 8), torch.zeros(2, dtype=torch.int64), "images_uint8"),
        (torch.zeros(2, 1, 8, 8, dtype=torch.uint8), torch.zeros(2, dtype=torch.int64), "images"),
        (torch.zeros(2, 3, 8, 8, dtype=torch.uint8), torch.zeros(3, dtype=torch.int64), "labels"),
    ],
)
def test_bad_inputs_raise(images, labels, fragment):
    with pytest.raises(ValueError, match=f"'{fragment}"):
        make_augment(AugmentConfig("flip_crop"), C)(images, labels, torch.Generator())
