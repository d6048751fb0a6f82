"""The user's epoch: a full-size steady epoch projected from a study's shortened ones, per block.

A budget shortens epochs, but the two parts of an epoch scale differently with its length: the time in steps
grows with the number of steps, while the wait at the boundary depends on how old the dropped iterator is
(study/boundary_probe.py). So they are measured apart and added up at the full setting:

    projected epoch (block b) = full steps x the trial's steady step time (block b) + the boundary at full age (b)

For a strategy whose fit makes a new iterator each epoch, the boundary at full age has two parts, both measured:
- what every boundary costs: the next epoch's iterator made and its first batch drawn at the full data size, and the
  used iterator destroyed, as block b's probe measured them (its destruction only when it did not wait);
- the wait of a boundary that misses the dropped iterator's autotune wake-up: whether block b's own shortened
  epochs' boundaries missed it (they wait idle, the process' CPU near zero), times how long such a miss lasts at
  the full age - from the full epoch's age to the thread's next wake-up, which block b's probe watched.
  A probe's own destruction is no guide to whether fit's waits: with no model trained on its iterator it almost
  never waits, where fit's boundaries mostly do at the same age (benchmarks/probe_order.py). Whether fit's short
  boundaries miss as often as its full-size ones is checked by benchmarks/projection_check.py (docs/RESULTS.md).
A figure a block lacks (a lost probe, a wake-up not seen) is the strategy's mean over the blocks that have it; a
study whose probes saw no wake-up falls back to the probes' own destruction. For a strategy whose fit keeps one
iterator, nothing is destroyed between epochs: its boundary is what its own steady epochs measured around their
steps. A study that trains full epochs measures the boundary at full age already, in its own epochs.

fit's teardown comes once per fit, not per epoch: it is projected apart, per fit (FullTeardown), the same way - how
often the study's own fits' teardowns waited idle, times how long such a wait lasts at the age a full-size fit's
iterator has when fit destroys it (its probes' next wake-up after that age; for an iterator kept for all of fit,
whose age is projected less well, the mean over the interval between the wake-ups around that age).

Blocks keep their pairing, so the projected epochs are compared with the study's paired statistics
(study/stats.py) like any other measure. Pure pandas/NumPy on the saved tables.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from inputs.base import steps_per_epoch
from study.boundary_probe import END_OF_FIT, EPOCH_BOUNDARY

WAIT_SECONDS = 1.0  # a destruction longer than this counts as a wait (the reference saw 0.2 s without one)
# A shortened epoch's boundary idle longer than this (its wall time less the process CPU over it) missed the wake-up.
# A miss lasts from the boundary to the autotune thread's next wake-up, which can be a tenth of a second away when the
# boundary falls just before one (40-step epochs of ~4.5 s sit just under the 5.11-s wake-up). In four default studies
# every wait of 0.09 s or more ended at a wake-up (4.72-4.99 s or 9.55-10.10 s after the dropped iterator's first step
# ended), every other boundary took at most 0.035 s, 0.003 s of it idle (benchmarks/short_misses.py,
# reports/benchmarks/short_misses.txt). Until 2026-12-07 the threshold was 0.5 s and missed the short misses.
IDLE_WAIT_SECONDS = 0.05
# fit's teardown idle longer than this missed the wake-up. Not IDLE_WAIT_SECONDS: a teardown also joins the pipeline's
# workers, idle - Grain's processes took 0.08-0.17 s in every fit of the default studies - while the tf.data feeds'
# teardowns that did not wait were idle at most 0.01 s and short misses 0.25-1.0 s (trials.csv of
# reports/all-30min-session10 and all-30min-session11). Until 2026-12-07 the threshold was WAIT_SECONDS (1 s), which
# left those short misses uncounted.
TEARDOWN_IDLE_WAIT_SECONDS = 0.2
PROBED, ONE_ITERATOR, OWN_EPOCHS, NOT_PROBED = "probed at full age", "one iterator for all of fit", "its own full-size epochs", "not probed"


@dataclasses.dataclass(frozen=True)
class FullTeardown:
    """fit's teardown at the full setting, once per fit: how often this study's own fits' teardowns waited idle
    (`waits` of `fits`), times how long such a wait lasts where a full-size fit destroys its iterator - from that age
    to the autotune thread's next wake-up, which the probes watched (`miss_seconds`, at `age_seconds`): the last
    epoch's iterator, one full epoch old, for a strategy that makes one each epoch; the one kept for all of fit,
    boundary_probe.FULL_FIT_EPOCHS full epochs old, otherwise. A study of full-size epochs measured its own teardowns
    (`measured_seconds`: their mean)."""

    waits: int = 0
    fits: int = 0
    miss_seconds: float = math.nan  # how long a wait lasts: see full_teardown
    age_seconds: float = math.nan  # median age the probes held their iterators to: a full-size fit's at its end
    measured_seconds: float = math.nan
    # Median over the probes: the interval between the autotune thread's wake-ups around that age. When known, a
    # kept iterator's wait is averaged over it (`averaged`): its age is not known to within it.
    interval_seconds: float = math.nan
    averaged: bool = False

    @property
    def seconds(self) -> float:
        """The mean wait per full-size fit (nan: not measured)."""
        if not math.isnan(self.measured_seconds):
            return self.measured_seconds
        if not self.fits or math.isnan(self.miss_seconds):
            return math.nan
        return self.waits / self.fits * self.miss_seconds


@dataclasses.dataclass(frozen=True)
class FullBoundary:
    """One strategy's wait at an epoch boundary of the full-size epoch (seconds per epoch unless said)."""

    source: str  # PROBED, ONE_ITERATOR, OWN_EPOCHS or NOT_PROBED (then the shortened epochs' own figure stands in)
    seconds: float  # the mean boundary per epoch that the projection adds
    probes: int = 0
    waits: int = 0  # probes whose destruction took over WAIT_SECONDS
    destroy_seconds: tuple = (math.nan, math.nan)  # median, largest
    destroy_busy_share: float = math.nan  # process CPU / wall while destroying: near 0 = idle waiting
    next_iterator_seconds: float = math.nan  # median: the next epoch's iterator and its first batch, full data
    # How often fit's own (shortened) boundaries missed the autotune wake-up, and how long a miss lasts at full age.
    missed: int = 0
    boundaries: int = 0
    miss_seconds: float = math.nan  # median over the probes: full age -> the autotune thread's next wake-up
    hold_cpu_seconds: float = math.nan  # largest CPU a probe used while it held its iterator (what it cost others)
    age_seconds: float = math.nan  # median age of the destroyed iterators
    # A strategy that keeps one iterator destroys it once, when fit ends: its probes' own destruction of that.
    teardown_probes: int = 0
    teardown_waits: int = 0
    teardown_seconds: tuple = (math.nan, math.nan)  # median, largest
    teardown: FullTeardown = FullTeardown()  # fit's teardown at the full setting, once per fit


