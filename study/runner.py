"""Runs the study: the output folder made ready (or resumed), the settings planned to the budget, the blocks run
(study/blocks.py: one fresh child process per trial, rows saved as each trial ends, the stopping rule), the
report built at the end. Orchestration only; each job is a module of its own.

Results survive anything: rows are appended and fsynced when a trial finishes, the trial's line in trials.csv
is written last and marks it finished, and a resumed study skips exactly the trials marked ok. A failed,
killed or hung trial is recorded with its error and the study goes on; Ctrl-C stops the running child (and
any tf.data service servers) within seconds and says how to resume.
"""

from __future__ import annotations

import time

from study import blocks, budget, budget_planning, exit_status, lock, output_folder, report, results_files, schema, supervise
from study.config import ConfigError, StudyConfig
from study.plan import plan_study
from study.progress import Progress, echo_quietly


def run_study(config: StudyConfig, echo=print, started: float | None = None) -> int:
    """Runs (or resumes) the study; returns the exit status (study/exit_status.py): OK, FAILED when some trial
    failed, INTERRUPTED (Ctrl-C, SIGTERM or SIGHUP: every stop signal raises KeyboardInterrupt). The output
    folder is locked for the study's lifetime: a second study there is refused (ConfigError, exit 2).

    `started` (time.monotonic) is when the command began: the budget counts from there."""
    supervise.stop_signals_interrupt()
    with lock.hold(config.out_dir):
        return _run_locked(config, echo, started)


def _run_locked(config: StudyConfig, echo, started: float | None) -> int:
    started = time.monotonic() if started is None else started
    config, done = _ready_to_run(config, echo, started)
    plan = plan_study(config)
    todo = [trial for trial in plan if trial.key not in done]
    echo(budget_planning.plan_line(config, plan, len(todo)))
    if done:
        echo(f"Resuming: {len(done)} finished trials kept, {len(todo)} to run.")
    progress = Progress(config, len(plan), echo)
    progress.finished_trials = len(plan) - len(todo)
    try:
        ending = blocks.run_blocks(config, plan, done, progress, echo, started)
    except (KeyboardInterrupt, blocks.Interrupted):
        echo_quietly(
            echo,
            f"Interrupted. {progress.finished_trials} of {len(plan)} trials are saved in {config.out_dir}. "
            f"Continue with the same command plus --resume, or draw the report so far with --report-only.",
        )
        return exit_status.INTERRUPTED
    return _report(config, ending, progress, started, echo)


def _ready_to_run(config: StudyConfig, echo, started: float) -> tuple[StudyConfig, set]:
    """The config to run (the recorded plan's for --resume; planned to the budget where the user left settings
    out) and the keys of the trials already finished; the output folder ready for it."""
    out = config.out_dir
    if config.resume:
        config = output_folder.resumed_config(config)
    done = output_folder.prepare_out_dir(config, echo)
    (out / schema.LOGS).mkdir(exist_ok=True)
    if config.needs_plan:
        try:
            config = budget_planning.plan_to_budget(config, started, echo)
        except budget.BudgetError as error:
            raise ConfigError(str(error)) from None
        results_files.write_json(out / schema.CONFIG, config.to_dict())
    return config, done


def _report(config: StudyConfig, ending: blocks.Ending, progress: Progress, started: float, echo) -> int:
    """How the study ended (plan.json), the report, the time it took; the exit status."""
    out = config.out_dir
    try:
        blocks.record_ending(out, started, ending)
        paths = report.build(out)
        blocks.record_whole_study(out, started)
        supervise.raise_if_stop_received()
    except (KeyboardInterrupt, blocks.Interrupted):
        echo_quietly(
            echo,
            f"Interrupted while drawing the report. The measurements are saved ({progress.finished_trials} trials, "
            f"in {out}); draw the report with --report-only --out {out}.",
        )
        return exit_status.INTERRUPTED
    echo(f"Report: {', '.join(str(path) for path in paths)}")
    elapsed_minutes = (time.monotonic() - started) / 60
    if elapsed_minutes > config.budget_minutes:
        echo(f"The study took {elapsed_minutes:.1f} min: over its {config.budget_minutes:g}-minute budget by "
             f"{elapsed_minutes - config.budget_minutes:.1f} min (see plan.json and summary.md for why).")
    else:
        echo(f"The study took {elapsed_minutes:.1f} min of its {config.budget_minutes:g}-minute budget.")
    if ending.failures:
        echo(f"{ending.failures} trial(s) failed; see trials.csv and {out / schema.LOGS}.")
        return exit_status.FAILED
    return exit_status.OK
