"""The classes of the procedural datasets: glyph arrangements and periodic textures, drawn
from a seed so that no two classes (and no class of an ``avoid`` set) describe the same
distribution. :mod:`benchmarks.data.synthetic` renders their images.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

PRIMITIVES = (
    "disk", "ring", "square", "hollow_square", "hbar", "vbar",
    "diag", "antidiag", "plus", "cross", "triangle",
)  # fmt: skip
PATTERNS = ("sine", "square", "plaid", "rings", "gabor")

_FREQUENCIES = (2.5, 4.0, 6.0)  # cycles per image width
_ANGLES = (0.0, 45.0, 90.0, 135.0)  # degrees


@dataclass(frozen=True)
class GlyphPart:
    """One primitive of a glyph class; coordinates are in units of half the image width."""

    primitive: str
    x: float
    y: float
    size: float


@dataclass(frozen=True)
class GlyphClass:
    """A glyph class: a fixed arrangement of parts centred on the origin."""

    parts: tuple[GlyphPart, ...]

    @property
    def name(self) -> str:
        """Readable name listing the primitives, e.g. ``"disk-ring-hbar"``."""
        return "-".join(part.primitive for part in self.parts)


@dataclass(frozen=True)
class TextureClass:
    """A texture class: a pattern with a frequency (cycles per image width) and an angle."""

    pattern: str
    frequency: float
    angle: float

    @property
    def name(self) -> str:
        """Readable name, e.g. ``"plaid_f4.0_a45"``."""
        return f"{self.pattern}_f{self.frequency:g}_a{self.angle:g}"


def _random_glyph(rng: np.random.Generator, n_parts: int) -> GlyphClass:
    """Draw primitives and well-separated part positions, then centre the arrangement."""
    while True:
        xy = rng.uniform(-0.45, 0.45, size=(n_parts, 2))
        gaps = [np.hypot(*(a - b)) for a, b in itertools.combinations(xy, 2)]
        if min(gaps, default=1.0) >= 0.38:
            break
    xy = xy - xy.mean(axis=0)
    kinds = rng.integers(len(PRIMITIVES), size=n_parts)
    sizes = rng.uniform(0.2, 0.3, size=n_parts)
    parts = tuple(
        GlyphPart(PRIMITIVES[k], round(float(x), 3), round(float(y), 3), round(float(s), 3))
        for k, (x, y), s in zip(kinds, xy, sizes)
    )
    return GlyphClass(parts)


def glyph_distance(a: GlyphClass, b: GlyphClass) -> float:
    """Dissimilarity of two glyph classes: best part matching of type mismatches + offsets.

    Each mismatched primitive counts 1; matched offsets add their Euclidean distance.
    """
    if len(a.parts) != len(b.parts):
        return float("inf")
    return min(
        sum(
            (p.primitive != q.primitive) + np.hypot(p.x - q.x, p.y - q.y)
            for p, q in zip(a.parts, perm)
        )
        for perm in itertools.permutations(b.parts)
    )


def sample_glyph_classes(
    n_classes: int,
    seed: int,
    *,
    n_parts: int = 3,
    avoid: Sequence[GlyphClass] = (),
    min_distance: float = 0.6,
) -> tuple[GlyphClass, ...]:
    """Draw ``n_classes`` glyph classes that are pairwise distinct and distinct from ``avoid``.

    Args:
        n_classes: Number of classes to draw.
        seed: Seed of the class specifications (not of the images).
        n_parts: Primitives per glyph.
        avoid: Classes (e.g. the pretraining classes) that new classes must differ from.
        min_distance: Minimum ``glyph_distance`` to every accepted or avoided class.

    Returns:
        The class specifications, in label order.

    Raises:
        ValueError: If not enough distinct classes are found.
    """
    rng = np.random.default_rng([seed, 7919])
    chosen: list[GlyphClass] = []
    for _ in range(200 * n_classes):
        candidate = _random_glyph(rng, n_parts)
        if all(glyph_distance(candidate, c) >= min_distance for c in (*avoid, *chosen)):
            chosen.append(candidate)
        if len(chosen) == n_classes:
            return tuple(chosen)
    raise ValueError(
        f"Glyph classes '{n_classes}': enough distinct arrangements must exist, but got only "
        f"{len(chosen)} at min_distance={min_distance}. Lower min_distance or n_classes."
    )


def sample_texture_classes(n_classes: int, seed: int) -> tuple[TextureClass, ...]:
    """Draw distinct texture classes, cycling through ``PATTERNS`` so each pattern recurs.

    Angles are canonicalised (plaid repeats every 90 degrees, rings have no angle), so no two
    classes describe the same distribution.
    """
    rng = np.random.default_rng([seed, 104729])
    chosen: list[TextureClass] = []
    for _ in range(200 * n_classes):
        pattern = PATTERNS[len(chosen) % len(PATTERNS)]
        angle = float(rng.choice(_ANGLES))
        angle = 0.0 if pattern == "rings" else angle % (90.0 if pattern == "plaid" else 180.0)
        candidate = TextureClass(pattern, float(rng.choice(_FREQUENCIES)), angle)
        if candidate not in chosen:
            chosen.append(candidate)
        if len(chosen) == n_classes:
            return tuple(chosen)
    raise ValueError(
        f"Texture classes '{n_classes}': enough distinct patterns must exist, but got only "
        f"{len(chosen)}. Ask for fewer classes."
    )
