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
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import numpy as np

from study import budget, environment, lock, repair, results_files, schema, stats, supervise
from study.config import PLANNED, ConfigError, StudyConfig
from study.holders import HeldTrials
from study.plan import Trial, plan_study
from study.progress import Progress
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
    interrupted: bool = False  # a stop signal came after the trial reported its results: saved, then stop
    held: bool = False  # it goes on holding an iterator to probe the boundary at full age (study/holders.py)
    damaged_file: str = ""  # the trial failed on this data file, which the study can rebuild (study.repair)


class Interrupted(Exception):
    """Ctrl-C or SIGTERM reached the study."""


class ServiceStartError(Exception):
    """The local tf.data service servers for a trial did not start."""


# --- the output folder ---------------------------------------------------------------------------------


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


# --- one trial in its own process ----------------------------------------------------------------------


def _child_command(config: StudyConfig, trial: Trial, service_address: str | None, probe_boundary: bool) -> list[str]:
    spec = {"config": config.to_dict(), "strategy": trial.strategy, "service_address": service_address,
            "probe_boundary": probe_boundary}
    return [sys.executable, "-m", "study.trial", json.dumps(spec)]


def _read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


# A trial with no --trial-timeout may run this many times the slowest finished trial (or this trial's own
# pace projected from its epochs so far), plus the floor: generous, so that a slow trial is never cut, yet
# a hung one ends instead of blocking the study forever.
DEFAULT_TIMEOUT_FACTOR = 10
DEFAULT_TIMEOUT_FLOOR_SECONDS = 300.0
UNMEASURED_TIMEOUT_SECONDS = 3 * 3600.0
_WATCH_SECONDS = 2.0  # how often a trial's tf.data service is looked at


def trial_time_limit(config: StudyConfig, finished_seconds: list, epochs_done: int, seconds_to_last_epoch: float):
    """(seconds, how) a trial may run: --trial-timeout if given, else a default from the measured pace
    (UNMEASURED_TIMEOUT_SECONDS while nothing is measured yet: the first trial, before its first epoch)."""
    if config.trial_timeout is not None:
        return config.trial_timeout, "--trial-timeout"
    paces = list(finished_seconds)
    if epochs_done:
        paces.append(seconds_to_last_epoch / epochs_done * config.epochs)
    if not paces:  # the first trial, before its first epoch: only a hang can take this long
        return UNMEASURED_TIMEOUT_SECONDS, f"the default before any pace is measured: {UNMEASURED_TIMEOUT_SECONDS / 3600:g} h; set --trial-timeout to change it"
    seconds = DEFAULT_TIMEOUT_FACTOR * max(paces) + DEFAULT_TIMEOUT_FLOOR_SECONDS
    return seconds, f"the default: {DEFAULT_TIMEOUT_FACTOR} x the measured pace + {DEFAULT_TIMEOUT_FLOOR_SECONDS:g} s; set --trial-timeout to change it"


