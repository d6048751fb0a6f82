"""Fitting a study into the user's time (`--budget MINUTES`): how many blocks, epochs and steps it can afford.

A short calibration on this machine (one small compute-bound trial: a fresh process, the model, a few dozen
steps, the evaluation) gives what every trial costs outside its epochs and what one training step costs. The
plan then spends the budget where it decides: more, shorter paired blocks rather than few long ones, because
verdicts come from the spread *between* blocks (study/stats.py needs at least four blocks to decide anything).
Settings the user gave explicitly (`--epochs`, `--repeats`, `--limit`) are kept, and the plan says what they
cost. Everything here is arithmetic on measured numbers; nothing runs.
"""

from __future__ import annotations

import dataclasses
import math

from inputs.base import steps_per_epoch
from study import stats
from study.boundary_probe import FULL_FIT_EPOCHS

MIN_DECIDING_BLOCKS = stats.FIRST_LOOK  # a sequential plan's first analysis (study/stats.py)
MIN_BLOCKS = 3  # fewer cannot decide a realistic difference; 3 blocks are a fixed plan (one look, at the end)
TARGET_BLOCKS = 8  # the most blocks epochs are sized for: more, shorter blocks decide sooner than few long ones
PLANNED_EPOCHS = 2  # a warm-up epoch and one steady epoch: the fewest that measure an epoch boundary
MIN_STEPS_PER_EPOCH = 20  # below this an epoch is mostly its boundaries and start-up
# Short epochs make the time per step much noisier between blocks, which more blocks do not buy back: the SD over
# blocks of log(step time / arrays') was 0.19 at 21 steps (reports/all-30min) and 0.09 at 38 steps
# (reports/budget-12min), 8 blocks each - half the spread is worth four times the blocks. So epochs of at least
# this many steps come first, as long as the plan keeps its first look (MIN_DECIDING_BLOCKS).
STEADY_STEPS_PER_EPOCH = 40
# Feeding can be slower than the compute-bound limit the calibration measures. A steady epoch of the default study's
# strategies lasted on average 1.12, 1.16 and 1.12 times its steps at the calibrated step time (reports/all-30min-fork,
# all-30min-eval-cut, all-30min: one block's time is their sum, so the mean is what counts). The warm-up epoch's extra
# (tracing the step) is the calibration's own measurement (Calibration.warmup_extra_seconds).
INPUT_ALLOWANCE = 1.15
# Fit's teardown, which the calibration leaves out (budget_planning._overhead: one trial's luck, 0 or 6 s): on average
# 2.2 s per trial in reports/all-30min-fork and 1.4 s in all-30min-eval-cut, most of it the one-iterator feeds'.
TEARDOWN_SECONDS = 2.0
SAFETY_SHARE = 0.10  # of the budget, kept back for the machine's drift and the time between trials
# Block-to-block spread (SD of the log ratio against `arrays`) of the steady step time at the shortened epochs a
# budgeted study trains: over the 18 committed default studies on the 2-core machine, the median of each study's
# median is 0.104 (0.038-0.240; `python benchmarks/in_trial_reference.py --from-studies reports/all-30min*/`,
# reports/benchmarks/in_trial_reference.txt). The planner's prior for the precision it prints, replaced by the
# study's own spread once blocks are measured (replan); the 2017-setting reference's full-size epochs scattered
# less (0.06-0.11, reports/reference), but a budgeted study does not train them.
PRIOR_SPREAD = 0.10
# With shortened epochs every trial also probes the boundary at full age (study/boundary_probe.py): it draws one full
# epoch with no model (a second or a few) before it reports, then holds its iterator in the background. Set aside
# per trial, and at the end for the last destruction. The holds themselves are not waited for: a trial whose hold
# would not end before the budget's last PROBE_END_SECONDS does not probe (study/holders.ProbeWindow).
PROBE_SECONDS = 3.0
PROBE_END_SECONDS = 30.0
REPORT_SECONDS = 60.0  # set aside for drawing the report at the end of a budgeted study


class BudgetError(Exception):
    """The budget cannot hold a study that decides anything; the message says how much would."""


