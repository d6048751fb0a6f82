"""Runs the plan: one fresh child process per trial (study.trial), rows saved as each trial ends, progress
printed, the report built at the end.

Results survive anything: rows are appended and fsynced when a trial finishes, the trial's line in trials.csv
is written last and marks it finished, and a resumed study skips exactly the trials marked ok. A failed,
killed or hung trial is recorded with its error and the study goes on; Ctrl-C stops the running child (and
any tf.data service servers) within seconds and says how to resume.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from study import budget, environment, results_files, schema, stats, supervise
from study.config import PLANNED, ConfigError, StudyConfig
from study.plan import Trial, plan_study
from study.trial import PROTOCOL_PREFIX


@dataclasses.dataclass
class TrialOutcome:
    status: str  # schema.OK, "failed", "timeout"
    error: str
    epochs: list
    done: dict
    wall_seconds: float
    cpu_user_seconds: float
    cpu_system_seconds: float
    peak_rss_mb: float


class Interrupted(Exception):
    """Ctrl-C or SIGTERM reached the study."""


class ServiceStartError(Exception):
    """The local tf.data service servers for a trial did not start."""


# --- the output folder ---------------------------------------------------------------------------------


def resumed_config(config: StudyConfig) -> StudyConfig:
    """For --resume: the recorded study's planned settings wherever this command left them to the plan."""
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


# --- one trial in its own process ----------------------------------------------------------------------


def _child_command(config: StudyConfig, trial: Trial, service_address: str | None) -> list[str]:
    spec = {"config": config.to_dict(), "strategy": trial.strategy, "service_address": service_address}
    return [sys.executable, "-m", "study.trial", json.dumps(spec)]


def _read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def run_trial_process(
    config: StudyConfig, trial: Trial, log_path: Path, on_epoch, service_address: str | None = None
) -> TrialOutcome:
    """Runs one trial in a fresh process; never raises for the trial's own failures, only for Interrupted.

    `service_address` is a tf.data service dispatcher started for this trial (None: none, or the user's)."""
    env = supervise.child_environment()
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    started = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        # A session of its own: Ctrl-C reaches the runner, which stops the child's whole process group.
        process = supervise.start(
            _child_command(config, trial, service_address), subprocess.PIPE, log, environment=env, text=True
        )
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
        epochs, done, error, status, ended = [], {}, "", schema.OK, None
        deadline = None if config.trial_timeout is None else started + config.trial_timeout
        try:
            while True:
                try:
                    line = lines.get(timeout=0.2)
                except queue.Empty:
                    if deadline is not None and time.perf_counter() > deadline:
                        status, error = "timeout", f"timed out after {config.trial_timeout:g} s (--trial-timeout)"
                        (ended,) = supervise.stop([process])
                        break
                    continue
                if line is None:
                    break
                if not line.startswith(PROTOCOL_PREFIX):
                    continue
                event = json.loads(line[len(PROTOCOL_PREFIX):])
                if event["event"] == "epoch":
                    epochs.append(event)
                    on_epoch(event)
                elif event["event"] == "done":
                    done = event
                elif event["event"] == "error":
                    status, error = "failed", event["error"]
        except BaseException:
            supervise.stop([process])
            raise
        usage = (ended or supervise.reap(process, None)).usage
    wall_seconds = time.perf_counter() - started
    if status == schema.OK and process.returncode != 0:
        status = "failed"
        if process.returncode < 0:
            name = signal.Signals(-process.returncode).name
            hint = " (out of memory?)" if name == "SIGKILL" else ""
            error = f"killed by {name}{hint}"
        else:
            error = supervise.last_error_line(log_path) or f"exited with status {process.returncode}"
    if status == schema.OK and not done:
        status, error = "failed", "the trial ended without reporting its results"
    return TrialOutcome(
        status=status, error=error, epochs=epochs, done=done, wall_seconds=wall_seconds,
        cpu_user_seconds=usage.ru_utime, cpu_system_seconds=usage.ru_stime, peak_rss_mb=usage.ru_maxrss / 1024,
    )


@contextlib.contextmanager
def _service_for(config: StudyConfig, trial: Trial):
    """Yields the address of fresh local tf.data service servers when the trial's strategy needs a dispatcher
    and the user named none (fresh, like the trial's process, so no trial inherits another's warm workers),
    else None. They stop when the trial ends, fails or is interrupted. The address reaches the trial's
    FeedOptions only; the study's config keeps what the user said."""
    from inputs import registry

    if not registry.get(trial.strategy).needs_service or config.service_address:
        yield None
        return
    from inputs import service

    with contextlib.ExitStack() as servers:
        try:
            address = servers.enter_context(service.local_cluster(config.service_workers))
        except service.ServiceError as error:
            raise ServiceStartError(f"tf.data service did not start: {error}") from None
        yield address


