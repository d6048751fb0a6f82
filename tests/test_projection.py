"""The projected full-size epoch and the regime rules, on synthetic result tables with a known answer (no
training, no timing): full steps x the steady step time + the boundary at full age, paired per block."""

import math

import numpy as np
import pandas as pd
import pytest

from study import analysis, projection
from study.schema import BOUNDARY_PROBE_COLUMNS, RESULT_COLUMNS, STEP_COLUMNS, TRIAL_COLUMNS

FULL = analysis.FullSetting(steps={None: 625}, shortened=True)
STEPS = 10  # the shortened epoch the synthetic study trained
# strategy -> (seconds per step, the short epochs' own wait before their first step, fit makes a new iterator each epoch,
#              pipeline-alone examples per second); the model consumes 32 / 0.1 = 320 examples per second.
PLANTED = {
    "arrays": (0.100, 2.0, True, 50_000.0),
    "tfdata-gather": (0.100, 0.0, False, 40_000.0),
    "tfdata": (0.110, 2.0, True, 150_000.0),
    "slow-pipeline": (0.150, 0.0, False, 200.0),
    "compute-bound": (0.100, 0.0, False, None),
}
# The short epochs' wait where it differs from PLANTED's, per (strategy, block): (wall, process CPU over it). tfdata's
# block 2 wait is busy (filling buffers: no missed wake-up), its block 4 has none.
SHORT_WAITS = {("tfdata", 2): (2.0, 2.0), ("tfdata", 4): (0.0, 0.0)}
# Probes at full age per block: (next iterator + first batch, destroying the used one, full age -> the autotune
# thread's next wake-up); block 3 lost its arrays probe. arrays' block 2 probe waited itself.
PROBES = {"arrays": {1: (0.5, 0.2, 20.0), 2: (0.5, 19.0, 30.0), 4: (0.5, 0.2, 10.0)},
          "tfdata": {1: (0.4, 0.1, 1.0), 2: (0.4, 0.1, 1.0), 3: (0.4, 0.1, 1.0), 4: (0.4, 0.1, 1.0)},
          "tfdata-gather": {1: (0.0, 25.0, 5.0), 2: (0.0, 0.2, 5.0)}}  # one iterator: its probes are of fit's end


def synthetic(blocks=4, epochs=2, seed=0):
    rng = np.random.default_rng(seed)
    results, steps, trials, probes = [], [], [], []
    for block in range(1, blocks + 1):
        pace = 1.0 + 0.2 * block  # drift between blocks cancels in paired ratios
        for strategy, (step, wait, new_each, rate) in PLANTED.items():
            wait, wait_cpu = SHORT_WAITS.get((strategy, block), (wait, 0.01))
            for epoch in range(1, epochs + 1):
                seconds = [step * pace * (1 + 0.002 * rng.standard_normal()) for _ in range(STEPS)]
                wall = sum(seconds) + wait
                results.append(dict(strategy=strategy, repeat=block, epoch=epoch, warmup=epoch == 1, started_at=1e6,
                                    epoch_seconds=wall, cpu_seconds=sum(seconds) * 1.5, steps=STEPS, examples=STEPS * 32,
                                    examples_per_second=STEPS * 32 / wall, before_first_step_seconds=wait,
                                    before_first_step_cpu_seconds=wait_cpu, after_last_step_seconds=0.0,
                                    after_last_step_cpu_seconds=0.0))
                steps += [dict(strategy=strategy, repeat=block, epoch=epoch, step=i + 1, step_seconds=s) for i, s in enumerate(seconds)]
            trials.append(dict(strategy=strategy, repeat=block, position=len(trials) + 1, status="ok", wall_seconds=10.0,
                               cpu_user_seconds=1.0, cpu_system_seconds=0.1, peak_rss_mb=100, val_accuracy=0.5,
                               pipeline_examples=None if rate is None else 3200, pipeline_seconds=None if rate is None else 3200 / rate,
                               pipeline_cpu_seconds=None if rate is None else 0.02, pipeline_batches=None if rate is None else 100,
                               new_iterator_each_epoch=new_each))
            if block in PROBES.get(strategy, {}):
                next_iterator, destroy, next_wakeup = PROBES[strategy][block]
                where = "epoch boundary" if new_each else "end of fit"
                probes.append(dict(strategy=strategy, repeat=block, destroyed_at=where, full_steps=625, target_age_seconds=62.5, age_seconds=63.0,
                                   destroy_seconds=destroy, destroy_cpu_seconds=0.02 * destroy, next_iterator_seconds=next_iterator,
                                   next_iterator_cpu_seconds=next_iterator, drain_seconds=1.0, hold_cpu_seconds=0.01,
                                   next_wakeup_seconds=next_wakeup))
    frame = lambda rows, columns: pd.DataFrame(rows, columns=columns).assign(sweep_value=None)  # noqa: E731
    return (frame(results, RESULT_COLUMNS), frame(steps, STEP_COLUMNS), frame(trials, TRIAL_COLUMNS),
            frame(probes, BOUNDARY_PROBE_COLUMNS))


