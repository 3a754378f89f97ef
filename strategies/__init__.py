"""Fine-tuning strategies as pluggable classes over any timm backbone's ordered blocks."""

from strategies import bitfit as _bitfit  # noqa: F401  (registers the built-ins)
from strategies import freezing as _freezing  # noqa: F401
from strategies import l2sp as _l2sp  # noqa: F401
from strategies import lora as _lora  # noqa: F401
from strategies import schedules as _schedules  # noqa: F401
from strategies.apply import param_groups, set_requires_grad, set_train_mode, sync_optimizer
from strategies.base import (
    HEAD,
    LR_RANGE,
    BNPolicy,
    Strategy,
    StrategyConfig,
    StrategyContext,
)
from strategies.groups import Block, LayerGroups, count_trainable, layer_groups
from strategies.registry import (
    ENTRY_POINT_GROUP,
    get_strategy,
    list_strategies,
    register_strategy,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "HEAD",
    "LR_RANGE",
    "BNPolicy",
    "Block",
    "LayerGroups",
    "Strategy",
    "StrategyConfig",
    "StrategyContext",
    "count_trainable",
    "get_strategy",
    "layer_groups",
    "list_strategies",
    "param_groups",
    "register_strategy",
    "set_requires_grad",
    "set_train_mode",
    "sync_optimizer",
]
