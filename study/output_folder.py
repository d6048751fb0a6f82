"""The study's output folder (--out): a new study's, or the recorded one a --resume continues."""

from __future__ import annotations

import dataclasses

from study import environment, results_files, schema
from study.config import PLANNED, ConfigError, StudyConfig


def resumed_config(config: StudyConfig) -> StudyConfig:
    """For --resume: the recorded study's planned settings wherever this command left them to the plan (the
    command checked there is a study to resume)."""
    recorded = StudyConfig.from_dict(results_files.read_json(config.out_dir / schema.CONFIG))
    return dataclasses.replace(config, **{key: getattr(recorded, key) for key in PLANNED if getattr(config, key) is None})


def prepare_out_dir(config: StudyConfig, echo) -> set:
    """Create or check the output folder; returns the keys of trials already finished (for --resume)."""
    out = config.out_dir
    if config.resume:
        if not (out / schema.CONFIG).exists():
            raise ConfigError(f"--resume: {out} holds no study to resume (no {schema.CONFIG}); drop --resume")
        recorded = StudyConfig.from_dict(results_files.read_json(out / schema.CONFIG)).measured_settings()
        given = config.measured_settings()
        differing = sorted(
            key for key, value in given.items()
            if recorded.get(key) != value and not (key in PLANNED and value is None)  # left to the recorded plan
        )
        if differing:
            shown = ", ".join(f"{key} (recorded {recorded.get(key)!r}, now {getattr(config, key)!r})" for key in differing)
            raise ConfigError(f"--resume: the settings differ from the study in {out}: {shown}")
        return results_files.keep_finished_trials(out)
    if results_files.has_study(out):
        archive = results_files.archive_previous(out)
        echo(f"An earlier study in {out} was moved to {archive}.")
    results_files.write_json(out / schema.CONFIG, config.to_dict())
    results_files.write_json(out / schema.ENVIRONMENT, environment.collect())
    return set()