@pytest.fixture(scope="module")
def found():
    results, steps, trials, probes = synthetic()
    result = analysis.analyse(results, trials, "arrays", steps=steps, boundary=probes, full=FULL)
    return {f.strategy: f for f in result.findings}, result


def test_full_steps_of_the_setting():
    assert projection.full_steps(20_000, 1, 32) == 625 and projection.full_steps(20_001, 1, 32) == 626
    assert projection.full_steps(20_000, 2, 32) == 1250


def test_a_probed_strategy_adds_its_short_epochs_misses_at_the_wait_its_probes_watched(found):
    findings, _ = found
    arrays = findings["arrays"]
    assert arrays.full_boundary.source == projection.PROBED
    assert arrays.full_boundary.probes == 3 and arrays.full_boundary.waits == 1  # the probes' own destructions
    # Every short boundary of arrays missed the wake-up (2 s idle): each block adds its probe's next iterator and
    # destruction (block 2's waited: left out), plus the wait to the next wake-up at full age (block 3: the means).
    assert (arrays.full_boundary.missed, arrays.full_boundary.boundaries) == (4, 4)
    assert arrays.full_boundary.miss_seconds == pytest.approx(20.0)  # median of 20, 30, 10
    waits = (0.7 + 20.0, 0.5 + 30.0, np.mean([0.7, 0.5, 0.7]) + 20.0, 0.7 + 10.0)
    assert arrays.full_boundary.seconds == pytest.approx(np.mean(waits))
    # Block b: 625 steps x 0.1 s x the block's pace (1.2, 1.4, 1.6, 1.8) + that block's boundary.
    expected = [625 * 0.1 * pace + wait for pace, wait in zip((1.2, 1.4, 1.6, 1.8), waits)]
    assert arrays.projected_seconds.estimate == pytest.approx(np.median(expected), rel=0.01)


def test_only_idle_short_boundaries_count_as_missed_wakeups(found):
    findings, _ = found
    tfdata = findings["tfdata"].full_boundary
    # Blocks 1 and 3 waited 2 s idle; block 2 waited 2 s busy, block 4 not at all.
    assert (tfdata.missed, tfdata.boundaries) == (2, 4)
    assert tfdata.seconds == pytest.approx(np.mean([0.5 + 1.0, 0.5, 0.5 + 1.0, 0.5]))


def test_a_short_idle_wait_is_a_miss_and_a_busy_or_instant_boundary_is_not():
    # A boundary just before a wake-up waits only until it (0.2 s, idle: benchmarks/short_misses.py); one that does
    # not miss takes a few hundredths of a second; filling buffers is busy, not a miss; a row without the figure is
    # unknown.
    rows = pd.DataFrame(dict(before_first_step_seconds=[0.2, 0.03, 2.0, 4.0, math.nan],
                             before_first_step_cpu_seconds=[0.0, 0.0, 2.0, 0.02, math.nan]))
    assert projection.missed_wakeups(rows).tolist()[:4] == [True, False, False, True]
    assert math.isnan(projection.missed_wakeups(rows).iloc[4])


def test_fits_own_teardowns_count_as_waits_when_idle_over_a_fifth_of_a_second():
    from study.projection import teardown_waits

    # waited idle; a short miss, just before a wake-up; Grain joining its workers (0.08-0.17 s idle in every fit); a
    # busy one; one that did not wait; one not recorded
    trials = pd.DataFrame(dict(fit_teardown_seconds=[4.9, 0.3, 0.15, 2.0, 0.01, math.nan],
                               fit_teardown_cpu_seconds=[0.01, 0.0, 0.0, 1.9, 0.005, math.nan]))
    assert teardown_waits(trials) == (2, 5, 4.9)
    waits, recorded, longest = teardown_waits(trials.drop(columns="fit_teardown_cpu_seconds"))  # an older trials.csv
    assert (waits, recorded) == (0, 0) and math.isnan(longest)


