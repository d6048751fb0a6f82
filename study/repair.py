"""A trial that found a data file damaged: the strategy's files repaired once, and the trial run again.

Damage found before the first trial is repaired by the strategy's `prepare` hook, which run_study.py calls.
Damage that appears while the study runs (a failing disk, a cleaner, another process) is found by the trial
itself - today the TFRecord shards' check, which names the file (`damaged_file` in the trial's error event, from
inputs.errors.DamagedFileError). Then the same `prepare` runs again: it checks the files and rebuilds the
damaged ones, in a process of its own (the study's process never loads TensorFlow, and the rerun trial's time,
CPU and memory are its own, not the rebuild's), and the trial runs again in a fresh process. Its row in
trials.csv says it ran again and why. One rebuild per trial: a rebuild that fails, or damage found again,
fails the trial with one line naming the file.
"""

from __future__ import annotations

import dataclasses

from study.config import StudyConfig


def run_rebuilding_once(config: StudyConfig, strategy: str, run_trial, echo):
    """`run_trial()` (-> study.trial_process.TrialOutcome); once more after a rebuild if it found a data file damaged."""
    first = run_trial()
    if not first.damaged_file:
        return first
    echo(f"{first.damaged_file} was found damaged: rebuilding it and running the trial again.")
    problem = rebuild(config, strategy)
    if problem:
        return dataclasses.replace(first, error=f"{first.damaged_file} is damaged, and rebuilding it failed: {problem}")
    again = run_trial()
    if again.damaged_file:
        return dataclasses.replace(again, error=f"damaged again after it was rebuilt once: {again.error}")
    ran_again = f"ran again after rebuilding damaged {first.damaged_file}"
    return dataclasses.replace(again, error=f"{again.error} ({ran_again})" if again.error else ran_again)


def rebuild(config: StudyConfig, strategy: str) -> str | None:
    """The strategy's `prepare` once more: it checks its files and rebuilds the damaged ones, as before the first
    trial (in a process of its own that ends with the study). None when they are intact now, else one line."""
    from inputs import registry
    from inputs.errors import InputError

    try:
        registry.get(strategy).prepare(config.data_settings(), config.cache_dir)
    except InputError as error:
        return str(error)
    return None