def teardown_waits(trials: pd.DataFrame) -> tuple[int, int, float]:
    """Of the trials' own fits: (teardowns that waited idle, teardowns recorded, the longest): idle (the process CPU
    subtracted) over TEARDOWN_IDLE_WAIT_SECONDS."""
    if not {"fit_teardown_seconds", "fit_teardown_cpu_seconds"} <= set(trials.columns):
        return 0, 0, math.nan
    wall = pd.to_numeric(trials["fit_teardown_seconds"], errors="coerce")
    cpu = pd.to_numeric(trials["fit_teardown_cpu_seconds"], errors="coerce").fillna(0.0)
    recorded = wall.notna()
    return int((wall - cpu > TEARDOWN_IDLE_WAIT_SECONDS)[recorded].sum()), int(recorded.sum()), (
        float(wall[recorded].max()) if recorded.any() else math.nan)


def full_teardown(trials: pd.DataFrame, probes: pd.DataFrame, new_iterator_each_epoch: bool, shortened: bool) -> FullTeardown:
    """One strategy's FullTeardown: `trials` its finished trials, `probes` its boundary.csv rows."""
    waits, fits, _ = teardown_waits(trials)
    if not shortened:
        own = pd.to_numeric(trials.get("fit_teardown_seconds", pd.Series(dtype=float)), errors="coerce").dropna()
        return FullTeardown(waits, fits, measured_seconds=float(own.mean()) if len(own) else math.nan)
    # Probes older than `destroyed_at` were all at an epoch boundary; those of one kept iterator then watched no
    # wake-up (their next_wakeup_seconds is empty): not measured.
    where = epoch_probes(probes) if new_iterator_each_epoch else teardown_probes(probes)
    watched = miss_seconds(where).notna()
    miss = miss_seconds(where)[watched]
    # The age the watching probes held their iterators to (each was destroyed later, after the wake-up it waited for).
    ages = pd.to_numeric(where.get("target_age_seconds", pd.Series(math.nan, index=where.index)), errors="coerce")[watched].dropna()
    intervals = wakeup_intervals(where)[watched].dropna()
    interval = float(intervals.median()) if len(intervals) else math.nan
    teardown = FullTeardown(waits, fits, float(miss.median()) if len(miss) else math.nan,
                            float(ages.median()) if len(ages) else math.nan, interval_seconds=interval)
    if new_iterator_each_epoch or math.isnan(interval):
        return teardown
    # A kept iterator is FULL_FIT_EPOCHS epochs old when fit ends, the first epoch's warm-up included: its age is
    # projected less well than an epoch's. In the full-size check of reports/full-size-teardown, each fit's real age
    # lay 6 s below to 36 s above its strategy's probes' median age in reports/all-30min-session11 - most of the 60-s
    # interval between wake-ups there - and its wait was the rest of that interval at its own age (docs/RESULTS.md,
    # "fit's teardown at full size"). So the wait is averaged over the interval the age falls in: half of it.
    return dataclasses.replace(teardown, miss_seconds=interval / 2, averaged=True)