@dataclasses.dataclass(frozen=True)
class Calibration:
    trial_overhead_seconds: float  # a trial's wall time outside its epochs: start-up, model build, evaluation
    step_seconds: float  # one steady training step of the model, fed a ready batch
    block_overhead_seconds: float = 0.0  # once per block with one process per block: its start-up and warm-up fit
    warmup_extra_seconds: float = 0.0  # the warm-up epoch's time beyond a steady one's: tracing the training step


@dataclasses.dataclass(frozen=True)
class Plan:
    blocks: int  # the blocks the epochs are sized for
    sequential: bool  # True: blocks go on past `blocks` until every verdict decides or `max_blocks` is reached
    max_blocks: int  # the most blocks the budget affords: the sequential plan's last look (study/stats.py)
    epochs: int
    steps_per_epoch: int
    limit: int | None  # training examples per epoch; None = the whole training split
    trial_seconds: float  # predicted wall time of one trial
    block_seconds: float  # predicted wall time of one block
    total_seconds: float  # predicted for the whole command: time already spent, the planned blocks, the report
    budget_seconds: float
    cuts: tuple[str, ...]  # what was cut against the full setting, in words
    detectable_difference: float  # the smallest relative difference the plan decides by its last block (prior spread)
    probe_end_seconds: float = 0.0  # set aside at the end for the last probe's destruction (0: epochs are full-size)

    def describe(self, trials_per_block: int) -> str:
        blocks = (
            f"up to {self.max_blocks} blocks (they stop early once every verdict decides)"
            if self.sequential else f"{self.blocks} blocks"
        )
        line = (
            f"Plan for a {self.budget_seconds / 60:.0f}-minute budget: {blocks} of {trials_per_block} trials (the "
            "limit's diagnostic - its batches fitted again with their size unknown - counted as one), "
            f"{self.epochs} epochs of {self.steps_per_epoch:,} steps each; about {self.trial_seconds:.0f} s per trial, "
            f"{self.block_seconds / 60:.1f} min per block, {self.total_seconds / 60:.0f} min in all. "
            f"Expected precision: differences of about {self.detectable_difference:.0%} or more decide by the last "
            f"block (with a block-to-block spread of {PRIOR_SPREAD:.0%} in wall time; CPU time is steadier)."
        )
        if self.cuts:
            line += " Cut against the full setting: " + "; ".join(self.cuts) + "."
        if self.probe_end_seconds:
            line += (
                f" The boundary of the full-size epoch is probed at its real age: each trial draws one full epoch "
                f"without the model (about {PROBE_SECONDS:.0f} s set aside per trial) and holds the used iterator, "
                f"idle, in the background until it is as old as fit's where fit destroys it (a full epoch at an epoch "
                f"boundary, {FULL_FIT_EPOCHS} full epochs when fit ends), then destroys it; the last trials, whose holds "
                "would outlast the budget, do not probe."
            )
        if self.total_seconds > self.budget_seconds:
            line += (
                f" The settings you fixed need about {self.total_seconds / 60:.0f} min: over the budget by "
                f"{(self.total_seconds - self.budget_seconds) / 60:.0f} min."
            )
        return line


def trials_per_block(strategies: int, settings: int = 1) -> int:
    """What a block runs, per swept setting: the strategies, the limit, and the limit's diagnostic (its batches fitted
    again with their size unknown, inputs/compute_bound.py), which costs about a trial's epochs and is planned as one."""
    return (strategies + 2) * settings


def _trial_seconds(calibration: Calibration, epochs: int, steps: int) -> float:
    return calibration.trial_overhead_seconds + epochs * steps * calibration.step_seconds * INPUT_ALLOWANCE