def run_trial_process(
    config: StudyConfig, trial: Trial, log_path: Path, on_epoch, service_address: str | None = None,
    watch=None, finished_seconds: list | None = None, on_progress=None, holders: HeldTrials | None = None,
) -> TrialOutcome:
    """Runs one trial in a fresh process; never raises for the trial's own failures, only for
    KeyboardInterrupt (any stop signal) - and not even then once the trial has reported its results: it
    returns them, marked `interrupted`, so that they are saved before the study stops.

    `service_address` is a tf.data service dispatcher started for this trial (None: none, or the user's).
    `watch()` is called every few seconds and returns one line naming a dead part the trial depends on
    (a tf.data service server), which fails the trial at once. `finished_seconds`: the wall times of the
    trials finished so far, for the default time-out. `on_progress` hears the child's throttled `progress`
    events (where the running epoch is). `holders`: given, the trial probes its epoch boundary at the full
    epoch's age (study/boundary_probe.py) and, once it has reported its results, is handed to them while it
    holds its iterator; this returns at once."""
    env = supervise.child_environment()
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env[supervise.PARENT_PID_VARIABLE] = str(os.getpid())  # the child ends when this process does
    started = time.perf_counter()
    epochs, done, error, status, ended, interrupted, held = [], {}, "", schema.OK, None, False, False
    damaged_file = ""
    with open(log_path, "w", encoding="utf-8") as log:
        # A session of its own: Ctrl-C reaches the runner, which stops the child. Under a supervisor, so that
        # nothing the trial starts, at any depth, outlives the study, however the study ends.
        process = supervise.start_supervised(
            _child_command(config, trial, service_address, holders is not None), subprocess.PIPE, log,
            environment=env, text=True,
        )
        try:
            lines: queue.Queue = queue.Queue()
            threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
            last_epoch_at, next_watch = started, started + _WATCH_SECONDS
            while True:
                try:
                    line = lines.get(timeout=0.2)
                except queue.Empty:
                    now = time.perf_counter()
                    limit, how = trial_time_limit(config, finished_seconds or [], len(epochs), last_epoch_at - started)
                    if limit is not None and now > started + limit:
                        status, error = "timeout", f"timed out after {limit:g} s ({how})"
                        (ended,) = supervise.stop([process])
                        break
                    if watch is not None and now > next_watch:
                        next_watch = now + _WATCH_SECONDS
                        problem = watch()
                        if problem:
                            status, error = "failed", problem
                            (ended,) = supervise.stop([process])
                            break
                    continue
                if line is None:
                    break
                if not line.startswith(PROTOCOL_PREFIX):
                    continue
                event = json.loads(line[len(PROTOCOL_PREFIX):])
                if event["event"] == "progress":
                    if on_progress is not None:
                        on_progress(event)
                elif event["event"] == "epoch":
                    epochs.append(event)
                    last_epoch_at = time.perf_counter()
                    on_epoch(event)
                elif event["event"] == "done":
                    done = event
                    if holders is not None and event.get("holding_seconds"):
                        held = True
                        break
                elif event["event"] == "error":
                    status, error, damaged_file = "failed", event["error"], event.get("damaged_file", "")
            if held:
                holders.adopt(trial, process, lines, done)
            else:
                ended = ended or supervise.reap(process, None)
        except KeyboardInterrupt:
            with contextlib.suppress(KeyboardInterrupt), supervise.signals_deferred():  # we are stopping already
                (ended,) = supervise.stop([process])
            if not (done and status == schema.OK):
                raise
            interrupted = True  # the results are in: keep them, stop the study after saving
        except BaseException:
            supervise.stop([process])
            raise
    # A held trial still runs: its own account of its CPU time and peak memory so far (study.trial.own_usage).
    usage = _reported_usage(done) if held else (ended.usage or _no_usage())
    wall_seconds = time.perf_counter() - started
    if status == schema.OK and not held and process.returncode != 0 and not interrupted:
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
        interrupted=interrupted, held=held, damaged_file=damaged_file,
    )


def _no_usage():
    return types.SimpleNamespace(ru_utime=0.0, ru_stime=0.0, ru_maxrss=0)


def _reported_usage(done: dict):
    return types.SimpleNamespace(
        ru_utime=done["cpu_user_seconds"], ru_stime=done["cpu_system_seconds"], ru_maxrss=done["peak_rss_mb"] * 1024
    )


@contextlib.contextmanager
def _service_for(config: StudyConfig, trial: Trial):
    """Yields (address, watch) for the trial's tf.data service: fresh local servers when the trial's strategy
    needs a dispatcher and the user named none (fresh, like the trial's process, so no trial inherits
    another's warm workers), the user's dispatcher when named, else (None, None). `watch()` names a dead
    server, or a listed worker that is gone. Local servers stop when the trial ends, fails or is interrupted.
    The address reaches the trial's FeedOptions only; the study's config keeps what the user said."""
    from inputs import registry

    if not registry.get(trial.strategy).needs_service:
        yield None, None
        return
    from inputs import service
    from inputs.service.check import dead_part

    if config.service_address:
        yield None, lambda: dead_part(config.service_address)
        return
    from inputs.service.cluster import watched_local_cluster

    with contextlib.ExitStack() as servers:
        try:
            cluster = servers.enter_context(watched_local_cluster(config.service_workers))
        except service.ServiceError as error:
            raise ServiceStartError(f"tf.data service did not start: {error}") from None
        yield cluster.address, cluster.dead_server  # its processes: a look costs no request to the servers


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


def _save_boundary(out: Path, trial: Trial, done: dict, event: dict) -> None:
    """One probe of the boundary at the full epoch's age, as it arrives (study/holders.py)."""
    row = {"strategy": trial.strategy, "repeat": trial.repeat, "sweep_value": trial.sweep_value, **done, **event}
    results_files.append_rows(out / schema.BOUNDARY, schema.BOUNDARY_PROBE_COLUMNS, [row])


# --- the study -------------------------------------------------------------------------------------------


