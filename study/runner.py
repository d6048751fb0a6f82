"""Plans the trials, runs each in a fresh child process, saves results as they arrive, builds the report.

Results survive anything: rows are appended and fsynced when a trial finishes, the trial's line in trials.csv
is written last and marks it finished, and a resumed study skips exactly the trials marked ok. A failed,
killed or hung trial is recorded with its error and the study goes on; Ctrl-C stops the running child (and
any tf.data service servers) within seconds and says how to resume.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from inputs.data import DataSettings
from study import environment, results_files
from study.config import ConfigError, StudyConfig
from study.results_files import RESULTS, STEPS, TRIALS
from study.schedule import Trial, plan_blocks
from study.trial import PROTOCOL_PREFIX

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# An epoch's boundary: the wait before its first step and after its last, each with the process CPU over it.
BOUNDARY_COLUMNS = (
    "before_first_step_seconds", "before_first_step_cpu_seconds", "after_last_step_seconds", "after_last_step_cpu_seconds",
)
RESULT_COLUMNS = [
    "strategy", "repeat", "sweep", "sweep_value", "epoch", "warmup", "started_at", "epoch_seconds",
    "cpu_seconds", "steps", "examples", "examples_per_second", "loss", "accuracy", "val_loss", "val_accuracy",
    *BOUNDARY_COLUMNS,
]
STEP_COLUMNS = ["strategy", "repeat", "sweep_value", "epoch", "step", "step_seconds"]
TRIAL_COLUMNS = [
    "strategy", "repeat", "sweep", "sweep_value", "position", "status", "error", "started_at", "wall_seconds",
    "cpu_user_seconds", "cpu_system_seconds", "peak_rss_mb", "parameters", "val_loss", "val_accuracy",
    "pipeline_first_batch_seconds", "pipeline_examples", "pipeline_seconds", "fit_teardown_seconds",
    "fit_teardown_cpu_seconds",
]

STOP_GRACE_SECONDS = 5


@dataclasses.dataclass
class TrialOutcome:
    status: str  # "ok", "failed", "timeout"
    error: str
    epochs: list
    done: dict
    wall_seconds: float
    cpu_user_seconds: float
    cpu_system_seconds: float
    peak_rss_mb: float


class Interrupted(Exception):
    """Ctrl-C or SIGTERM reached the study."""


# --- the output folder ---------------------------------------------------------------------------------


def _has_study(out: Path) -> bool:
    return any((out / name).exists() for name in results_files.STUDY_FILES)


def _archive_previous(out: Path) -> Path:
    """Move an earlier study's files aside so a new study never overwrites measurements."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    archive = out / "archive" / stamp
    archive.mkdir(parents=True)
    for path in out.iterdir():
        if path.name != "archive" and (path.is_file() or path.name == "logs"):
            shutil.move(str(path), archive / path.name)
    return archive


def completed_trials(out: Path) -> set:
    """Keys of the trials trials.csv marks ok."""
    table = results_files.read_table(out / TRIALS, ["strategy", "repeat", "status"])
    done = set()
    for row in table.itertuples():
        if row.status == "ok":
            done.add((int(row.repeat), row.strategy, _sweep_value(getattr(row, "sweep_value", None))))
    return done


def _sweep_value(value):
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return None
    return int(value)


def _keep_only(out: Path, name: str, columns: list[str], done: set) -> None:
    """Rewrite a table keeping rows of completed trials only (a crash may leave rows of an unfinished one)."""
    path = out / name
    table = results_files.read_table(path, ["strategy", "repeat"])
    if table.empty:
        return
    keys = [(int(r), s, _sweep_value(v)) for r, s, v in zip(table["repeat"], table["strategy"], table.get("sweep_value", [None] * len(table)))]
    kept = table[[key in done for key in keys]]
    results_files.write_atomic(path, kept.reindex(columns=columns).to_csv(index=False))


def prepare_out_dir(config: StudyConfig, echo) -> set:
    """Create or check the output folder; returns the keys of trials already finished (for --resume)."""
    out = config.out_dir
    if config.resume:
        if not (out / results_files.CONFIG).exists():
            raise ConfigError(f"--resume: {out} holds no study to resume (no {results_files.CONFIG}); drop --resume")
        recorded = StudyConfig.from_dict(results_files.read_json(out / results_files.CONFIG)).measured_settings()
        differing = sorted(key for key, value in config.measured_settings().items() if recorded.get(key) != value)
        if differing:
            shown = ", ".join(f"{key} (recorded {recorded.get(key)!r}, now {getattr(config, key)!r})" for key in differing)
            raise ConfigError(f"--resume: the settings differ from the study in {out}: {shown}")
        done = completed_trials(out)
        _keep_only(out, RESULTS, RESULT_COLUMNS, done)
        _keep_only(out, STEPS, STEP_COLUMNS, done)
        # Failed trials are run again: keep only the ok lines.
        _keep_only(out, TRIALS, TRIAL_COLUMNS, done)
        return done
    if _has_study(out):
        archive = _archive_previous(out)
        echo(f"An earlier study in {out} was moved to {archive}.")
    results_files.write_json(out / results_files.CONFIG, config.to_dict())
    results_files.write_json(out / results_files.ENVIRONMENT, environment.collect())
    return set()