def epoch_probes(probes: pd.DataFrame) -> pd.DataFrame:
    """The probes of a destruction at an epoch boundary (all of them in files written before `destroyed_at`)."""
    if "destroyed_at" not in probes.columns:
        return probes
    return probes[probes["destroyed_at"].fillna(EPOCH_BOUNDARY) == EPOCH_BOUNDARY]


def teardown_probes(probes: pd.DataFrame) -> pd.DataFrame:
    if "destroyed_at" not in probes.columns:
        return probes.iloc[0:0]
    return probes[probes["destroyed_at"] == END_OF_FIT]


def full_steps(train_size: int, scale: int, batch_size: int) -> int:
    return steps_per_epoch(train_size * scale, batch_size)


def measured_boundary_seconds(rows: pd.DataFrame) -> pd.Series:
    """Per steady epoch row: the wait before its first step and after its last."""
    before = pd.to_numeric(rows.get("before_first_step_seconds", pd.Series(0.0, index=rows.index)), errors="coerce")
    after = pd.to_numeric(rows.get("after_last_step_seconds", pd.Series(0.0, index=rows.index)), errors="coerce")
    return before.fillna(0.0) + after.fillna(0.0)


def full_boundary(rows: pd.DataFrame, probes: pd.DataFrame, new_iterator_each_epoch: bool, shortened: bool) -> FullBoundary:
    """The boundary the projection adds for one strategy: `rows` its steady epochs, `probes` its boundary.csv rows."""
    own = float(measured_boundary_seconds(rows).mean()) if len(rows) else math.nan
    if not shortened:
        return FullBoundary(OWN_EPOCHS, own)
    if not new_iterator_each_epoch:
        ends = teardown_probes(probes)["destroy_seconds"].astype(float)
        return FullBoundary(
            ONE_ITERATOR, own, teardown_probes=int(len(ends)), teardown_waits=int((ends > WAIT_SECONDS).sum()),
            teardown_seconds=(float(ends.median()), float(ends.max())) if len(ends) else (math.nan, math.nan),
        )
    probes = epoch_probes(probes)
    if probes.empty:
        return FullBoundary(NOT_PROBED, own)
    destroy = probes["destroy_seconds"].astype(float)
    cpu = probes["destroy_cpu_seconds"].astype(float)
    missed = missed_wakeups(rows)
    return FullBoundary(
        source=PROBED,
        seconds=float(block_boundaries(rows, probes).mean()),
        missed=int(missed.sum()),
        boundaries=int(missed.count()),
        miss_seconds=float(miss_seconds(probes).median()),
        probes=int(len(probes)),
        waits=int((destroy > WAIT_SECONDS).sum()),
        destroy_seconds=(float(destroy.median()), float(destroy.max())),
        destroy_busy_share=float(cpu.sum() / destroy.sum()) if destroy.sum() > 0 else math.nan,
        next_iterator_seconds=float(probes["next_iterator_seconds"].astype(float).median()),
        hold_cpu_seconds=float(probes["hold_cpu_seconds"].astype(float).max()),
        age_seconds=float(probes["age_seconds"].astype(float).median()),
    )


def probe_seconds(probes: pd.DataFrame) -> pd.Series:
    """Per probe: the boundary it measured - the next iterator and its first batch, plus destroying the used one."""
    return probes["next_iterator_seconds"].astype(float) + probes["destroy_seconds"].astype(float)


