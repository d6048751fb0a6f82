"""A study's saved files, read back: the results and steps of finished trials only, every trial, the plan and
the boundary probes. Nothing is derived here."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from study import results_files, schema
from study.config import StudyConfig


@dataclasses.dataclass(frozen=True)
class Study:
    """A study's files: results and steps of finished trials only; trials, failed ones included."""

    config: StudyConfig
    environment: dict
    results: pd.DataFrame
    steps: pd.DataFrame
    trials: pd.DataFrame
    plan_record: dict = dataclasses.field(default_factory=dict)  # plan.json: the budget's plan and how it ended
    boundary: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)  # boundary.csv: probes at full age

    @property
    def ok_trials(self) -> pd.DataFrame:
        return self.trials[self.trials["status"] == schema.OK]


def load(out: Path) -> Study:
    """The study in `out` (ResultsError when it holds none): results, steps and probes of finished trials only."""
    out = Path(out)
    if not (out / schema.CONFIG).exists():
        raise results_files.ResultsError(f"{out} holds no study (no {schema.CONFIG}); run one first or point --out at one")
    config = StudyConfig.from_dict(results_files.read_json(out / schema.CONFIG))
    environment = results_files.read_json(out / schema.ENVIRONMENT) if (out / schema.ENVIRONMENT).exists() else {}
    trials = results_files.read_study_table(out, schema.TRIALS)
    finished = schema.finished_keys(trials)
    results = schema.of_finished_trials(results_files.read_study_table(out, schema.RESULTS), finished)
    steps = schema.of_finished_trials(results_files.read_study_table(out, schema.STEPS), finished)
    plan_record = results_files.read_json(out / schema.PLAN) if (out / schema.PLAN).exists() else {}
    boundary = (
        schema.of_finished_trials(results_files.read_study_table(out, schema.BOUNDARY), finished)
        if (out / schema.BOUNDARY).exists() else pd.DataFrame()
    )
    return Study(config, environment, results, steps, trials, plan_record, boundary)