# --- one trial in its own process ----------------------------------------------------------------------


def _child_command(config: StudyConfig, trial: Trial) -> list[str]:
    spec = {"config": config.to_dict(), "strategy": trial.strategy}
    return [sys.executable, "-m", "study.trial", json.dumps(spec)]


def _read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _reap(process: subprocess.Popen, timeout: float | None):
    """Wait for the child (at most `timeout` seconds) and return (wait status, rusage), or None if still running.

    os.wait4 rather than Popen.wait, because its rusage is the child's CPU time and peak memory.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        pid, wait_status, usage = os.wait4(process.pid, 0 if timeout is None else os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(wait_status)
            return wait_status, usage
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)


def _stop_process_group(process: subprocess.Popen):
    """SIGTERM the child's whole process group (its workers too), SIGKILL after a grace period; reaps it."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        reaped = _reap(process, STOP_GRACE_SECONDS)
        if reaped:
            return reaped
    return _reap(process, None)


def _last_error_line(log_path: Path) -> str:
    try:
        lines = [line.strip() for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    for line in reversed(lines):
        if "Error" in line or "error" in line or "Exception" in line:
            return line[:300]
    return lines[-1][:300] if lines else ""


def run_trial_process(config: StudyConfig, trial: Trial, log_path: Path, on_epoch) -> TrialOutcome:
    """Runs one trial in a fresh process; never raises for the trial's own failures, only for Interrupted."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    started = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            _child_command(config, trial), stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
            text=True, env=env, start_new_session=True,  # Ctrl-C reaches the runner, which stops the child
        )
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
        epochs, done, error, status, reaped = [], {}, "", "ok", None
        deadline = None if config.trial_timeout is None else started + config.trial_timeout
        try:
            while True:
                try:
                    line = lines.get(timeout=0.2)
                except queue.Empty:
                    if deadline is not None and time.perf_counter() > deadline:
                        status, error = "timeout", f"timed out after {config.trial_timeout:g} s (--trial-timeout)"
                        reaped = _stop_process_group(process)
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
            _stop_process_group(process)
            raise
        _, usage = reaped or _reap(process, None)
    wall_seconds = time.perf_counter() - started
    if status == "ok" and process.returncode != 0:
        status = "failed"
        if process.returncode < 0:
            name = signal.Signals(-process.returncode).name
            hint = " (out of memory?)" if name == "SIGKILL" else ""
            error = f"killed by {name}{hint}"
        else:
            error = _last_error_line(log_path) or f"exited with status {process.returncode}"
    if status == "ok" and not done:
        status, error = "failed", "the trial ended without reporting its results"
    return TrialOutcome(
        status=status, error=error, epochs=epochs, done=done, wall_seconds=wall_seconds,
        cpu_user_seconds=usage.ru_utime, cpu_system_seconds=usage.ru_stime, peak_rss_mb=usage.ru_maxrss / 1024,
    )


class ServiceStartError(Exception):
    """The local tf.data service servers for a trial did not start."""


@contextlib.contextmanager
def _service_for(config: StudyConfig, trial: Trial):
    """A tf.data service for strategies that need one: the user's dispatcher, or fresh local servers per trial
    (fresh, like the trial's process, so no trial inherits another's warm workers). They stop when the trial
    ends, fails or is interrupted."""
    from inputs import registry

    if not registry.get(trial.strategy).needs_service or config.service_address:
        yield config
        return
    from inputs import service

    with contextlib.ExitStack() as servers:
        try:
            address = servers.enter_context(service.local_cluster(config.service_workers))
        except service.ServiceError as error:
            raise ServiceStartError(f"tf.data service did not start: {error}") from None
        yield dataclasses.replace(config, service_address=address)


# --- saving ----------------------------------------------------------------------------------------------


def _save_trial(out: Path, config: StudyConfig, trial: Trial, position: int, outcome: TrialOutcome) -> None:
    sweep = config.sweep[0] if config.sweep else ""
    base = {"strategy": trial.strategy, "repeat": trial.repeat, "sweep": sweep, "sweep_value": trial.sweep_value}
    if outcome.status == "ok":
        rows, steps = [], []
        for event in outcome.epochs:
            row = dict(base, **{key: event[key] for key in ("epoch", "started_at", "epoch_seconds", "cpu_seconds", "steps", "examples", "loss", "accuracy", *BOUNDARY_COLUMNS)})
            row["warmup"] = event["epoch"] == 1
            row["examples_per_second"] = event["examples"] / event["epoch_seconds"]
            if event is outcome.epochs[-1]:
                row["val_loss"], row["val_accuracy"] = outcome.done["val_loss"], outcome.done["val_accuracy"]
            rows.append(row)
            steps.extend(
                {"strategy": trial.strategy, "repeat": trial.repeat, "sweep_value": trial.sweep_value,
                 "epoch": event["epoch"], "step": index + 1, "step_seconds": f"{seconds:.6f}"}
                for index, seconds in enumerate(event["step_seconds"])
            )
        results_files.append_rows(out / RESULTS, RESULT_COLUMNS, rows)
        results_files.append_rows(out / STEPS, STEP_COLUMNS, steps)
    started_at = outcome.epochs[0]["started_at"] if outcome.epochs else time.time() - outcome.wall_seconds
    summary = dict(
        base, position=position, status=outcome.status, error=outcome.error, started_at=started_at,
        wall_seconds=round(outcome.wall_seconds, 3), cpu_user_seconds=round(outcome.cpu_user_seconds, 3),
        cpu_system_seconds=round(outcome.cpu_system_seconds, 3), peak_rss_mb=round(outcome.peak_rss_mb, 1),
        **{key: outcome.done.get(key) for key in ("parameters", "val_loss", "val_accuracy", "pipeline_first_batch_seconds", "pipeline_examples", "pipeline_seconds", "fit_teardown_seconds", "fit_teardown_cpu_seconds")},
    )
    results_files.append_rows(out / TRIALS, TRIAL_COLUMNS, [summary])  # last: marks the trial finished


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
        note = " (warm-up)" if event["epoch"] == 1 else ""
        self.echo(
            f"[{position:>3}/{self.total}] block {trial.repeat}  {trial.label():<18} epoch {event['epoch']}/{self.config.epochs}"
            f"  {event['epoch_seconds']:7.1f} s  {rate:8,.0f} ex/s  cpu {event['cpu_seconds']:6.1f} s{note}"
            f"  {self.estimate_left(event['epoch'])}"
        )

    def trial_end(self, position: int, trial: Trial, outcome: TrialOutcome) -> None:
        self.finished_trials += 1
        self.trial_seconds.append(outcome.wall_seconds)
        if outcome.status != "ok":
            self.echo(f"[{position:>3}/{self.total}] block {trial.repeat}  {trial.label()} FAILED: {outcome.error}")


# --- the study -------------------------------------------------------------------------------------------


def _raise_interrupted(signum, frame):
    raise Interrupted()


def _plan_line(config: StudyConfig, plan: list[Trial], todo: int, examples: int) -> str:
    strategies = ", ".join(config.strategies)
    sweep = f", sweeping {config.sweep[0]} over {','.join(map(str, config.sweep[1]))}" if config.sweep else ""
    steps = -(-examples // config.batch_size)
    return (
        f"Planned {len(plan)} trials ({todo} to run): {strategies} + compute-bound in {config.repeats} blocks{sweep}; "
        f"{config.epochs} epochs of {steps:,} steps ({examples:,} examples, batch {config.batch_size}) each, "
        f"model {config.model}. Each trial runs in a fresh process."
    )


def run_study(config: StudyConfig, echo=print) -> int:
    """Runs (or resumes) the study; returns the exit status: 0 all ok, 1 some trial failed, 130 interrupted."""
    from study import report

    out = config.out_dir
    done = prepare_out_dir(config, echo)
    (out / "logs").mkdir(exist_ok=True)
    from inputs import registry

    plan = plan_blocks(config.strategies, registry.REFERENCE.name, config.repeats, config.seed, config.sweep_values())
    todo = [trial for trial in plan if trial.key not in done]
    train_size = DataSettings().train_size
    examples = min(config.limit or train_size, train_size) * config.scale
    echo(_plan_line(config, plan, len(todo), examples))
    if done:
        echo(f"Resuming: {len(done)} finished trials kept, {len(todo)} to run.")
    progress = Progress(config, len(plan), echo)
    progress.finished_trials = len(plan) - len(todo)
    previous_handler = signal.signal(signal.SIGTERM, _raise_interrupted)
    failures = 0
    try:
        for trial in todo:
            position = plan.index(trial) + 1
            log_path = out / "logs" / f"{position:03d}-{trial.label().replace('@', '-')}-block{trial.repeat}.log"
            trial_config = config.at_sweep_value(trial.sweep_value)
            on_epoch = lambda event, t=trial, p=position: progress.epoch(p, t, event)  # noqa: E731
            try:
                with _service_for(trial_config, trial) as service_config:
                    outcome = run_trial_process(service_config, trial, log_path, on_epoch)
            except ServiceStartError as error:  # servers that would not start fail this trial, not the study
                outcome = TrialOutcome("failed", str(error), [], {}, 0.0, 0.0, 0.0, 0.0)
            _save_trial(out, config, trial, position, outcome)
            progress.trial_end(position, trial, outcome)
            failures += outcome.status != "ok"
    except (KeyboardInterrupt, Interrupted):
        echo(
            f"Interrupted. {progress.finished_trials} of {len(plan)} trials are saved in {out}. "
            f"Continue with the same command plus --resume, or draw the report so far with --report-only."
        )
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
    paths = report.build(out)
    echo(f"Report: {', '.join(str(path) for path in paths)}")
    if failures:
        echo(f"{failures} trial(s) failed; see trials.csv and {out / 'logs'}.")
        return 1
    return 0
