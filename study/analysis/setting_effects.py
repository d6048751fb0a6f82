"""What a swept setting itself does: each strategy's steps at every swept value against its own steps at the first
value, paired within blocks like every verdict (the values run interleaved in the same blocks). For
`--sweep intra-op-threads=0,1`: one intra-op thread against TensorFlow's default, per strategy and for the limit."""

from __future__ import annotations

import dataclasses

import pandas as pd

from study import schema, stats
from study.analysis.epochs import cpu_per_step, per_block


@dataclasses.dataclass(frozen=True)
class SettingEffect:
    strategy: str
    value: int  # the swept value ...
    reference: int  # ... against the first one
    steps: stats.Comparison  # the steady step time at `value` / at `reference`, boundaries left out
    cpu: stats.Comparison  # the process' CPU per training step, likewise


def setting_effects(steady: pd.DataFrame, statistics: dict) -> list[SettingEffect]:
    """`steady`: the steady epochs (sweep column normalized, `steady_step_seconds` filled in); `statistics`: the
    study's planned_blocks and margin. Empty without a sweep of two values or more."""
    values = sorted({value for value in steady["sweep_value"] if value is not None}, key=schema.sweep_order)
    if len(values) < 2:
        return []
    steady = steady.assign(cpu_per_step=cpu_per_step(steady))
    reference, effects = values[0], []
    for strategy, rows in steady.groupby("strategy", sort=False):
        before = schema.rows_at(rows, reference)
        for value in values[1:]:
            after = schema.rows_at(rows, value)
            blocks = sorted(set(after["repeat"]) & set(before["repeat"]))
            if not blocks:  # no block finished it at both values: nothing to pair
                continue
            compare = lambda column: stats.compare(  # noqa: E731
                f"{strategy} at {value}", f"{strategy} at {reference}",
                per_block(after, column, blocks), per_block(before, column, blocks), **statistics)
            effects.append(SettingEffect(strategy, value, reference, compare("steady_step_seconds"), compare("cpu_per_step")))
    return effects