def plan(
    budget_seconds: float,
    spent_seconds: float,
    calibration: Calibration,
    trials_per_block: int,
    train_size: int,
    batch_size: int,
    report_seconds: float,
    epochs: int | None = None,
    repeats: int | None = None,
    limit: int | None = None,
    full_epochs: int = FULL_FIT_EPOCHS,
) -> Plan:
    """The plan that fits `budget_seconds` (of which `spent_seconds` are gone), keeping what the user fixed."""
    full_steps = steps_per_epoch(train_size, batch_size)
    epochs_used = epochs or PLANNED_EPOCHS
    # A block's own start-up, shared by its trials, is planned as their part of it; the warm-up epoch's tracing and
    # fit's teardown as part of every trial's cost beyond its steps.
    calibration = dataclasses.replace(calibration, block_overhead_seconds=0.0, warmup_extra_seconds=0.0, trial_overhead_seconds=(
        calibration.trial_overhead_seconds + calibration.block_overhead_seconds / trials_per_block
        + calibration.warmup_extra_seconds + TEARDOWN_SECONDS))
    shortened = limit is None or limit < train_size  # the plan may shorten epochs unless the user fixed full ones
    probe_end = PROBE_END_SECONDS if shortened else 0.0
    if shortened:
        calibration = dataclasses.replace(calibration, trial_overhead_seconds=calibration.trial_overhead_seconds + PROBE_SECONDS)
    available = budget_seconds * (1 - SAFETY_SHARE) - spent_seconds - report_seconds - probe_end
    if limit is not None:
        steps = min(steps_per_epoch(limit, batch_size), full_steps)
        trial = _trial_seconds(calibration, epochs_used, steps)
        affordable_blocks = math.floor(available / (trials_per_block * trial))
        blocks = repeats or min(TARGET_BLOCKS, max(MIN_BLOCKS, affordable_blocks))
    else:
        blocks, steps = _blocks_and_steps(available, calibration, trials_per_block, epochs_used, full_steps, repeats)
        if steps < MIN_STEPS_PER_EPOCH:
            # The budget whose `available` holds these blocks: everything set aside above included.
            needed = (_total(calibration, blocks, trials_per_block, epochs_used, MIN_STEPS_PER_EPOCH,
                             spent_seconds, report_seconds) + probe_end) / (1 - SAFETY_SHARE)
            raise BudgetError(
                f"--budget {budget_seconds / 60:g} min is too short for {blocks} blocks of {trials_per_block} trials on "
                f"this machine (a trial costs {calibration.trial_overhead_seconds:.0f} s besides its steps); it needs at "
                f"least {math.ceil(needed / 60)} min, or fewer strategies, or an explicit --limit"
            )
    trial = _trial_seconds(calibration, epochs_used, steps)
    sequential = repeats is None and blocks >= MIN_DECIDING_BLOCKS  # fewer blocks than a first look: one look
    max_blocks = max(blocks, math.floor(available / (trials_per_block * trial))) if sequential else blocks
    total = _total(calibration, blocks, trials_per_block, epochs_used, steps, spent_seconds, report_seconds) + probe_end
    study_limit = limit if limit is not None else (None if steps >= full_steps else steps * batch_size)
    cuts = []
    if epochs is None and epochs_used < full_epochs:
        cuts.append(f"{epochs_used} epochs per trial instead of {full_epochs} (a warm-up epoch and one steady epoch)")
    if limit is None and study_limit is not None:
        cuts.append(f"{study_limit:,} of the {train_size:,} training examples per epoch ({steps} of {full_steps} steps)")
    return Plan(
        blocks=blocks, sequential=sequential, max_blocks=max_blocks, epochs=epochs_used, steps_per_epoch=steps, limit=study_limit,
        trial_seconds=trial, block_seconds=trial * trials_per_block, total_seconds=total,
        budget_seconds=budget_seconds, cuts=tuple(cuts),
        detectable_difference=stats.detectable_difference(PRIOR_SPREAD, max_blocks, sequential=sequential),
        probe_end_seconds=probe_end,
    )


def _blocks_and_steps(available: float, calibration: Calibration, trials_per_block: int, epochs: int, full_steps: int,
                      repeats: int | None) -> tuple[int, int]:
    """(blocks, steps per epoch) when the epochs' length is the plan's to choose: as many blocks as the budget
    affords epochs of at least STEADY_STEPS_PER_EPOCH, from TARGET_BLOCKS down to the first look; failing that, as
    many as afford MIN_STEPS_PER_EPOCH (a deciding plan of noisier epochs before one that cannot decide). Fewer
    steps than MIN_STEPS_PER_EPOCH: the budget is too short."""

    def affordable_steps(blocks: int) -> int:
        per_trial = available / (blocks * trials_per_block)
        step_cost = epochs * calibration.step_seconds * INPUT_ALLOWANCE
        return min(full_steps, math.floor((per_trial - calibration.trial_overhead_seconds) / step_cost))

    for blocks in [repeats] if repeats else range(TARGET_BLOCKS, MIN_DECIDING_BLOCKS - 1, -1):
        steps = affordable_steps(blocks)
        if steps >= STEADY_STEPS_PER_EPOCH:
            return blocks, steps
    for blocks in range(TARGET_BLOCKS, MIN_BLOCKS - 1, -1):
        steps = affordable_steps(blocks)
        if steps >= MIN_STEPS_PER_EPOCH:
            break
    return blocks, steps