def test_without_wakeups_seen_the_probes_own_destruction_stands():
    results, steps, trials, probes = synthetic()
    older = probes.drop(columns="next_wakeup_seconds")  # a boundary.csv written before the probes watched wake-ups
    result = analysis.analyse(results, trials, "arrays", steps=steps, boundary=older, full=FULL)
    arrays = next(f for f in result.findings if f.strategy == "arrays").full_boundary
    assert math.isnan(arrays.miss_seconds)
    assert arrays.seconds == pytest.approx(np.mean([0.7, 19.5, np.mean([0.7, 19.5, 0.7]), 0.7]))


def test_a_strategy_that_keeps_one_iterator_adds_its_own_measured_boundary(found):
    findings, _ = found
    gather = findings["tfdata-gather"]
    assert gather.full_boundary.source == projection.ONE_ITERATOR and gather.full_boundary.seconds == pytest.approx(0.0)
    assert gather.projected_steps_seconds == pytest.approx(625 * 0.1 * 1.5, rel=0.01)  # median pace of blocks 1-4
    # Its wait moved to the end of fit: shown once per fit, never added to an epoch.
    assert (gather.full_boundary.teardown_probes, gather.full_boundary.teardown_waits) == (2, 1)
    assert gather.full_boundary.teardown_seconds == (pytest.approx(12.6), pytest.approx(25.0))


def with_teardowns(trials, idle_seconds: dict):
    """The trials' own fits' teardowns: per strategy, the wall time of each block's (idle: 0.01 s of CPU)."""
    trials = trials.copy()
    for strategy, seconds in idle_seconds.items():
        mine = trials["strategy"] == strategy
        trials.loc[mine, "fit_teardown_seconds"] = seconds[:int(mine.sum())]
        trials.loc[mine, "fit_teardown_cpu_seconds"] = 0.01
    return trials


def test_fits_teardown_at_full_size_is_how_often_it_waited_times_the_wait_at_a_full_fits_age():
    results, steps, trials, probes = synthetic()
    # tfdata-gather keeps one iterator: 2 of its 4 fits' teardowns waited idle; its probes, held to a full fit's age,
    # saw the next wake-up 5 s after it. arrays makes one each epoch: its fit's teardown destroys the last epoch's
    # iterator, as old as a boundary's, so its boundary probes' wake-ups (20, 30, 10 s) say how long a wait lasts.
    trials = with_teardowns(trials, {"tfdata-gather": [4.0, 0.1, 6.0, 0.1], "arrays": [3.0, 3.0, 3.0, 0.1],
                                     "tfdata": [0.1, 0.1, 0.1, 0.1]})
    result = analysis.analyse(results, trials, "arrays", steps=steps, boundary=probes, full=FULL)
    findings = {f.strategy: f.full_boundary.teardown for f in result.findings}
    gather, arrays, tfdata = findings["tfdata-gather"], findings["arrays"], findings["tfdata"]
    assert (gather.waits, gather.fits, gather.miss_seconds) == (2, 4, 5.0) and gather.seconds == pytest.approx(2.5)
    assert gather.age_seconds == pytest.approx(62.5)  # the age the probes held to, not when they destroyed
    assert (arrays.waits, arrays.fits) == (3, 4) and arrays.seconds == pytest.approx(0.75 * 20.0)
    assert tfdata.waits == 0 and tfdata.seconds == 0.0  # never waited: nothing to add, however long a wait would be
    # No fit's teardown recorded, or no wake-up watched (a boundary.csv of before the probes watched one): not measured.
    assert math.isnan(findings["slow-pipeline"].seconds)
    unwatched = analysis.analyse(results, trials, "arrays", steps=steps, boundary=probes.drop(columns="next_wakeup_seconds"),
                                 full=FULL)
    assert all(math.isnan(f.full_boundary.teardown.seconds) for f in unwatched.findings)


