"""The trial plan: blocks, each running every selected strategy once plus the compute-bound limit.

Each block is a fresh seeded random order, so slow drift of the machine spreads evenly over the strategies and
strategies are compared within blocks (see stats.paired_ratio). With a sweep, every block holds every
(strategy, swept value) pair, so the values are interleaved too.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from study import schema
from study.config import StudyConfig


@dataclasses.dataclass(frozen=True)
class Trial:
    repeat: int  # the block, 1-based
    strategy: str
    sweep_value: int | None = None

    @property
    def key(self) -> tuple:
        return schema.trial_key(self.repeat, self.strategy, self.sweep_value)

    def label(self) -> str:
        value = "" if self.sweep_value is None else f"@{self.sweep_value}"
        return f"{self.strategy}{value}"


def plan_blocks(strategies, limit: str, repeats: int, seed: int, sweep_values=(None,)) -> list[Trial]:
    """All trials in run order: `repeats` blocks, each a new seeded permutation of every (strategy or `limit`,
    swept value) pair."""
    rng = np.random.default_rng(seed)
    members = [(strategy, value) for value in sweep_values for strategy in (*strategies, limit)]
    plan = []
    for repeat in range(1, repeats + 1):
        for index in rng.permutation(len(members)):
            strategy, value = members[index]
            plan.append(Trial(repeat, strategy, value))
    return plan


def plan_study(config: StudyConfig) -> list[Trial]:
    """The study's trials in run order."""
    return plan_blocks(config.strategies, schema.COMPUTE_BOUND, config.repeats, config.seed, config.sweep_values())
