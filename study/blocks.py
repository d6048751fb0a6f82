"""The plan's blocks, run one after another: each trial of a block in a fresh process (or the whole block in one:
--process-per block), its rows saved as it ends; after each block of a sequential plan from its first look, the
stopping rule (every verdict decided, or no time for another block within the budget), racing (strategies whose
verdicts all decided leave the later blocks) and the re-plan from what the blocks measured; at the end, the wait
for trials still probing their boundary at full age."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from pathlib import Path

from study import budget, projection, repair, result_rows, results_files, schema, stats, supervise, trial_process
from study.config import StudyConfig
from study.holders import HeldTrials, ProbeWindow
from study.plan import Trial
from study.progress import Progress, echo_quietly
from study.shared_process import SharedProcess
from study.trial_process import TrialOutcome
from study.trial_service import ServiceStartError, service_for


class Interrupted(Exception):
    """Ctrl-C or SIGTERM reached the study."""


@dataclasses.dataclass(frozen=True)
class Ending:
    """How the blocks ended: how many ran, why they stopped, and how many trials failed."""
    blocks_run: int
    stopped: str
    failures: int


# --- one trial of the plan ------------------------------------------------------------------------------


def run_trial(config: StudyConfig, trial: Trial, position: int, progress: Progress, holders: HeldTrials | None,
              shared: SharedProcess | None = None) -> TrialOutcome:
    # A data file found damaged inside the trial: rebuilt once, and the trial run again (study.repair).
    return repair.run_rebuilding_once(
        config, trial.strategy, lambda: _run_trial_once(config, trial, position, progress, holders, shared), progress.echo
    )


def _run_trial_once(config: StudyConfig, trial: Trial, position: int, progress: Progress, holders: HeldTrials | None,
                    shared: SharedProcess | None) -> TrialOutcome:
    log_path = config.out_dir / schema.LOGS / f"{position:03d}-{trial.label().replace('@', '-')}-block{trial.repeat}.log"
    trial_config = config.at_sweep_value(trial.sweep_value)
    on_epoch = lambda event: progress.epoch(position, trial, event)  # noqa: E731
    on_progress = lambda event: progress.step(position, trial, event)  # noqa: E731
    try:
        with service_for(trial_config, trial) as (service_address, watch):
            if shared is not None:
                return shared.run_trial(trial_config, trial, on_epoch, service_address, watch, progress.trial_seconds,
                                        on_progress, probe=holders is not None, log_path=log_path)
            return trial_process.run_trial_process(
                trial_config, trial, log_path, on_epoch, service_address, watch, progress.trial_seconds,
                on_progress=on_progress, holders=holders,
            )
    except ServiceStartError as error:  # servers that would not start fail this trial, not the study
        return TrialOutcome(schema.FAILED, str(error), [], {}, 0.0, 0.0, 0.0, 0.0)


# --- the blocks -----------------------------------------------------------------------------------------


def run_blocks(config: StudyConfig, plan: list[Trial], done: set, progress: Progress, echo, started: float) -> Ending:
    """Runs the plan's trials not yet `done`, block by block, until the stopping rule or the last block.
    A stop signal (KeyboardInterrupt, or Interrupted once a trial's results are saved) stops the trials still
    holding an iterator and is raised again."""
    # Shortened epochs: each trial also probes, at the full setting's age, the destruction of its used iterator where
    # its fit does it (study/boundary_probe.py), holding the iterator in the background while the next trial runs.
    holders = HeldTrials(lambda trial, done, event: result_rows.save_boundary(config.out_dir, trial, done, event))
    try:
        ending = _run_each_block(config, plan, done, progress, echo, started, holders)
        if holders.waiting:
            echo_quietly(echo, f"Waiting for {holders.waiting} process(es) still holding a used iterator until it is as "
                               "old as a full-size fit's where fit destroys it, to measure that wait ...")
            holders.wait()
        return ending
    except (KeyboardInterrupt, Interrupted):
        progress.close()
        with contextlib.suppress(KeyboardInterrupt), supervise.signals_deferred():
            holders.stop()
        raise


def _blocks(plan: list[Trial]) -> list[list[Trial]]:
    blocks: dict[int, list[Trial]] = {}
    for trial in plan:
        blocks.setdefault(trial.repeat, []).append(trial)
    return list(blocks.values())


def _run_each_block(config: StudyConfig, plan: list[Trial], done: set, progress: Progress, echo, started: float,
                    holders: HeldTrials) -> Ending:
    blocks = _blocks(plan)
    probing = holders if config.epochs_shortened else None
    window = probe_window(config, started)
    failures, block_seconds, blocks_run, left = 0, [], 0, set()
    for block in blocks:
        block = [trial for trial in block if trial.strategy not in left]
        block_started = time.monotonic()
        failures += _run_block(config, plan, block, done, progress, probing, window)
        blocks_run += 1
        if any(trial.key not in done for trial in block):
            block_seconds.append(time.monotonic() - block_started)
        if config.planned_blocks is None or blocks_run == len(blocks):
            continue
        decided = decided_strategies(config) if blocks_run >= stats.FIRST_LOOK else None
        stopped = _reason_to_stop(config, blocks_run, block_seconds, started, holders, echo, decided)
        if stopped:
            return Ending(blocks_run, stopped, failures)
        left |= _leaving(config, plan, decided, left, blocks_run, progress, echo)
        if decided is not None and block_seconds:
            _replan(config, blocks_run, decided, block_seconds[-1], started, holders, echo)
    return Ending(blocks_run, f"all {len(blocks)} planned blocks ran", failures)


def _replan(config: StudyConfig, blocks_run: int, look: Look, block_seconds: float, started: float,
            holders: HeldTrials, echo) -> None:
    """The rest of the study re-planned from what it measured (study/budget.replan): said, and kept in plan.json."""
    remaining = config.budget_minutes * 60 - (time.monotonic() - started) - _closing_seconds(holders)
    again = budget.replan(blocks_run, config.planned_blocks, look.open, block_seconds, remaining)
    echo(again.describe())
    path = config.out_dir / schema.PLAN
    record = results_files.read_json(path) if path.exists() else {}
    record.setdefault("replans", []).append(dataclasses.asdict(again))
    results_files.write_json(path, record)


def _leaving(config: StudyConfig, plan: list[Trial], decided, left: set, blocks_run: int, progress: Progress, echo) -> set:
    """Racing: the strategies whose every verdict has decided leave the later blocks, so that the budget goes to
    the verdicts still open; the baseline and the limit always stay. Each verdict's error guarantee holds at
    whatever look it is taken, whatever rule picks the look (study/stats.py), so a verdict taken when its strategy
    leaves is as sound as one taken at the end. Not with a sweep (a strategy is compared at every swept value)."""
    if decided is None or config.sweep is not None:
        return set()
    leaving = decided.decided - left
    if leaving:
        remaining = sum(1 for trial in plan if trial.repeat > blocks_run and trial.strategy in leaving)
        progress.total -= remaining
        echo(f"After {blocks_run} blocks every verdict of {', '.join(sorted(leaving))} is decided: "
             f"{'it leaves' if len(leaving) == 1 else 'they leave'} the later blocks ({remaining} trials fewer).")
    return leaving


def _run_block(config: StudyConfig, plan: list[Trial], block: list[Trial], done: set, progress: Progress,
               probing: HeldTrials | None, window: ProbeWindow) -> int:
    """Runs the block's trials not yet done - each in a fresh process, or all in the block's own
    (--process-per block: study/shared_process.py) - saving each one's rows as it ends; returns how many failed."""
    if not config.process_per_block:
        return _run_trials(config, plan, block, done, progress, probing, window, None)
    shared = SharedProcess(config.out_dir / schema.LOGS / f"block{block[0].repeat}.log", config.process_per)
    try:
        failures = _run_trials(config, plan, block, done, progress, probing, window, shared)
        shared.finish(probing, progress.echo)
        return failures
    except BaseException:
        with contextlib.suppress(KeyboardInterrupt), supervise.signals_deferred():
            shared.end()
        raise


def _run_trials(config: StudyConfig, plan: list[Trial], block: list[Trial], done: set, progress: Progress,
                probing: HeldTrials | None, window: ProbeWindow, shared: SharedProcess | None) -> int:
    failures = 0
    for trial in block:
        if trial.key in done:
            continue
        position = plan.index(trial) + 1
        probes = probing is not None and window.allows(_full_steps(config.at_sweep_value(trial.sweep_value)),
                                                       strategy=trial.strategy)
        outcome = run_trial(config, trial, position, progress, probing if probes else None, shared)
        window.note(outcome, trial.strategy)
        with supervise.signals_deferred():  # a trial's rows are written whole
            result_rows.save_trial(config.out_dir, config, trial, position, outcome)
            progress.trial_end(position, trial, outcome)
        failures += outcome.status != schema.OK
        if outcome.interrupted:  # it had reported its results when the signal came: saved, now stop
            raise Interrupted()
        supervise.raise_if_stop_received()
    return failures


# --- the stopping rule ----------------------------------------------------------------------------------


def _reason_to_stop(config: StudyConfig, blocks_run: int, block_seconds: list[float], started: float,
                    holders: HeldTrials, echo, decided) -> str | None:
    """After a block of a sequential plan: why the study stops now (said to the user), or None to go on.
    `decided`: decided_strategies' answer after this block (None before the first look)."""
    if decided is not None and decided.all_decided:
        echo(f"Every verdict is decided after {blocks_run} blocks: stopping early.")
        return f"every verdict decided after {blocks_run} blocks"
    elapsed = time.monotonic() - started
    if not budget.another_block_fits(elapsed, block_seconds, config.budget_minutes * 60, _closing_seconds(holders)):
        echo(f"Stopping after {blocks_run} blocks: another would not fit the {config.budget_minutes:g}-minute budget.")
        return f"another block would not have ended within the {config.budget_minutes:g}-minute budget"
    return None


@dataclasses.dataclass(frozen=True)
class Look:
    """What a look after a block found (decided_strategies)."""
    decided: set  # the strategies - not the baseline, not the limit - whose verdicts against the baseline all decided
    all_decided: bool
    open: list = dataclasses.field(default_factory=list)  # the undecided comparisons (stats.Comparison)


def decided_strategies(config: StudyConfig) -> Look:
    """The verdicts against the baseline on the rows so far: whose are all decided, whether every one is, which are
    open. The verdicts: time in steps, CPU time and the projected full-size epoch (every verdict is decided,
    trivially, when the study compares nothing: one strategy alone). The shortened epochs' own end-to-end figure is
    reported, not waited for: its boundary is at the wrong age (study/projection.py)."""
    from study import analysis

    study = analysis.load(config.out_dir)
    if study.results.empty:
        return Look(set(), False)
    found = analysis.analyse_study(study)

    def verdicts(finding):
        return (finding.steps_vs_baseline, finding.cpu_vs_baseline, finding.projected_vs_baseline)

    staying = {found.baseline, schema.COMPUTE_BOUND}
    decided = {f.strategy for f in found.findings if f.strategy not in staying and stats.all_decided(verdicts(f))}
    undecided = {f.strategy for f in found.findings if not stats.all_decided(verdicts(f))}
    comparisons = [c for f in found.findings for c in verdicts(f) if c is not None]
    return Look(decided - undecided, stats.all_decided(comparisons),
                [c for c in comparisons if c.verdict == stats.UNDECIDED])


def probe_window(config: StudyConfig, started: float) -> ProbeWindow:
    """When the last probe's hold must end (study/holders.ProbeWindow): before the report and the last destruction,
    at the end of the budget - or of the plan, when the settings the user fixed need more (plan.json). A study
    without a plan (every setting fixed) is not held to a time: every trial probes."""
    path = config.out_dir / schema.PLAN
    planned = (results_files.read_json(path).get("plan") or {}) if path.exists() else {}
    if "total_seconds" not in planned:
        return ProbeWindow()
    end = max(config.budget_minutes * 60, float(planned["total_seconds"]))
    return ProbeWindow(started + end - budget.REPORT_SECONDS - budget.PROBE_END_SECONDS)


def _full_steps(config: StudyConfig) -> int:
    from inputs.corpus import DataSettings

    return projection.full_steps(DataSettings().train_size, config.scale, config.batch_size)


def _closing_seconds(holders: HeldTrials) -> float:
    """What the study still needs after its last block: the report, and, if trials probe, the last destruction -
    the holds themselves end before it (probe_window)."""
    return budget.REPORT_SECONDS + (budget.PROBE_END_SECONDS if holders.adopted else 0.0)


def record_ending(out: Path, started: float, ending: Ending) -> None:
    """How the study ended, in plan.json: blocks, why it stopped, its time before the report, and how much of
    that time was spent measuring (this run's trials, a resumed study's earlier ones too): inside measured epochs
    (warm-up epochs included), in fit's teardowns (the boundary at the end of fit, reported once per fit) and in the
    limit's diagnostic fits (their steps timed and reported)."""
    path = out / schema.PLAN
    record = results_files.read_json(path) if path.exists() else {}
    rows = results_files.read_study_table(out, schema.RESULTS)
    trials = results_files.read_study_table(out, schema.TRIALS)
    record["ending"] = {
        "blocks_run": ending.blocks_run, "stopped": ending.stopped, "seconds_before_report": time.monotonic() - started,
        "seconds_in_epochs": _sum(rows, "epoch_seconds"),
        "seconds_at_fit_teardowns": _sum(trials, "fit_teardown_seconds"),
        "seconds_in_diagnostic_fits": _sum(trials, "diagnostic_seconds"),
    }
    results_files.write_json(path, record)


def _sum(table, column: str) -> float:
    """A column's total (0 for a table without it: a study from before it was recorded)."""
    import pandas as pd

    return float(pd.to_numeric(table[column], errors="coerce").sum()) if len(table) and column in table.columns else 0.0


MEASURING = ("seconds_in_epochs", "seconds_at_fit_teardowns", "seconds_in_diagnostic_fits")  # plan.json `ending`


def record_whole_study(out: Path, started: float) -> None:
    """Once the report is drawn: the whole command's wall time in plan.json, and the share of it spent inside
    measured epochs (issue 19's measure of a study's efficiency)."""
    path = out / schema.PLAN
    record = results_files.read_json(path) if path.exists() else {}
    ending = record.setdefault("ending", {})
    ending["seconds_whole_study"] = time.monotonic() - started
    if ending.get("seconds_in_epochs") is not None:
        ending["share_in_epochs"] = ending["seconds_in_epochs"] / ending["seconds_whole_study"]
        ending["share_measuring"] = sum(ending.get(name, 0.0) for name in MEASURING) / ending["seconds_whole_study"]
    results_files.write_json(path, record)