def test_a_kept_iterators_teardown_waits_half_the_interval_between_the_wake_ups_around_its_age():
    results, steps, trials, probes = synthetic()
    trials = with_teardowns(trials, {"tfdata-gather": [4.0, 0.1, 6.0, 0.1], "arrays": [3.0, 3.0, 3.0, 0.1]})
    # The probes also placed the wake-up before the full age: tfdata-gather's 55 s before it in both blocks (the
    # thread wakes 60 s apart there), arrays' 21 s before it in every block.
    placed = probes.assign(previous_wakeup_seconds=np.where(probes["strategy"] == "tfdata-gather", 55.0, 21.0))
    result = analysis.analyse(results, trials, "arrays", steps=steps, boundary=placed, full=FULL)
    findings = {f.strategy: f.full_boundary.teardown for f in result.findings}
    gather, arrays = findings["tfdata-gather"], findings["arrays"]
    # One iterator for all of fit: its age at fit's end is known less well than the interval, so a wait lasts its
    # mean over that interval, 30 s - not the 5 s from the probes' own age to the next wake-up.
    assert gather.interval_seconds == pytest.approx(60.0) and gather.averaged
    assert gather.miss_seconds == pytest.approx(30.0) and gather.seconds == pytest.approx(2 / 4 * 30.0)
    # A new iterator each epoch: the last epoch's, as old as a boundary's, whose age is projected per block - the
    # boundary probes' own wait to the next wake-up stands, as for the epoch boundary.
    assert not arrays.averaged and arrays.interval_seconds == pytest.approx(21.0 + 20.0)
    assert arrays.seconds == pytest.approx(0.75 * 20.0)


def test_a_study_of_full_size_fits_reports_its_own_teardowns():
    results, steps, trials, _ = synthetic()
    trials = with_teardowns(trials, {"arrays": [30.0, 0.1, 20.0, 0.1]})
    result = analysis.analyse(results, trials, "arrays", steps=steps, full=analysis.FullSetting({None: 625}, False))
    arrays = next(f for f in result.findings if f.strategy == "arrays").full_boundary.teardown
    assert arrays.seconds == pytest.approx(12.55) and (arrays.waits, arrays.fits) == (2, 4)


def test_the_projected_verdict_is_paired_per_block_and_names_the_faster_strategy(found):
    findings, result = found
    comparison = findings["tfdata-gather"].projected_vs_baseline
    assert comparison.verdict == "faster" and comparison.blocks == 4
    # Steps alike, so in steps the two are equivalent, while the projected epoch is decided by the boundary.
    assert findings["tfdata-gather"].steps_vs_baseline.verdict == "equivalent"
    # On its own 95% interval it is faster; but it is the best-looking of 3 alternatives, and with all 3 counted
    # (Bonferroni, 98.3% each) its 4 blocks (log ratios 0.09-0.30) do not decide: the baseline stays, and says why.
    recommended = result.recommendations[None]
    assert recommended.strategy == "arrays" and recommended.alternatives == 3 and recommended.switch is None
    assert [c.strategy for c in recommended.faster_alone] == ["tfdata-gather"]
    assert {c.strategy for c in recommended.against} == {"tfdata-gather", "tfdata", "slow-pipeline"}


def test_the_only_alternative_decided_faster_is_recommended():
    results, steps, trials, probes = (frame[frame["strategy"].isin(["arrays", "tfdata-gather", "compute-bound"])]
                                      for frame in synthetic())
    result = analysis.analyse(results, trials, "arrays", steps=steps, boundary=probes, full=FULL)
    recommended = result.recommendations[None]
    assert recommended.strategy == "tfdata-gather" and recommended.alternatives == 1
    assert recommended.switch.verdict == "faster" and not recommended.faster_alone
    assert [c.strategy for c in recommended.against] == ["arrays"]


def test_the_short_epochs_wait_is_not_what_the_projection_adds(found):
    findings, _ = found
    # arrays' own 10-step epochs waited 2 s; at full age a miss waits 10-30 s: the projection uses those.
    assert findings["arrays"].boundary.before_first_step_seconds == pytest.approx(2.0)
    assert findings["arrays"].full_boundary.seconds > 10