def missed_wakeups(rows: pd.DataFrame) -> pd.Series:
    """Per steady epoch row: whether its boundary (before its first step) waited idle - missed the wake-up."""
    wall = pd.to_numeric(rows.get("before_first_step_seconds", pd.Series(0.0, index=rows.index)), errors="coerce")
    cpu = pd.to_numeric(rows.get("before_first_step_cpu_seconds", pd.Series(0.0, index=rows.index)), errors="coerce")
    return (wall - cpu.fillna(0.0) > IDLE_WAIT_SECONDS).where(wall.notna())


def wakeup_intervals(probes: pd.DataFrame) -> pd.Series:
    """Per probe: the interval between the autotune thread's wake-ups around the full age (NaN where either was not
    seen)."""
    return previous_wakeup_seconds(probes) + miss_seconds(probes)


def previous_wakeup_seconds(probes: pd.DataFrame) -> pd.Series:
    """Per probe: from the autotune thread's last wake-up before the full age to that age (NaN where it was not
    placed, as in files written before the probes placed it)."""
    return pd.to_numeric(probes.get("previous_wakeup_seconds", pd.Series(math.nan, index=probes.index)), errors="coerce")


def miss_seconds(probes: pd.DataFrame) -> pd.Series:
    """Per probe: from the full age to the autotune thread's next wake-up (NaN where it was not seen)."""
    return pd.to_numeric(probes.get("next_wakeup_seconds", pd.Series(math.nan, index=probes.index)), errors="coerce")


def block_boundaries(rows: pd.DataFrame, probes: pd.DataFrame) -> pd.Series:
    """Per block (index: repeat) of a strategy that makes a new iterator each epoch: its boundary at full age -
    the probe's next iterator and first batch and its destruction when that did not wait, plus the share of the
    block's own boundaries that missed the wake-up times how long a miss lasts at full age. Without any wake-up
    seen, the probes' own figure (next iterator and destruction, waited or not)."""
    blocks = pd.Index(sorted(rows["repeat"].astype(int).unique()), name="repeat")
    by_block = lambda values: pd.Series(values.to_numpy(float), index=probes["repeat"].astype(int)).groupby(level=0).mean()  # noqa: E731
    waits = miss_seconds(probes)
    if waits.isna().all():
        probed = by_block(probe_seconds(probes))
        return probed.reindex(blocks).fillna(probed.mean())
    destroy = probes["destroy_seconds"].astype(float)
    quick = by_block(probes["next_iterator_seconds"].astype(float) + destroy.where(destroy <= WAIT_SECONDS, 0.0))
    waits = by_block(waits)
    share = pd.Series(missed_wakeups(rows).astype(float).to_numpy(), index=rows["repeat"].astype(int)).groupby(level=0).mean()
    return (quick.reindex(blocks).fillna(quick.mean())
            + share.reindex(blocks).fillna(share.mean()) * waits.reindex(blocks).fillna(waits.mean()))


def projected_epochs(rows: pd.DataFrame, probes: pd.DataFrame, boundary: FullBoundary, steps: int) -> pd.DataFrame:
    """Per block of one strategy: `steps_seconds` (full steps x steady step time), `boundary_seconds` and their
    sum `projected_seconds`. `rows` are its steady epochs (with `steady_step_seconds`)."""
    if rows.empty:
        return pd.DataFrame(columns=["repeat", "steps_seconds", "boundary_seconds", "projected_seconds"])
    per_block = rows.groupby("repeat").agg(step=("steady_step_seconds", "median"))
    if boundary.source == PROBED:
        wait = block_boundaries(rows, epoch_probes(probes)).reindex(per_block.index)
    else:
        wait = pd.Series(measured_boundary_seconds(rows).to_numpy(), index=rows["repeat"]).groupby(level=0).mean()
        wait = wait.reindex(per_block.index)
    table = pd.DataFrame({
        "repeat": per_block.index,
        "steps_seconds": steps * per_block["step"].to_numpy(float),
        "boundary_seconds": wait.to_numpy(float),
    })
    return table.assign(projected_seconds=table["steps_seconds"] + table["boundary_seconds"])


def per_block(table: pd.DataFrame, blocks) -> list:
    """The projected epochs as stats.compare takes them: one value per block, in `blocks` order (empty if none)."""
    values = table.set_index("repeat")["projected_seconds"] if len(table) else pd.Series(dtype=float)
    return [np.asarray([values[block]], float) if block in values.index else np.asarray([], float) for block in blocks]
