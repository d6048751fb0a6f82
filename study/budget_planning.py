"""The settings the user left out (--epochs, --repeats, --limit), planned to fit the budget from a calibration
trial on this machine (plan.json), and the plan said in one line. The arithmetic is study/budget.py's."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from study import budget, results_files, schema, supervise, trial_process
from study.config import StudyConfig
from study.plan import Trial
from study.shared_process import SharedProcess

CALIBRATION_STEPS = 40  # per epoch of the calibration trial: enough for a steady step time, a few seconds


class StudyError(Exception):
    """The study cannot go on (e.g. its calibration failed); the message is one line."""


def calibration_config(config: StudyConfig) -> StudyConfig:
    """The calibration trial's settings: the study's, with two short epochs of CALIBRATION_STEPS steps."""
    return dataclasses.replace(
        config, epochs=2, repeats=1, limit=CALIBRATION_STEPS * config.batch_size, scale=1, sweep=None, trial_timeout=None
    )


def calibrate(config: StudyConfig) -> budget.Calibration:
    """One small compute-bound trial in a fresh process, like every trial: what a trial costs outside its
    epochs (start-up, model, evaluation) and what one training step costs on this machine. With one process per
    block (study/shared_process.py), two such trials in one block's process: the second's overhead is a trial's, the
    first's more than that is the block's (its start-up and imports, and with `block` the warm-up fit)."""
    small = calibration_config(config)
    log_path = config.out_dir / schema.LOGS / "calibration.log"
    trial = Trial(0, schema.COMPUTE_BOUND)
    if config.process_per_block:
        shared = SharedProcess(log_path, config.process_per)
        try:
            first, second = (_calibration_outcome(shared.run_trial(small, trial, lambda event: None, None, None, None, None,
                                                                   probe=False), log_path) for _ in range(2))
        finally:
            shared.end()
        return budget.Calibration(trial_overhead_seconds=_overhead(second), step_seconds=_step(second),
                                  block_overhead_seconds=max(_overhead(first) - _overhead(second), 0.0),
                                  warmup_extra_seconds=_warmup_extra(second))
    outcome = _calibration_outcome(trial_process.run_trial_process(small, trial, log_path, on_epoch=lambda event: None), log_path)
    return budget.Calibration(trial_overhead_seconds=_overhead(outcome), step_seconds=_step(outcome),
                              warmup_extra_seconds=_warmup_extra(outcome))


def _calibration_outcome(outcome, log_path):
    # A stop that came after the trial reported its results returns them (`interrupted`): stop all the same.
    supervise.raise_if_stop_received()
    if outcome.status != schema.OK:
        raise StudyError(f"the calibration trial failed ({outcome.error}); see {log_path}")
    return outcome


def _overhead(outcome) -> float:
    """A calibration trial's wall time outside its epochs. The limit's diagnostic (inputs/compute_bound.py) runs
    once per block and is planned as a trial of its own. Nor does fit's teardown count: destroying the limit's one
    iterator when fit ends sometimes waits, idle, for tf.data's autotune thread - 0.00 and 6.43 s in two
    calibrations minutes apart, which made the planned overhead per trial 11 or 18 s
    (reports/benchmarks/calibration_spread.txt) - while over all of reports/all-30min's trials it averaged 0.45 s. One calibration trial's luck would size every trial of the plan;
    the plan's safety share and the check before every block absorb the rare wait. Not the only such wait: with the
    teardown left out, two later calibrations still measured 11.7 and 18.6 s (the same file)."""
    epochs_seconds = sum(event["epoch_seconds"] for event in outcome.epochs)
    diagnostic_seconds = float(outcome.done.get("diagnostic_seconds") or 0.0)
    teardown_seconds = float(outcome.done.get("fit_teardown_seconds") or 0.0)
    return max(outcome.wall_seconds - epochs_seconds - diagnostic_seconds - teardown_seconds, 0.0)


def _step(outcome) -> float:
    return float(np.median(outcome.epochs[-1]["step_seconds"]))


def _warmup_extra(outcome) -> float:
    """The warm-up epoch's time beyond the steady one's (the same steps): mostly tracing the training step, which
    every trial pays once - 2.5-6.6 s per trial in the default studies (reports/all-30min, all-30min-fork)."""
    first, last = outcome.epochs[0]["epoch_seconds"], outcome.epochs[-1]["epoch_seconds"]
    return max(first - last, 0.0)


def plan_to_budget(config: StudyConfig, started: float, echo) -> StudyConfig:
    """The config with the settings the user left out planned to fit the budget; writes plan.json."""
    from inputs.corpus import DataSettings

    how = {"block": f"two short {schema.COMPUTE_BOUND} trials in one process",
           "fork": f"two short {schema.COMPUTE_BOUND} trials forked from one process"}.get(
        config.process_per, f"one short {schema.COMPUTE_BOUND} trial")
    echo(f"Calibrating on this machine ({how}) to plan a {config.budget_minutes:g}-minute study ...")
    calibration = calibrate(config)
    trials_per_block = budget.trials_per_block(len(config.strategies), len(config.sweep_values()))
    train_size = DataSettings().train_size * config.scale
    chosen = budget.plan(
        config.budget_minutes * 60, time.monotonic() - started, calibration, trials_per_block, train_size,
        config.batch_size, budget.REPORT_SECONDS, epochs=config.epochs, repeats=config.repeats, limit=config.limit,
    )
    supervise.raise_if_stop_received()  # a stop whose KeyboardInterrupt a finalizer swallowed while planning
    echo(chosen.describe(trials_per_block))
    results_files.write_json(config.out_dir / schema.PLAN, {
        "calibration": dataclasses.asdict(calibration), "plan": dataclasses.asdict(chosen),
    })
    return dataclasses.replace(
        config, epochs=chosen.epochs, repeats=chosen.max_blocks, limit=chosen.limit,
        planned_blocks=chosen.max_blocks if chosen.sequential else None,
    )


def plan_line(config: StudyConfig, plan: list[Trial], todo: int) -> str:
    """The plan in one line: trials, blocks, epochs and their steps, the model."""
    from inputs.base import steps_per_epoch

    strategies = ", ".join(config.strategies)
    sweep = f", sweeping {config.sweep[0]} over {','.join(map(str, config.sweep[1]))}" if config.sweep else ""
    examples = config.examples_per_epoch()
    steps = steps_per_epoch(examples, config.batch_size)
    return (
        f"Planned {len(plan)} trials ({todo} to run): {strategies} + {schema.COMPUTE_BOUND} in {config.repeats} "
        f"blocks{sweep}; {config.epochs} epochs of {steps:,} steps ({examples:,} examples, batch {config.batch_size}) "
        f"each, model {config.model}. "
        + {"block": "Each block runs in a fresh process of its own (a warm-up fit, then each trial from a fresh model).",
           "fork": "Each trial runs in a process of its own, forked from its block's process, which has imported "
                   "TensorFlow and Keras and built nothing."}.get(config.process_per, "Each trial runs in a fresh process.")
        + (" Epochs are shorter than the full one, so each trial also probes the destruction of its used iterator "
           "at the age a full-size fit's has there, holding it idle in the background."
           if config.epochs_shortened else "")
    )