def _plan_line(config: StudyConfig, plan: list[Trial], todo: int, examples: int) -> str:
    strategies = ", ".join(config.strategies)
    sweep = f", sweeping {config.sweep[0]} over {','.join(map(str, config.sweep[1]))}" if config.sweep else ""
    steps = -(-examples // config.batch_size)
    return (
        f"Planned {len(plan)} trials ({todo} to run): {strategies} + {schema.COMPUTE_BOUND} in {config.repeats} "
        f"blocks{sweep}; {config.epochs} epochs of {steps:,} steps ({examples:,} examples, batch {config.batch_size}) "
        f"each, model {config.model}. Each trial runs in a fresh process."
        + (" Epochs are shorter than the full one, so each trial also probes the destruction of its used iterator "
           "at a full epoch's age, holding it idle in the background."
           if config.epochs_shortened else "")
    )


def _run_trial(config: StudyConfig, trial: Trial, position: int, progress: Progress, holders: HeldTrials | None) -> TrialOutcome:
    # A data file found damaged inside the trial: rebuilt once, and the trial run again (study.repair).
    return repair.run_rebuilding_once(
        config, trial.strategy, lambda: _run_trial_once(config, trial, position, progress, holders), progress.echo
    )


def _run_trial_once(config: StudyConfig, trial: Trial, position: int, progress: Progress, holders: HeldTrials | None) -> TrialOutcome:
    log_path = config.out_dir / "logs" / f"{position:03d}-{trial.label().replace('@', '-')}-block{trial.repeat}.log"
    trial_config = config.at_sweep_value(trial.sweep_value)
    on_epoch = lambda event: progress.epoch(position, trial, event)  # noqa: E731
    on_progress = lambda event: progress.step(position, trial, event)  # noqa: E731
    try:
        with _service_for(trial_config, trial) as (service_address, watch):
            return run_trial_process(
                trial_config, trial, log_path, on_epoch, service_address, watch, progress.trial_seconds,
                on_progress=on_progress, holders=holders,
            )
    except ServiceStartError as error:  # servers that would not start fail this trial, not the study
        return TrialOutcome("failed", str(error), [], {}, 0.0, 0.0, 0.0, 0.0)


def _closing_seconds(holders: HeldTrials) -> float:
    """What the study still needs after its last block: the report, and the last probes still holding their
    iterators (up to a full epoch's hold, then the wait for destroying one; study/budget.py)."""
    waiting = holders.longest_hold_seconds + budget.PROBE_END_SECONDS if holders.longest_hold_seconds else 0.0
    return REPORT_SECONDS + waiting


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
    # A stop that came after the trial reported its results returns them (`interrupted`): stop all the same.
    supervise.raise_if_stop_received()
    if outcome.status != schema.OK:
        raise StudyError(f"the calibration trial failed ({outcome.error}); see {log_path}")
    epochs_seconds = sum(event["epoch_seconds"] for event in outcome.epochs)
    # The limit's diagnostic (inputs/compute_bound.py) runs once per block and is planned as a trial of its own.
    diagnostic_seconds = float(outcome.done.get("diagnostic_seconds") or 0.0)
    return budget.Calibration(
        trial_overhead_seconds=max(outcome.wall_seconds - epochs_seconds - diagnostic_seconds, 0.0),
        step_seconds=float(np.median(outcome.epochs[-1]["step_seconds"])),
    )


def plan_to_budget(config: StudyConfig, started: float, echo) -> StudyConfig:
    """The config with the settings the user left out planned to fit the budget; writes plan.json."""
    from inputs.corpus import DataSettings

    echo(f"Calibrating on this machine (one short {schema.COMPUTE_BOUND} trial) to plan a {config.budget_minutes:g}-minute study ...")
    calibration = calibrate(config)
    # The strategies, the limit, and the limit's diagnostic, which costs about a trial's epochs.
    trials_per_block = (len(config.strategies) + 2) * len(config.sweep_values())
    train_size = DataSettings().train_size * config.scale
    chosen = budget.plan(
        config.budget_minutes * 60, time.monotonic() - started, calibration, trials_per_block, train_size,
        config.batch_size, REPORT_SECONDS, epochs=config.epochs, repeats=config.repeats, limit=config.limit,
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


class StudyError(Exception):
    """The study cannot go on (e.g. its calibration failed); the message is one line."""


def _blocks(plan: list[Trial]) -> list[list[Trial]]:
    blocks: dict[int, list[Trial]] = {}
    for trial in plan:
        blocks.setdefault(trial.repeat, []).append(trial)
    return list(blocks.values())


def verdicts_decided(out: Path) -> bool:
    """Whether every strategy's verdicts against the baseline - time in steps, CPU time and the projected
    full-size epoch - are decided on the rows so far (trivially so when the study compares nothing: one
    strategy alone). The shortened epochs' own end-to-end figure is reported, not waited for: its boundary is
    at the wrong age (study/projection.py)."""
    from study import analysis

    study = analysis.load(out)
    if study.results.empty:
        return False
    found = analysis.analyse_study(study)
    return stats.all_decided(
        c for f in found.findings for c in (f.steps_vs_baseline, f.cpu_vs_baseline, f.projected_vs_baseline)
    )


def _record_ending(out: Path, started: float, blocks_run: int, stopped: str) -> None:
    """How the study ended, in plan.json: blocks, why it stopped, its time before the report, and how much of
    that time was spent inside measured epochs (warm-up epochs included; this run's trials, a resumed
    study's earlier ones too)."""
    path = out / schema.PLAN
    record = results_files.read_json(path) if path.exists() else {}
    rows = results_files.read_study_table(out, schema.RESULTS)
    record["ending"] = {
        "blocks_run": blocks_run, "stopped": stopped, "seconds_before_report": time.monotonic() - started,
        "seconds_in_epochs": float(rows["epoch_seconds"].astype(float).sum()) if len(rows) else 0.0,
    }
    results_files.write_json(path, record)


def _echo_quietly(echo, message: str) -> None:
    with contextlib.suppress(OSError):  # a closed terminal (SIGHUP) must not turn a clean stop into an error
        echo(message)


def run_study(config: StudyConfig, echo=print, started: float | None = None) -> int:
    """Runs (or resumes) the study; returns the exit status: 0 all ok, 1 some trial failed, 130 interrupted
    (Ctrl-C, SIGTERM or SIGHUP: every stop signal raises KeyboardInterrupt). The output folder is locked
    for the study's lifetime: a second study there is refused (ConfigError, exit 2).

    `started` (time.monotonic) is when the command began: the budget counts from there."""
    supervise.stop_signals_interrupt()
    with lock.hold(config.out_dir):
        return _run_locked(config, echo, started)


def _run_locked(config: StudyConfig, echo, started: float | None) -> int:
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
    # Shortened epochs: each trial also probes, at the full epoch's age, the destruction of its used iterator where
    # its fit does it (study/boundary_probe.py), holding the iterator in the background while the next trial runs.
    holders = HeldTrials(lambda trial, done, event: _save_boundary(out, trial, done, event), PROTOCOL_PREFIX)
    probing = holders if config.epochs_shortened else None
    failures, block_seconds, blocks_run = 0, [], 0
    stopped = f"all {len(_blocks(plan))} planned blocks ran"
    try:
        for block in _blocks(plan):
            block_started = time.monotonic()
            for trial in block:
                if trial.key in done:
                    continue
                position = plan.index(trial) + 1
                outcome = _run_trial(config, trial, position, progress, probing)
                with supervise.signals_deferred():  # a trial's rows are written whole
                    _save_trial(out, config, trial, position, outcome)
                    progress.trial_end(position, trial, outcome)
                failures += outcome.status != schema.OK
                if outcome.interrupted:  # it had reported its results when the signal came: saved, now stop
                    raise Interrupted()
                supervise.raise_if_stop_received()
            blocks_run += 1
            if any(trial.key not in done for trial in block):
                block_seconds.append(time.monotonic() - block_started)
            if config.planned_blocks is None or blocks_run == len(_blocks(plan)):
                continue
            if blocks_run >= stats.FIRST_LOOK and verdicts_decided(out):
                stopped = f"every verdict decided after {blocks_run} blocks"
                echo(f"Every verdict is decided after {blocks_run} blocks: stopping early.")
                break
            elapsed = time.monotonic() - started
            if not budget.another_block_fits(elapsed, block_seconds, config.budget_minutes * 60, _closing_seconds(holders)):
                stopped = f"another block would not have ended within the {config.budget_minutes:g}-minute budget"
                echo(f"Stopping after {blocks_run} blocks: another would not fit the {config.budget_minutes:g}-minute budget.")
                break
        if holders.waiting:
            _echo_quietly(echo, f"Waiting for {holders.waiting} trial(s) still holding an iterator until it is as old as "
                                "a full epoch, to measure that boundary ...")
            holders.wait()
    except (KeyboardInterrupt, Interrupted):
        progress.close()
        with contextlib.suppress(KeyboardInterrupt), supervise.signals_deferred():
            holders.stop()
        _echo_quietly(
            echo,
            f"Interrupted. {progress.finished_trials} of {len(plan)} trials are saved in {out}. "
            f"Continue with the same command plus --resume, or draw the report so far with --report-only.",
        )
        return 130
    try:
        _record_ending(out, started, blocks_run, stopped)
        paths = report.build(out)
        supervise.raise_if_stop_received()
    except (KeyboardInterrupt, Interrupted):
        _echo_quietly(
            echo,
            f"Interrupted while drawing the report. The measurements are saved ({progress.finished_trials} trials, "
            f"in {out}); draw the report with --report-only --out {out}.",
        )
        return 130
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
