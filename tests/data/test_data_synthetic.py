"""Tests of the procedural glyph and texture generators."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from benchmarks.data import load_dataset, synthetic
from benchmarks.data.synthetic_classes import (
    PRIMITIVES,
    GlyphClass,
    GlyphPart,
    glyph_distance,
    sample_glyph_classes,
    sample_texture_classes,
)

SOURCE = sample_glyph_classes(64, seed=0)
NEAR = sample_glyph_classes(10, seed=1, avoid=SOURCE)
TEXTURES = sample_texture_classes(10, seed=2)


@pytest.mark.parametrize("classes", [NEAR, TEXTURES], ids=["glyphs", "textures"])
def test_generate_is_deterministic_per_seed(classes):
    images, labels = synthetic.generate(classes, 6, seed=3)
    again, again_labels = synthetic.generate(classes, 6, seed=3)
    other, _ = synthetic.generate(classes, 6, seed=4)
    other_stream, _ = synthetic.generate(classes, 6, seed=3, stream=1)
    assert torch.equal(images, again) and torch.equal(labels, again_labels)
    assert not torch.equal(images, other)
    assert not torch.equal(images, other_stream)


@pytest.mark.parametrize("classes", [NEAR, TEXTURES], ids=["glyphs", "textures"])
def test_generate_dtype_shape_and_classes(classes):
    images, labels = synthetic.generate(classes, 5, seed=0, image_size=24)
    assert images.dtype == torch.uint8 and images.shape == (50, 3, 24, 24)
    assert images.is_contiguous()
    assert labels.dtype == torch.int64
    assert torch.equal(torch.bincount(labels), torch.full((10,), 5))
    assert images.min() < 40 and images.max() > 215  # uses most of the range


def test_class_specs_are_deterministic():
    assert sample_glyph_classes(64, seed=0) == SOURCE
    assert sample_texture_classes(10, seed=2) == TEXTURES
    assert sample_glyph_classes(10, seed=5) != sample_glyph_classes(10, seed=6)


def test_near_classes_are_distinct_from_source_and_each_other():
    for near in NEAR:
        assert min(glyph_distance(near, src) for src in SOURCE) >= 0.6
    pairs = [(a, b) for i, a in enumerate(NEAR) for b in NEAR[i + 1 :]]
    assert all(glyph_distance(a, b) >= 0.6 for a, b in pairs)
    assert len(set(TEXTURES)) == len(TEXTURES)


def test_glyph_distance_ignores_part_order():
    glyph = SOURCE[0]
    shuffled = GlyphClass(glyph.parts[::-1])
    assert glyph_distance(glyph, shuffled) == 0.0
    assert glyph_distance(glyph, SOURCE[1]) > 0.0


def test_every_primitive_renders_a_visible_shape():
    rng = np.random.default_rng(0)
    for primitive in PRIMITIVES:
        glyph = GlyphClass((GlyphPart(primitive, 0.0, 0.0, 0.3),))
        assert synthetic.render_glyphs(glyph, 2, rng).std() > 0.05, primitive


def test_impossible_class_count_raises():
    with pytest.raises(ValueError, match="Texture classes '500'"):
        sample_texture_classes(500, seed=0)


@pytest.mark.parametrize("name", ["synth_near", "synth_far"])
def test_mean_colour_does_not_reveal_the_class(name):
    data = load_dataset(name)
    features = lambda s: s.images.float().mean(dim=(2, 3)).numpy() / 255
    model = LogisticRegression(max_iter=1000).fit(features(data.train), data.train.labels)
    accuracy = model.score(features(data.test), data.test.labels.numpy())
    assert accuracy < 0.35, f"{name}: mean colour predicts the class ({accuracy:.2f})"