def test_each_cause_follows_its_measurement(found):
    findings, _ = found
    assert findings["tfdata-gather"].causes == (analysis.AT_LIMIT,)
    # Steps 10% slower than the limit's although its pipeline alone outruns the model by far (half its boundaries
    # miss the wake-up, but at 1 s each a noticeable wait it is not).
    assert findings["tfdata"].causes == (analysis.SHARING_CPU,)
    assert findings["tfdata"].pipeline_cpu_ms_per_batch == pytest.approx(0.2)
    assert findings["tfdata"].extra_cpu_ms_per_step > 0
    # Its pipeline alone (200 examples/s) is slower than the model consumes (320/s).
    assert findings["slow-pipeline"].causes == (analysis.INPUT_BOUND,)
    # arrays steps like the limit, but waits 20 s at the boundary of a 62-112 s epoch.
    assert findings["arrays"].causes == (analysis.WAITS_AT_BOUNDARY,)
    assert findings["compute-bound"].causes == (analysis.AT_LIMIT,)


def test_a_study_of_full_size_epochs_projects_its_own_epochs():
    results, steps, trials, _ = synthetic()
    result = analysis.analyse(results, trials, "arrays", steps=steps, full=analysis.FullSetting({None: 625}, False))
    arrays = next(f for f in result.findings if f.strategy == "arrays")
    assert arrays.full_boundary.source == projection.OWN_EPOCHS
    assert arrays.projected_seconds.estimate == pytest.approx(arrays.epoch_seconds.estimate, rel=0.01)


def test_without_probes_a_shortened_study_says_so():
    results, steps, trials, _ = synthetic()
    result = analysis.analyse(results, trials, "arrays", steps=steps, full=FULL)
    arrays = next(f for f in result.findings if f.strategy == "arrays")
    assert arrays.full_boundary.source == projection.NOT_PROBED
    assert not math.isnan(arrays.projected_seconds.estimate)


def with_batch_shapes(trials, shapes, diagnostic=None):
    """The trials with the shape each strategy's step was traced for, and the limit's diagnostic per block:
    (its steps with batches of unknown size, its own beside them) in seconds per step."""
    trials = trials.assign(batch_shape=trials["strategy"].map(shapes))
    if diagnostic is not None:
        limit = trials["strategy"] == "compute-bound"
        changed, own = diagnostic
        trials["diagnostic"] = trials["diagnostic"].astype(object)
        trials.loc[limit, "diagnostic"] = "batches of unknown size"
        trials.loc[limit, "diagnostic_step_seconds"] = [changed * (1 + 0.01 * b) for b in range(int(limit.sum()))]
        trials.loc[limit, "diagnostic_reference_step_seconds"] = [own * (1 + 0.01 * b) for b in range(int(limit.sum()))]
        trials.loc[limit, "diagnostic_cpu_seconds_per_step"] = 2 * changed
        trials.loc[limit, "diagnostic_reference_cpu_seconds_per_step"] = 2 * own
    return trials


SHAPES = {"arrays": "32x80", "tfdata-gather": "32x80", "tfdata": "?x80", "slow-pipeline": "?x80", "compute-bound": "32x80"}


def test_a_step_traced_for_any_batch_size_is_the_cause_when_the_limits_diagnostic_shows_it_costs():
    results, steps, trials, probes = synthetic()
    # The limit's own batches, their size unknown, step 10% slower than beside them at their static size.
    trials = with_batch_shapes(trials, SHAPES, diagnostic=(0.110, 0.100))
    result = analysis.analyse(results, trials, "arrays", steps=steps, boundary=probes, full=FULL)
    findings = {f.strategy: f for f in result.findings}
    diagnostic = result.diagnostics[None]
    assert diagnostic.steps.verdict == "slower" and diagnostic.steps.ratio.estimate == pytest.approx(1.1, rel=1e-6)
    assert findings["tfdata"].unknown_batch_size and findings["tfdata"].causes == (analysis.UNKNOWN_BATCH,)
    # Static batches that step like the limit stay at the limit; an input-bound feed stays input-bound.
    assert findings["tfdata-gather"].causes == (analysis.AT_LIMIT,)
    assert findings["slow-pipeline"].causes == (analysis.INPUT_BOUND,)


def test_a_step_traced_for_any_batch_size_whose_own_steps_match_the_limits_is_at_the_limit():
    results, steps, trials, probes = synthetic()
    trials = with_batch_shapes(trials, {**SHAPES, "tfdata-gather": "?x80"}, diagnostic=(0.110, 0.100))
    result = analysis.analyse(results, trials, "arrays", steps=steps, boundary=probes, full=FULL)
    gather = next(f for f in result.findings if f.strategy == "tfdata-gather")
    assert gather.unknown_batch_size and gather.steps_vs_limit.verdict == "equivalent"
    assert gather.causes == (analysis.AT_LIMIT,)