# --- saving ----------------------------------------------------------------------------------------------


def _save_trial(out: Path, config: StudyConfig, trial: Trial, position: int, outcome: TrialOutcome) -> None:
    sweep = config.sweep[0] if config.sweep else ""
    base = {"strategy": trial.strategy, "repeat": trial.repeat, "sweep": sweep, "sweep_value": trial.sweep_value}
    if outcome.status == schema.OK:
        rows, steps = [], []
        for event in outcome.epochs:
            row = dict(base, **{key: event[key] for key in schema.EPOCH_FIELDS})
            row["warmup"] = schema.is_warmup(event["epoch"])
            row["examples_per_second"] = event["examples"] / event["epoch_seconds"]
            if event is outcome.epochs[-1]:
                row["val_loss"], row["val_accuracy"] = outcome.done["val_loss"], outcome.done["val_accuracy"]
            rows.append(row)
            steps.extend(
                {"strategy": trial.strategy, "repeat": trial.repeat, "sweep_value": trial.sweep_value,
                 "epoch": event["epoch"], "step": index + 1, "step_seconds": f"{seconds:.6f}"}
                for index, seconds in enumerate(event["step_seconds"])
            )
        results_files.append_rows(out / schema.RESULTS, schema.RESULT_COLUMNS, rows)
        results_files.append_rows(out / schema.STEPS, schema.STEP_COLUMNS, steps)
    started_at = outcome.epochs[0]["started_at"] if outcome.epochs else time.time() - outcome.wall_seconds
    summary = dict(
        base, position=position, status=outcome.status, error=outcome.error, started_at=started_at,
        wall_seconds=round(outcome.wall_seconds, 3), cpu_user_seconds=round(outcome.cpu_user_seconds, 3),
        cpu_system_seconds=round(outcome.cpu_system_seconds, 3), peak_rss_mb=round(outcome.peak_rss_mb, 1),
        **{key: outcome.done.get(key) for key in schema.TRIAL_FIELDS},
    )
    results_files.append_rows(out / schema.TRIALS, schema.TRIAL_COLUMNS, [summary])  # last: marks the trial finished


# --- progress ------------------------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class Progress:
    """One line per finished epoch and per trial, with an estimate of the time left."""

    def __init__(self, config: StudyConfig, total_trials: int, echo):
        self.config, self.total, self.echo = config, total_trials, echo
        self.finished_trials, self.trial_seconds, self.epoch_seconds = 0, [], []

    def estimate_left(self, epochs_done_in_trial: int) -> str:
        remaining_trials = self.total - self.finished_trials
        if self.trial_seconds:
            per_trial = sum(self.trial_seconds) / len(self.trial_seconds)
            per_epoch = sum(self.epoch_seconds) / len(self.epoch_seconds)
            left = per_trial * (remaining_trials - 1) + per_epoch * (self.config.epochs - epochs_done_in_trial)
        elif self.epoch_seconds:
            per_epoch = sum(self.epoch_seconds) / len(self.epoch_seconds)
            left = per_epoch * (self.config.epochs * remaining_trials - epochs_done_in_trial)
        else:
            return "time left: after the first epoch"
        return f"~{_duration(left)} left"

    def epoch(self, position: int, trial: Trial, event: dict) -> None:
        self.epoch_seconds.append(event["epoch_seconds"])
        rate = event["examples"] / event["epoch_seconds"]
        note = " (warm-up)" if schema.is_warmup(event["epoch"]) else ""
        self.echo(
            f"[{position:>3}/{self.total}] block {trial.repeat}  {trial.label():<18} epoch {event['epoch']}/{self.config.epochs}"
            f"  {event['epoch_seconds']:7.1f} s  {rate:8,.0f} ex/s  cpu {event['cpu_seconds']:6.1f} s{note}"
            f"  {self.estimate_left(event['epoch'])}"
        )

    def trial_end(self, position: int, trial: Trial, outcome: TrialOutcome) -> None:
        self.finished_trials += 1
        self.trial_seconds.append(outcome.wall_seconds)
        if outcome.status != schema.OK:
            self.echo(f"[{position:>3}/{self.total}] block {trial.repeat}  {trial.label()} FAILED: {outcome.error}")


