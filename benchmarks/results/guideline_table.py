"""The guideline table as data: strategy, LR range and epochs per data-size regime, and where
the tutorials' claims come from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Guideline:
    """One row of the rule-of-thumb table.

    Attributes:
        regime: Training-set-size regime label, as in the ``regime`` column.
        strategy: Recommended strategy name.
        lr_low: Lower end of the typical LR range.
        lr_high: Upper end of the typical LR range.
        epochs_low: Lower end of the recommended epochs.
        epochs_high: Upper end of the recommended epochs; None for open-ended ("100+").
    """

    regime: str
    strategy: str
    lr_low: float
    lr_high: float
    epochs_low: int
    epochs_high: int | None

    @property
    def lr_text(self) -> str:
        """The LR range as written in the guideline, e.g. ``1e-4..1e-3``."""
        return f"{format_lr(self.lr_low)}..{format_lr(self.lr_high)}"

    @property
    def epochs_text(self) -> str:
        """The epoch range as written in the guideline, e.g. ``30-50`` or ``100+``."""
        if self.epochs_high is None:
            return f"{self.epochs_low}+"
        return f"{self.epochs_low}-{self.epochs_high}"


GUIDELINES: tuple[Guideline, ...] = (
    Guideline("<1k", "feature_extraction", 1e-4, 1e-3, 30, 50),
    Guideline("1k-10k", "partial_freeze", 1e-4, 5e-4, 50, 100),
    Guideline(">10k", "full_finetune", 1e-5, 1e-4, 100, None),
)
REGIME_ORDER: tuple[str, ...] = tuple(g.regime for g in GUIDELINES)

SOURCE_SIZE_TABLE = (
    "Source of the data-size table: a Chinese-language PyTorch tutorial on transfer learning "
    "(principles, implementation steps and key techniques, 2025), one of the five tutorials "
    "ftbench tests; English summary in ftbench's shared/GUIDELINES.md, section 1.")
SOURCE_SIMILARITY_TABLE = (
    "Source of the size x similarity advice: a Chinese-language tutorial on fine-tuning "
    "ImageNet-pretrained networks on small datasets (2025), one of the five tutorials ftbench "
    "tests; English summary in ftbench's shared/GUIDELINES.md, section 2.")


def format_lr(lr: float) -> str:
    """Compact LR text: ``1e-4``, ``5e-4``, ``3.2e-5``."""
    mantissa, exponent = f"{lr:.1e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def guideline_for(regime: str) -> Guideline | None:
    """The guideline row for ``regime``, or None when the table has no such regime."""
    return next((g for g in GUIDELINES if g.regime == regime), None)


def regime_rank(regime: str) -> int:
    """Sort key placing the guideline's regimes in table order, unknown ones last."""
    return REGIME_ORDER.index(regime) if regime in REGIME_ORDER else len(REGIME_ORDER)