def test_the_why_line_says_slowed_only_where_the_strategys_own_steps_are_decidedly_slower_than_the_limits():
    from types import SimpleNamespace

    from study.report import why

    def line(verdict):
        steps = SimpleNamespace(verdict=verdict, ratio=SimpleNamespace(estimate=1.08, low=1.02, high=1.15))
        finding = SimpleNamespace(strategy="tfdata", causes=(analysis.UNKNOWN_BATCH,), steps_vs_limit=steps,
                                  batch_shape="?x80", pipeline_cpu_ms_per_batch=0.44)
        return why.why_lines([finding])[1]

    assert line("slower").startswith("- `tfdata`: slowed by batches of unknown size (its step traced for ?x80")
    undecided = line("undecided")
    assert "slowed by" not in undecided and "not yet told apart from the limit's" in undecided and "?x80" in undecided
    assert "give its batches a static size" in undecided


def test_strategies_whose_only_finding_is_undecided_steps_share_one_why_line():
    from types import SimpleNamespace

    from study.report import why

    undecided = [SimpleNamespace(strategy=name, causes=(analysis.UNDECIDED_STEPS,)) for name in ("grain", "generator")]
    lines = why.why_lines(undecided)
    assert lines[1:] == ["- Steps not yet told apart from the limit's (more blocks would decide), and no other cause "
                         "measured: `grain`, `generator`."]


def test_without_a_costly_diagnostic_the_unknown_size_is_not_blamed():
    results, steps, trials, probes = synthetic()
    for diagnostic in (None, (0.100, 0.100)):  # not measured; measured and costing nothing
        shaped = with_batch_shapes(trials, SHAPES, diagnostic=diagnostic)
        result = analysis.analyse(results, shaped, "arrays", steps=steps, boundary=probes, full=FULL)
        tfdata = next(f for f in result.findings if f.strategy == "tfdata")
        assert tfdata.batch_shape == "?x80" and tfdata.causes == (analysis.SHARING_CPU,)


def test_page_faults_per_step_are_the_median_of_the_steady_epochs_and_unknown_before_they_were_recorded():
    results, steps, trials, probes = synthetic()
    # Each steady epoch (epoch 2) of tfdata faults 100 x its block per step; the warm-up epochs fault far more.
    results["minor_faults"] = np.where(results["epoch"] == 1, 10**6, STEPS * 100 * results["repeat"])
    result = analysis.analyse(results, trials, "arrays", steps=steps, boundary=probes, full=FULL)
    tfdata = next(f for f in result.findings if f.strategy == "tfdata")
    assert tfdata.page_faults_per_step == pytest.approx(250.0)  # median of 100, 200, 300, 400
    older = analysis.analyse(results.drop(columns="minor_faults"), trials, "arrays", steps=steps, boundary=probes, full=FULL)
    assert all(math.isnan(f.page_faults_per_step) for f in older.findings)


def with_faults(results, trials, faults_per_step: dict, threshold_fixed: dict):
    """Each strategy's steady epochs faulting `faults_per_step` pages per step, and whether its trials recorded that
    their fit left malloc's mmap threshold fixed low."""
    results = results.assign(minor_faults=results["strategy"].map(faults_per_step) * results["steps"])
    return results, trials.assign(mmap_threshold_fixed=trials["strategy"].map(threshold_fixed))


FAULTS = {"arrays": 100, "tfdata-gather": 4000, "tfdata": 10_000, "slow-pipeline": 10_000, "compute-bound": 4000}