# --- the study -------------------------------------------------------------------------------------------


def _plan_line(config: StudyConfig, plan: list[Trial], todo: int, examples: int) -> str:
    strategies = ", ".join(config.strategies)
    sweep = f", sweeping {config.sweep[0]} over {','.join(map(str, config.sweep[1]))}" if config.sweep else ""
    steps = -(-examples // config.batch_size)
    return (
        f"Planned {len(plan)} trials ({todo} to run): {strategies} + {schema.COMPUTE_BOUND} in {config.repeats} "
        f"blocks{sweep}; {config.epochs} epochs of {steps:,} steps ({examples:,} examples, batch {config.batch_size}) "
        f"each, model {config.model}. Each trial runs in a fresh process."
    )


def _run_trial(config: StudyConfig, trial: Trial, position: int, progress: Progress) -> TrialOutcome:
    log_path = config.out_dir / "logs" / f"{position:03d}-{trial.label().replace('@', '-')}-block{trial.repeat}.log"
    trial_config = config.at_sweep_value(trial.sweep_value)
    on_epoch = lambda event: progress.epoch(position, trial, event)  # noqa: E731
    try:
        with _service_for(trial_config, trial) as service_address:
            return run_trial_process(trial_config, trial, log_path, on_epoch, service_address)
    except ServiceStartError as error:  # servers that would not start fail this trial, not the study
        return TrialOutcome("failed", str(error), [], {}, 0.0, 0.0, 0.0, 0.0)


CALIBRATION_STEPS = 40  # per epoch of the calibration trial: enough for a steady step time, a few seconds
REPORT_SECONDS = 60.0  # set aside for drawing the report at the end of a budgeted study


def calibrate(config: StudyConfig) -> budget.Calibration:
    """One small compute-bound trial in a fresh process, like every trial: what a trial costs outside its
    epochs (start-up, model, evaluation) and what one training step costs on this machine."""
    small = dataclasses.replace(
        config, epochs=2, repeats=1, limit=CALIBRATION_STEPS * config.batch_size, scale=1, sweep=None, trial_timeout=None
    )
    log_path = config.out_dir / "logs" / "calibration.log"
    outcome = run_trial_process(small, Trial(0, schema.COMPUTE_BOUND), log_path, on_epoch=lambda event: None)
    if outcome.status != schema.OK:
        raise StudyError(f"the calibration trial failed ({outcome.error}); see {log_path}")
    epochs_seconds = sum(event["epoch_seconds"] for event in outcome.epochs)
    return budget.Calibration(
        trial_overhead_seconds=max(outcome.wall_seconds - epochs_seconds, 0.0),
        step_seconds=float(np.median(outcome.epochs[-1]["step_seconds"])),
    )


def plan_to_budget(config: StudyConfig, started: float, echo) -> StudyConfig:
    """The config with the settings the user left out planned to fit the budget; writes plan.json."""
    from inputs.corpus import DataSettings

    echo(f"Calibrating on this machine (one short {schema.COMPUTE_BOUND} trial) to plan a {config.budget_minutes:g}-minute study ...")
    calibration = calibrate(config)
    trials_per_block = (len(config.strategies) + 1) * len(config.sweep_values())
    train_size = DataSettings().train_size * config.scale
    chosen = budget.plan(
        config.budget_minutes * 60, time.monotonic() - started, calibration, trials_per_block, train_size,
        config.batch_size, REPORT_SECONDS, epochs=config.epochs, repeats=config.repeats, limit=config.limit,
    )
    echo(chosen.describe(trials_per_block))
    results_files.write_json(config.out_dir / schema.PLAN, {
        "calibration": dataclasses.asdict(calibration), "plan": dataclasses.asdict(chosen),
    })
    return dataclasses.replace(
        config, epochs=chosen.epochs, repeats=chosen.max_blocks, limit=chosen.limit,
        planned_blocks=chosen.max_blocks if chosen.sequential else None,
    )


class StudyError(Exception):
    """The study cannot go on (e.g. its calibration failed); the message is one line."""


def _blocks(plan: list[Trial]) -> list[list[Trial]]:
    blocks: dict[int, list[Trial]] = {}
    for trial in plan:
        blocks.setdefault(trial.repeat, []).append(trial)
    return list(blocks.values())


def verdicts_decided(out: Path, config: StudyConfig) -> bool:
    """Whether every strategy's wall- and CPU-time verdict against the baseline is decided on the rows so far
    (trivially so when the study compares nothing: one strategy alone)."""
    from study import analysis

    study = analysis.load(out)
    if study.results.empty:
        return False
    found = analysis.analyse(study.results, study.trials, analysis.baseline_of(config.strategies), seed=config.seed,
                             steps=study.steps, planned_blocks=config.planned_blocks, margin=config.margin)
    return stats.all_decided(c for f in found.findings for c in (f.vs_baseline, f.cpu_vs_baseline))


def _record_ending(out: Path, started: float, blocks_run: int, stopped: str) -> None:
    path = out / schema.PLAN
    record = results_files.read_json(path) if path.exists() else {}
    record["ending"] = {"blocks_run": blocks_run, "stopped": stopped, "seconds_before_report": time.monotonic() - started}
    results_files.write_json(path, record)


def run_study(config: StudyConfig, echo=print, started: float | None = None) -> int:
    """Runs (or resumes) the study; returns the exit status: 0 all ok, 1 some trial failed, 130 interrupted.

    `started` (time.monotonic) is when the command began: the budget counts from there."""
    from study import report

    started = time.monotonic() if started is None else started
    out = config.out_dir
    if config.resume:
        config = resumed_config(config)
    done = prepare_out_dir(config, echo)
    (out / "logs").mkdir(exist_ok=True)
    if config.needs_plan:
        try:
            config = plan_to_budget(config, started, echo)
        except budget.BudgetError as error:
            raise ConfigError(str(error)) from None
        results_files.write_json(out / schema.CONFIG, config.to_dict())
    plan = plan_study(config)
    todo = [trial for trial in plan if trial.key not in done]
    examples = _examples(config)
    echo(_plan_line(config, plan, len(todo), examples))
    if done:
        echo(f"Resuming: {len(done)} finished trials kept, {len(todo)} to run.")
    progress = Progress(config, len(plan), echo)
    progress.finished_trials = len(plan) - len(todo)
    failures, block_seconds, blocks_run = 0, [], 0
    stopped = f"all {len(_blocks(plan))} planned blocks ran"
    try:
        with supervise.sigterm_raises(Interrupted):
            for block in _blocks(plan):
                block_started = time.monotonic()
                for trial in block:
                    if trial.key in done:
                        continue
                    position = plan.index(trial) + 1
                    outcome = _run_trial(config, trial, position, progress)
                    _save_trial(out, config, trial, position, outcome)
                    progress.trial_end(position, trial, outcome)
                    failures += outcome.status != schema.OK
                blocks_run += 1
                if any(trial.key not in done for trial in block):
                    block_seconds.append(time.monotonic() - block_started)
                if config.planned_blocks is None or blocks_run == len(_blocks(plan)):
                    continue
                if blocks_run >= stats.FIRST_LOOK and verdicts_decided(out, config):
                    stopped = f"every verdict decided after {blocks_run} blocks"
                    echo(f"Every verdict is decided after {blocks_run} blocks: stopping early.")
                    break
                elapsed = time.monotonic() - started
                if not budget.another_block_fits(elapsed, block_seconds, config.budget_minutes * 60, REPORT_SECONDS):
                    stopped = f"another block would not have ended within the {config.budget_minutes:g}-minute budget"
                    echo(f"Stopping after {blocks_run} blocks: another would not fit the {config.budget_minutes:g}-minute budget.")
                    break
    except (KeyboardInterrupt, Interrupted):
        echo(
            f"Interrupted. {progress.finished_trials} of {len(plan)} trials are saved in {out}. "
            f"Continue with the same command plus --resume, or draw the report so far with --report-only."
        )
        return 130
    _record_ending(out, started, blocks_run, stopped)
    paths = report.build(out)
    echo(f"Report: {', '.join(str(path) for path in paths)}")
    elapsed_minutes = (time.monotonic() - started) / 60
    if elapsed_minutes > config.budget_minutes:
        echo(f"The study took {elapsed_minutes:.1f} min: over its {config.budget_minutes:g}-minute budget by "
             f"{elapsed_minutes - config.budget_minutes:.1f} min (see plan.json and summary.md for why).")
    else:
        echo(f"The study took {elapsed_minutes:.1f} min of its {config.budget_minutes:g}-minute budget.")
    if failures:
        echo(f"{failures} trial(s) failed; see trials.csv and {out / 'logs'}.")
        return 1
    return 0


def _examples(config: StudyConfig) -> int:
    from inputs.corpus import DataSettings

    train_size = DataSettings().train_size
    return min(config.limit or train_size, train_size) * config.scale
