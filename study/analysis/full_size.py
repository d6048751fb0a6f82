"""The user's epoch in the analysis: the full setting's steps, each strategy's projected full-size epochs per
block (study/projection.py) and their paired comparison."""

from __future__ import annotations

import dataclasses

import pandas as pd

from study import projection, schema, stats
from study.config import StudyConfig
from study.schema import COMPUTE_BOUND


@dataclasses.dataclass(frozen=True)
class FullSetting:
    """The user's epoch, for the projection: its steps per swept value, and whether the study's were shorter."""

    steps: dict  # sweep value -> steps of the full-size epoch
    shortened: bool

    @classmethod
    def of(cls, config: StudyConfig) -> "FullSetting":
        from inputs.corpus import DataSettings

        train_size = DataSettings().train_size
        return cls(
            {value: projection.full_steps(train_size, config.at_sweep_value(value).scale, config.batch_size)
             for value in config.sweep_values()},
            config.epochs_shortened,
        )


def probe_table(boundary) -> pd.DataFrame:
    """boundary.csv's probes with the sweep column normalized (no rows, but the columns, when there are none)."""
    if boundary is not None and len(boundary):
        return schema.normalize_sweep_column(boundary)
    return pd.DataFrame(columns=schema.BOUNDARY_PROBE_COLUMNS)


def projected(rows, trials_at, probes, strategy, full_steps, shortened):
    """(FullBoundary, per-block projected epochs) of one strategy; without a full setting, of its own epochs."""
    mine = trials_at[trials_at["strategy"] == strategy]
    flags = mine["new_iterator_each_epoch"] if "new_iterator_each_epoch" in mine.columns else pd.Series(dtype=object)
    new_each = bool(flags.map(lambda flag: str(flag).strip().lower() == "true").any())
    # Epochs as long as the user's (or no full setting given): the projection is of the measured epochs themselves.
    steps = full_steps if shortened and full_steps is not None else int(rows["steps"].median())
    own_probes = probes[probes["strategy"] == strategy]
    boundary = dataclasses.replace(projection.full_boundary(rows, own_probes, new_each, shortened),
                                   teardown=projection.full_teardown(mine, own_probes, new_each, shortened))
    return boundary, projection.projected_epochs(rows, own_probes, boundary, steps)


def compare_projected(projected_by_strategy: dict, strategy, other, blocks, statistics):
    """`strategy`'s projected epochs against `other`'s, paired over `blocks`; None for the limit, itself, or
    a strategy without projected epochs."""
    if strategy in (other, COMPUTE_BOUND) or other not in projected_by_strategy or strategy not in projected_by_strategy:
        return None
    mine, theirs = projected_by_strategy[strategy][1], projected_by_strategy[other][1]
    if mine.empty or theirs.empty:
        return None
    return stats.compare(strategy, other, projection.per_block(mine, blocks), projection.per_block(theirs, blocks),
                         **statistics)