def _total(calibration, blocks, trials_per_block, epochs, steps, spent_seconds, report_seconds) -> float:
    return spent_seconds + blocks * trials_per_block * _trial_seconds(calibration, epochs, steps) + report_seconds


def another_block_fits(elapsed_seconds: float, block_seconds: list[float], budget_seconds: float, report_seconds: float) -> bool:
    """Whether one more block, as long as the longest so far, still ends before the budget (report included).
    The runner also stops at the plan's `max_blocks`, the last look its statistics were planned for."""
    longest = max(block_seconds) if block_seconds else 0.0
    return elapsed_seconds + longest + report_seconds <= budget_seconds


@dataclasses.dataclass(frozen=True)
class Replan:
    """The plan again after a look, from the study's own measurements instead of the prior (plan.json `replans`)."""

    blocks_run: int
    spread: float  # measured: the median block-to-block SD of the open verdicts' log ratios, the higher middle one of an even count (nan: none open)
    block_seconds: float  # measured: the last block's wall time, with the strategies still in the race
    more_blocks: int  # the blocks the remaining budget affords, up to the plan's last look
    detectable_difference: float  # at the last of them, with the measured spread (inf: no more blocks)
    open_verdicts: int
    expected_to_decide: int  # open verdicts whose forecast (Comparison.more_blocks_needed) fits in `more_blocks`

    def describe(self) -> str:
        if not self.open_verdicts:
            return f"After {self.blocks_run} blocks every verdict is decided."
        line = (f"Re-planned after {self.blocks_run} blocks from what they measured: a block-to-block spread of "
                f"{self.spread:.2f} (the prior was {PRIOR_SPREAD:.2f}) and {self.block_seconds / 60:.1f} min per block; ")
        if not self.more_blocks:
            return line + f"no more block fits, so {self.open_verdicts} verdict(s) stay open."
        return line + (f"{self.more_blocks} more block(s) fit, by which differences of about "
                       f"{self.detectable_difference:.0%} or more decide; {self.expected_to_decide} of the "
                       f"{self.open_verdicts} open verdict(s) are expected to decide.")


def replan(blocks_run: int, planned_blocks: int, open_comparisons: list, block_seconds: float, remaining_seconds: float) -> Replan:
    """The rest of a sequential study, re-planned from what its blocks measured (Kalibera & Jones, "Rigorous
    benchmarking in reasonable time", 2013: repetitions from the measured variance and cost of each level). The
    blocks are the level whose cost and spread are measured here: as many more as the remaining budget affords at
    the measured block time, never past `planned_blocks` - the looks the statistics were planned for before the
    first block (study/stats.py; stopping earlier keeps them valid, going further would not). Epochs keep their
    length: the time per step depends on it (4-8% more per step at 45 steps than at 625 for most feeds,
    reports/benchmarks/projection_check.txt), so blocks of another length would not share the mean the paired
    statistics assume."""
    spread = stats.planning_spread(open_comparisons)
    more = max(0, min(planned_blocks - blocks_run, math.floor(remaining_seconds / block_seconds) if block_seconds > 0 else 0))
    last_look = blocks_run + more
    detectable = (math.expm1(2 * stats.expected_half_width(spread, last_look, planned_blocks=planned_blocks))
                  if more and math.isfinite(spread) else math.inf)
    expected = sum(1 for c in open_comparisons if c.more_blocks_needed is not None and c.more_blocks_needed <= more)
    return Replan(blocks_run, spread, block_seconds, more, detectable, len(open_comparisons), expected)