def test_steps_slower_than_the_limits_that_fault_far_more_pages_are_slowed_by_memory_faulted_in_again():
    results, steps, trials, probes = synthetic()
    results, trials = with_faults(results, trials, FAULTS, {name: name == "tfdata" for name in FAULTS})
    result = analysis.analyse(results, trials, "arrays", steps=steps, boundary=probes, full=FULL)
    findings = {f.strategy: f for f in result.findings}
    # tfdata steps 10% slower than the limit with 2.5 times its faults per step: that, not sharing the CPU.
    assert findings["tfdata"].causes == (analysis.REFAULTS,) and findings["tfdata"].mmap_threshold_fixed is True
    assert findings["tfdata-gather"].mmap_threshold_fixed is False
    # Not slower, or input-bound: faults alone never make a cause.
    assert findings["tfdata-gather"].causes == (analysis.AT_LIMIT,)
    assert findings["slow-pipeline"].causes == (analysis.INPUT_BOUND,)
    # As many faults as the limit's: the slower steps are put down to sharing the CPU, as before.
    results, trials = with_faults(*synthetic()[::2], {**FAULTS, "tfdata": 5000}, {})
    same = analysis.analyse(results, trials, "arrays", steps=steps, boundary=probes, full=FULL)
    assert next(f for f in same.findings if f.strategy == "tfdata").causes == (analysis.SHARING_CPU,)


def test_a_study_from_before_the_threshold_was_recorded_knows_nothing_of_it():
    results, steps, trials, probes = synthetic()
    result = analysis.analyse(results, trials.drop(columns="mmap_threshold_fixed"), "arrays", steps=steps, boundary=probes, full=FULL)
    assert all(f.mmap_threshold_fixed is None for f in result.findings)


def test_the_why_line_and_the_fix_for_a_feed_whose_fit_fixed_mallocs_threshold():
    from study.report import answer, why

    results, steps, trials, probes = synthetic()
    results, trials = with_faults(results, trials, FAULTS, {name: name == "tfdata" for name in FAULTS})
    result = analysis.analyse(results, trials, "arrays", steps=steps, boundary=probes, full=FULL)
    line = next(text for text in why.why_lines(result.at(None)) if text.startswith("- `tfdata`"))
    assert "slowed by memory faulted in again every step" in line and "10,000 pages" in line and "4,000" in line
    assert "`from_generator`" in line and "128 KiB" in line
    usage = "\n".join(answer.usage_lines(result))
    assert "How to set malloc's mmap threshold back" in usage and "`tfdata`" in usage
    assert 'mallopt(-3, 32 * 1024 * 1024)' in usage and "callbacks=[MmapThresholdRestored()]" in usage
    # Where no fit fixed the threshold, the line says what was measured and shows no callback.
    results, trials = with_faults(*synthetic()[::2], FAULTS, {})
    plain = analysis.analyse(results, trials, "arrays", steps=steps, boundary=probes, full=FULL)
    line = next(text for text in why.why_lines(plain.at(None)) if text.startswith("- `tfdata`"))
    assert "slowed by memory faulted in again" in line and "from_generator" not in line
    assert "How to set malloc's" not in "\n".join(answer.usage_lines(plain))


def test_the_strategy_that_sets_the_threshold_back_is_compared_with_the_one_it_feeds_like():
    from study.report import why

    results, steps, trials, probes = synthetic()
    names = {"tfdata": "pydataset", "tfdata-gather": "pydataset-restored-malloc"}  # registered names, planted steps
    rename = lambda frame: frame.assign(strategy=frame["strategy"].replace(names))  # noqa: E731
    results, steps, trials, probes = rename(results), rename(steps), rename(trials), rename(probes)
    results, trials = with_faults(results, trials, {**FAULTS, "pydataset": 10_000, "pydataset-restored-malloc": 600},
                                  {"pydataset": True})
    result = analysis.analyse(results, trials, "arrays", steps=steps, boundary=probes, full=FULL)
    findings = {f.strategy: f for f in result.findings}
    against = findings["pydataset-restored-malloc"].steps_vs_unrestored
    assert against.baseline == "pydataset" and against.verdict == "faster"  # planted: 10% faster steps
    assert findings["pydataset"].steps_vs_unrestored is None
    line = next(text for text in why.why_lines(result.at(None)) if text.startswith("- `pydataset`"))
    assert "`pydataset-restored-malloc` does so in this study: 600 faults per step" in line
    assert "against `pydataset`'s in the same blocks -" in line and "(faster)" in line


def test_the_why_line_says_how_often_a_boundary_waits_and_how_long(found):
    from study.report.why import why_lines

    findings, _ = found
    line = next(line for line in why_lines(list(findings.values())) if line.startswith("- `arrays`"))
    assert ("waits 20.6 s per full-size epoch at its boundary, on average (4 of 4 boundaries waited, 20.0 s each at "
            "full age); give fit one iterator") in line
